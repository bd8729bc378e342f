"""Customer reports from the tracking page: which problems a customer may report about a parcel, and
turning a report (statement, photos, how to answer) into a claim with its files."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select

from app.claims.calendar import filing_window
from app.claims.evidence import Upload, attach, check_uploads
from app.claims.service import ClaimCandidate, current_rules, open_claim
from app.errors import InvalidInput
from app.extensions import db
from app.models import Claim, ClaimKind, Shipment
from app.models.types import utcnow
from app.notify.enqueue import customer_zone
from carriers.model import Status

ACTOR = "customer"
RULE = "customer_report"
# "Lost" is never the customer's call: detection opens it from the scans (app/claims/detection.py).
AFTER_DELIVERY = (ClaimKind.DAMAGED, ClaimKind.MISSING_CONTENTS, ClaimKind.WRONG_ITEM)
PHOTO_REQUIRED = frozenset(AFTER_DELIVERY)
_SHIPMENT_CLAIMS = (  # built once: the tracking page asks on every verified visit
    select(Claim)
    .where(Claim.shipment_id == bindparam("shipment_id"))
    .order_by(Claim.opened_at.desc(), Claim.id.desc())
)


@dataclass(frozen=True)
class ReportOptions:
    """What a customer may report now; `not_received_from` is set while it is too early for "not received"."""

    kinds: tuple[ClaimKind, ...]
    not_received_from: datetime | None = None


def report_options(shipment: Shipment, now: datetime | None = None) -> ReportOptions:
    """The kinds a customer may report: nothing before delivery; "not received" only from
    `dnr_min_days_after_delivery` days after the delivery scan until the carrier's window closes."""
    if shipment.status != Status.DELIVERED or shipment.delivered_at is None:
        return ReportOptions(kinds=())
    now = now or utcnow()
    rules = current_rules()
    carrier = rules.for_carrier(shipment.carrier)
    window = filing_window(ClaimKind.NOT_RECEIVED, shipment, carrier, customer_zone(shipment))
    if window.latest is not None and now >= window.latest:
        return ReportOptions(kinds=AFTER_DELIVERY)
    opens = shipment.delivered_at + timedelta(days=rules.detection.dnr_min_days_after_delivery)
    if now < opens:
        too_late = window.latest is not None and opens >= window.latest
        return ReportOptions(kinds=AFTER_DELIVERY, not_received_from=None if too_late else opens)
    return ReportOptions(kinds=(ClaimKind.NOT_RECEIVED, *AFTER_DELIVERY))


def reply_channels(shipment: Shipment) -> list[str]:
    """The channels the shipment has an address for (`email`, `sms`)."""
    return [
        channel
        for channel, address in (("email", shipment.customer_email), ("sms", shipment.customer_phone))
        if address
    ]


def shipment_claims(shipment: Shipment) -> list[Claim]:
    """Every claim about the shipment, newest first."""
    return list(db.session.scalars(_SHIPMENT_CLAIMS, {"shipment_id": shipment.id}))


def report_problem(
    shipment: Shipment,
    kind: ClaimKind,
    *,
    statement: str,
    uploads: list[Upload],
    reply_channel: str | None,
    now: datetime | None = None,
) -> Claim:
    """Open the customer's claim and store its photos; adds and flushes, never commits.

    Everything is checked before anything is written: InvalidInput for a kind not on offer, a missing
    photo or a bad file; Conflict (with `reference`) when a claim of that kind is already open.
    """
    now = now or utcnow()
    if kind not in report_options(shipment, now).kinds:
        raise InvalidInput(f"A customer cannot report {kind} now.", errors={"kind": "Not on offer."})
    if kind in PHOTO_REQUIRED and not uploads:
        raise InvalidInput(f"A {kind} report needs a photo.", errors={"files": "At least one photo."})
    if reply_channel is not None and reply_channel not in reply_channels(shipment):
        raise InvalidInput("No address for that channel.", errors={"reply_channel": "Not available."})
    check_uploads(uploads)
    evidence = {"reply_channel": reply_channel, "photos": len(uploads)}
    if shipment.delivered_at is not None:
        evidence["delivered_at"] = shipment.delivered_at.isoformat()
    candidate = ClaimCandidate(
        shipment, kind, rule=RULE, evidence=evidence, source="customer", statement=statement
    )
    claim = open_claim(candidate, actor=ACTOR, now=now)
    attach(claim, uploads, uploaded_by=ACTOR)
    db.session.flush()
    return claim
