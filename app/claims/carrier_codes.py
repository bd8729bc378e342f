"""Carrier-side claim status carried in tracking: UPS reports its own investigation and claim in Track
events (129 opened, 130 in progress, 140 paid, 128 cancelled; 2G / 3Z / I9 not eligible). New events with
those codes move the shipment's filed claim, or warn staff that UPS will not pay."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select

from app.claims.lifecycle import record
from app.claims.submission import mirror
from app.extensions import db
from app.models import Claim, ClaimState, Shipment, TrackingEvent
from carriers.claims import CarrierClaimStatus, ClaimSignal, UpsClaimCode, ups_claim_code

ACTOR = "carrier:ups-tracking"
_FILED = (ClaimState.SUBMITTED, ClaimState.IN_REVIEW, ClaimState.NEEDS_INFORMATION)


def meaning(carrier_code: str) -> UpsClaimCode | None:
    """The claim meaning of a stored UPS event code (`type/statusCode/code`, empty parts left out)."""
    for part in carrier_code.split("/"):
        found = ups_claim_code(status_code=part) if part.isdigit() else ups_claim_code(code=part)
        if found is not None:
            return found
    return None


def mirror_tracking_codes(shipments: Sequence[Shipment], received_at: datetime) -> int:
    """Apply the claim codes among the events received at `received_at`; returns how many claims moved."""
    ids = [s.id for s in shipments if s.carrier == "ups"]
    if not ids:
        return 0
    events = db.session.execute(
        select(TrackingEvent.shipment_id, TrackingEvent.carrier_code, TrackingEvent.occurred_at)
        .where(TrackingEvent.shipment_id.in_(ids), TrackingEvent.received_at == received_at)
        .order_by(TrackingEvent.occurred_at)
    ).all()
    coded = [(sid, code, found) for sid, code, _ in events if (found := meaning(code)) is not None]
    if not coded:
        return 0
    claims = db.session.scalars(
        select(Claim).where(Claim.shipment_id.in_({sid for sid, _, _ in coded}), Claim.open_key.is_not(None))
    ).all()
    moved = 0
    for shipment_id, code, found in coded:
        for claim in (c for c in claims if c.shipment_id == shipment_id):
            if found.signal is ClaimSignal.NOT_ELIGIBLE:
                record(claim, "not_eligible", actor=ACTOR, note=f"UPS {code}: {found.text}")
            elif found.signal is ClaimSignal.CARRIER_CLAIM and found.status and claim.state in _FILED:
                answer = CarrierClaimStatus(
                    carrier="ups",
                    carrier_claim_id=claim.carrier_claim_id or "",
                    status=found.status,
                    carrier_status=found.text,
                    detail=f"UPS {code}: {found.text}",
                )
                moved += mirror(claim, answer, actor=ACTOR)
    return moved
