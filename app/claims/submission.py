"""Filing a claim with the carrier: over its claims API where one exists (USPS, or EasyPost for carriers
the shop buys labels through there), else as a pre-filled claim pack that staff file on the carrier's portal
and whose claim number they record. Also mirrors the carrier's decision back onto the claim."""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from decimal import Decimal

from flask import Flask, current_app

from app.claims.evidence import read
from app.claims.lifecycle import can_move, move, record
from app.claims.service import record_carrier_decision
from app.errors import Conflict, InvalidInput, Unavailable
from app.extensions import db
from app.models import Claim, ClaimKind, ClaimState, Liability, Shipment, Shop
from app.models.types import utcnow
from app.tracking.carrier_clients import carrier_settings
from carriers.claims import (
    FILERS,
    Address,
    Attachment,
    AttachmentRole,
    CarrierClaimStatus,
    ClaimFiler,
    ClaimNotSupported,
    ClaimPack,
    ClaimRejected,
    ClaimRequest,
    ClaimStatus,
    Contact,
    claim_pack,
)
from carriers.claims import ClaimKind as CarrierClaimKind
from carriers.errors import CarrierError

log = logging.getLogger(__name__)

_KINDS = {
    ClaimKind.LOST: CarrierClaimKind.LOST,
    ClaimKind.DAMAGED: CarrierClaimKind.DAMAGED,
    ClaimKind.MISSING_CONTENTS: CarrierClaimKind.MISSING_CONTENTS,
    ClaimKind.NOT_RECEIVED: CarrierClaimKind.DELIVERED_NOT_RECEIVED,
    ClaimKind.REFUSED: CarrierClaimKind.RETURNED,
    ClaimKind.RETURNED: CarrierClaimKind.RETURNED,
    ClaimKind.FAILED_DELIVERY: CarrierClaimKind.RETURNED,
}
# The carrier's answer → our state (None: nothing to move).
_OUTCOMES = {
    ClaimStatus.IN_REVIEW: ClaimState.IN_REVIEW,
    ClaimStatus.NEEDS_INFORMATION: ClaimState.NEEDS_INFORMATION,
    ClaimStatus.APPROVED: ClaimState.APPROVED,
    ClaimStatus.PAID: ClaimState.APPROVED,
    ClaimStatus.PARTIALLY_APPROVED: ClaimState.PARTIALLY_APPROVED,
    ClaimStatus.DENIED: ClaimState.DENIED,
}
_WAITING = (ClaimState.SUBMITTED, ClaimState.IN_REVIEW, ClaimState.NEEDS_INFORMATION)
_lock = threading.Lock()


def filer_code(shipment: Shipment) -> str | None:
    """Which claims API takes this shipment's claims: the carrier's own, EasyPost for the carriers the
    installation buys labels through there (CLAIM_EASYPOST_CARRIERS), else None (a portal)."""
    if shipment.carrier in FILERS:
        return shipment.carrier
    if shipment.carrier in current_app.config["CLAIM_EASYPOST_CARRIERS"]:
        return "easypost"
    return None


def filer(code: str) -> ClaimFiler:
    """The process-wide filer for a claims API (it holds OAuth tokens, sessions, breakers)."""
    app: Flask = current_app._get_current_object()
    filers = app.extensions.setdefault("leveranse_claim_filers", {})
    with _lock:
        if code not in filers:
            filers[code] = FILERS[code](carrier_settings(app, code))
        return filers[code]


def claim_request(claim: Claim) -> ClaimRequest:
    """The carrier-neutral request for `claim`, pre-filled from the order, tracking and attachments."""
    shipment = db.session.get(Shipment, claim.shipment_id)
    shop = db.session.get(Shop, claim.shop_id)
    if claim.kind not in _KINDS:
        raise InvalidInput(
            f"A {claim.kind} claim is the shop's matter, not the carrier's.",
            errors={"kind": "Not a carrier claim."},
        )
    if not claim.claim_amount or not claim.currency:
        raise InvalidInput(
            "The shipment has no declared value and currency to claim.",
            errors={"claim_amount": "Register the shipment's declared_value and currency."},
        )
    sender = shop.sender_address or {}
    return ClaimRequest(
        reference=claim.reference,
        carrier=shipment.carrier,
        tracking_number=shipment.tracking_number,
        kind=_KINDS[claim.kind],
        amount=Decimal(claim.claim_amount),
        currency=claim.currency,
        description=_description(claim, shipment),
        contact=Contact(name=shop.name, email=shop.claims_email or ""),
        ship_date=(shipment.shipped_at or shipment.created_at).date(),
        sender=Address(
            name=sender.get("name", shop.name),
            street1=sender.get("street", ""),
            city=sender.get("city", ""),
            postcode=sender.get("postcode", shipment.origin_postcode or ""),
            country=sender.get("country", shipment.origin_country or ""),
        ),
        recipient=Address(
            name=shipment.customer_name or "",
            street1="",
            city="",
            postcode=shipment.destination_postcode or "",
            country=shipment.destination_country or "",
        ),
        attachments=tuple(
            Attachment(a.filename, a.content_type, read(a), _role(a.content_type)) for a in claim.attachments
        ),
        received_on=shipment.delivered_at.date() if shipment.delivered_at else None,
        parcel_weights_kg=(shipment.weight_kg,) if shipment.weight_kg else (),
        goods_location="With the recipient" if shipment.delivered_at else "",
    )


