"""What staff do to a shipment from the workbench, each written to the staff audit log.

Functions add and flush; the view commits. Bad input raises InvalidInput before anything is written.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select

from app.claims.service import ClaimCandidate, open_claims
from app.errors import InvalidInput
from app.extensions import db
from app.models import Claim, ClaimKind, Shipment, ShipmentTriage, Shop, StaffAuditEntry, StaffUser

MAX_SNOOZE_DAYS = 90
MAX_NOTE = 2000


def audit(shipment: Shipment, user: StaffUser, action: str, details: dict[str, Any], now: datetime) -> None:
    """Record who did what to the shipment, when, with the details."""
    db.session.add(
        StaffAuditEntry(
            shop_id=shipment.shop_id,
            shipment_id=shipment.id,
            staff_user_id=user.id,
            actor=user.email,
            action=action,
            details=details,
            created_at=now,
        )
    )


def triage_of(shipment: Shipment) -> ShipmentTriage:
    """The shipment's triage row, created on first use."""
    triage = db.session.get(ShipmentTriage, shipment.id)
    if triage is None:
        triage = ShipmentTriage(shipment_id=shipment.id)
        db.session.add(triage)
    return triage


def snooze_date(raw: str | None, today: date) -> date:
    """The snooze date from the form: after today, at most MAX_SNOOZE_DAYS ahead."""
    try:
        day = date.fromisoformat((raw or "").strip())
    except ValueError:
        raise InvalidInput("Choose a date to snooze until.", errors={"until": "A date."}) from None
    if not today < day <= today + timedelta(days=MAX_SNOOZE_DAYS):
        raise InvalidInput(
            f"Snooze until a day after today, at most {MAX_SNOOZE_DAYS} days ahead.",
            errors={"until": "Out of range."},
        )
    return day


def shop_zone(shop_id: int) -> ZoneInfo:
    """The shop's time zone (a snooze ends at the start of the day there)."""
    name = db.session.scalar(select(Shop.default_timezone).where(Shop.id == shop_id))
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def snooze(shipment: Shipment, until: date, user: StaffUser, now: datetime) -> None:
    """Out of the queue until the start of `until` in the shop's time zone."""
    triage_of(shipment).snoozed_until = datetime.combine(until, time(), shop_zone(shipment.shop_id))
    audit(shipment, user, "snooze", {"until": until.isoformat()}, now)


def assign(shipment: Shipment, assignee: StaffUser | None, user: StaffUser, now: datetime) -> None:
    """Give the shipment to a colleague who may see it (None: nobody)."""
    if assignee is not None and not assignee.may_see(shipment.shop_id):
        raise InvalidInput("That colleague does not work for this shop.", errors={"assignee": "Unknown."})
    triage_of(shipment).assignee_id = assignee.id if assignee else None
    audit(shipment, user, "assign", {"assignee": assignee.email if assignee else None}, now)


def mark_handled(shipment: Shipment, user: StaffUser, now: datetime) -> None:
    """Out of the queue until a new scan arrives or the risk state moves."""
    triage = triage_of(shipment)
    triage.handled_at, triage.handled_risk_state = now, shipment.risk_state
    audit(shipment, user, "handled", {"risk_state": shipment.risk_state}, now)


def note_text(raw: str | None) -> str:
    """The note from the form, stripped; InvalidInput when empty or too long."""
    text = (raw or "").strip()
    if not text:
        raise InvalidInput("Write a note first.", errors={"note": "Required."})
    if len(text) > MAX_NOTE or "\x00" in text:
        raise InvalidInput(f"A note is at most {MAX_NOTE} characters of text.", errors={"note": "Too long."})
    return text


def add_note(shipment: Shipment, text: str, user: StaffUser, now: datetime) -> None:
    """A note on the shipment (kept in the audit log, shown as notes)."""
    audit(shipment, user, "note", {"text": text}, now)


def claim_kind(raw: str | None) -> ClaimKind:
    """The claim kind from the form."""
    try:
        return ClaimKind(raw or "")
    except ValueError:
        raise InvalidInput("Choose what kind of claim to open.", errors={"kind": "Required."}) from None


def open_manual_claims(
    shipments: list[Shipment], kind: ClaimKind, statement: str | None, user: StaffUser, now: datetime
) -> tuple[list[Claim], list[Shipment]]:
    """Open a `kind` claim for each shipment through the claims service; (opened, already open)."""
    candidates = [
        ClaimCandidate(shipment, kind, "staff_workbench", source="staff", statement=statement)
        for shipment in shipments
    ]
    opened = open_claims(candidates, actor=f"staff:{user.email}", now=now)
    by_shipment = {claim.shipment_id: claim for claim in opened}
    for shipment in shipments:
        if claim := by_shipment.get(shipment.id):
            audit(shipment, user, "claim", {"reference": claim.reference, "kind": kind.value}, now)
    return opened, [s for s in shipments if s.id not in by_shipment]