def pack(claim: Claim) -> ClaimPack:
    """The carrier's own claim form pre-filled, with the portal, evidence list and pre-checks."""
    shipment = db.session.get(Shipment, claim.shipment_id)
    try:
        return claim_pack(shipment.carrier, claim_request(claim))
    except ClaimNotSupported as error:
        raise InvalidInput(error.message, errors={"carrier": error.message}) from None


def submit(
    claim: Claim, *, actor: str, carrier_claim_id: str | None = None, now: datetime | None = None
) -> None:
    """File `claim`: over the API when there is one, else record the number staff got from the portal.

    Refused (Conflict) before the carrier's earliest filing day, for a claim not ready to file, or without
    a number for a portal carrier; Unavailable when the carrier cannot be reached (retry later).
    """
    now = now or utcnow()
    if claim.liability is not Liability.CARRIER:
        raise Conflict(
            "Only claims the carrier is liable for are filed with it.",
            errors={"liability": "Not the carrier."},
        )
    if not can_move(claim, ClaimState.SUBMITTED):
        raise Conflict(
            f"A claim in state '{claim.state}' cannot be submitted.", errors={"state": "Not ready."}
        )
    if claim.earliest_file_at and now < claim.earliest_file_at:
        raise Conflict(
            f"The carrier takes this claim from {claim.earliest_file_at:%Y-%m-%d %H:%M} UTC.",
            errors={"earliest_file_at": "Too early to file."},
        )
    shipment = db.session.get(Shipment, claim.shipment_id)
    code = filer_code(shipment)
    if code is None and not carrier_claim_id:
        raise Conflict(
            "This carrier has no claims API: file the claim pack on its portal, then record its claim number.",
            errors={"carrier_claim_id": "Required for a portal carrier."},
        )
    status = ClaimStatus.SUBMITTED.value
    if code is not None:
        request = claim_request(claim)
        try:
            filed = filer(code).file(request)
        except ClaimRejected as error:
            record(claim, "submission_rejected", actor=actor, note=error.message, now=now)
            raise Conflict(
                f"The carrier refused the claim: {error.message}", errors={"carrier": error.message}
            ) from None
        except ClaimNotSupported as error:
            raise Conflict(error.message, errors={"carrier": error.message}) from None
        except CarrierError as error:
            raise Unavailable(f"The carrier could not be reached: {error.message}") from None
        carrier_claim_id, status = filed.carrier_claim_id, filed.status.value
    claim.carrier_claim_id = carrier_claim_id[:64]
    claim.carrier_status = status
    claim.submitted_at = now
    claim.filed_in_time = claim.file_by is None or now <= claim.file_by
    move(
        claim,
        ClaimState.SUBMITTED,
        actor=actor,
        now=now,
        data={"via": code or "portal", "carrier_claim_id": carrier_claim_id},
    )


def sync(claim: Claim, *, now: datetime | None = None) -> bool:
    """Mirror the carrier's current answer on a filed claim; True when the claim moved."""
    shipment = db.session.get(Shipment, claim.shipment_id)
    code = filer_code(shipment)
    if code is None or not claim.carrier_claim_id or claim.state not in _WAITING:
        return False
    try:
        answer = filer(code).status(claim.carrier_claim_id)
    except CarrierError as error:
        log.warning("claim %s: carrier status not read (%s)", claim.reference, error.message)
        return False
    return mirror(claim, answer, actor=f"carrier:{code}", now=now)


def mirror(claim: Claim, answer: CarrierClaimStatus, *, actor: str, now: datetime | None = None) -> bool:
    """Apply a carrier's claim status (from its API, or its tracking codes) to `claim`."""
    claim.carrier_status = answer.carrier_status[:32]
    target = _OUTCOMES.get(answer.status)
    if answer.status is ClaimStatus.APPROVED and _is_partial(claim, answer.approved_amount):
        target = ClaimState.PARTIALLY_APPROVED
    if target is None or target == claim.state or not can_move(claim, target):
        return False
    amount = answer.approved_amount
    if amount is not None and claim.claim_amount is not None:
        amount = min(amount, claim.claim_amount)
    record_carrier_decision(
        claim, outcome=target, amount=amount, reason=answer.detail or None, actor=actor, now=now
    )
    return True


def _is_partial(claim: Claim, approved: Decimal | None) -> bool:
    return approved is not None and claim.claim_amount is not None and approved < claim.claim_amount


def _description(claim: Claim, shipment: Shipment) -> str:
    parts = [f"{claim.kind.replace('_', ' ').capitalize()} parcel {shipment.tracking_number}"]
    if shipment.order_ref:
        parts.append(f"order {shipment.order_ref}")
    if claim.customer_statement:
        parts.append(f"recipient's statement: {claim.customer_statement}")
    return "; ".join(parts)[:1000]


def _role(content_type: str) -> AttachmentRole:
    return AttachmentRole.PHOTO if content_type.startswith("image/") else AttachmentRole.OTHER
