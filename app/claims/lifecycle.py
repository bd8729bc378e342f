"""The claim lifecycle as an explicit state machine, with an audit event for every move.

    opened → classified → remedy_decided → submitted → in_review ⇄ needs_information
           → approved | partially_approved | denied → closed
    any open state → cancelled (the parcel turned up)

A claim whose liability is not the carrier's skips the carrier side: remedy_decided → closed.
Customers hear about every move that matters to them (claim_opened / claim_updated / claim_resolved).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.errors import Conflict
from app.extensions import db
from app.models import Claim, ClaimEvent, ClaimState, RemedyKind, Shipment
from app.models.claim import FINISHED_CLAIM_STATES
from app.models.types import utcnow
from app.notify.triggers import notify_claim
from carriers.registry import DISPLAY_NAMES
from notifications.model import Trigger

S = ClaimState
ALLOWED_MOVES: dict[ClaimState, frozenset[ClaimState]] = {
    S.OPENED: frozenset({S.CLASSIFIED, S.CANCELLED}),
    S.CLASSIFIED: frozenset({S.REMEDY_DECIDED, S.CANCELLED}),
    S.REMEDY_DECIDED: frozenset({S.SUBMITTED, S.CLOSED, S.CANCELLED}),
    S.SUBMITTED: frozenset(
        {S.IN_REVIEW, S.NEEDS_INFORMATION, S.APPROVED, S.PARTIALLY_APPROVED, S.DENIED, S.CANCELLED}
    ),
    S.IN_REVIEW: frozenset({S.NEEDS_INFORMATION, S.APPROVED, S.PARTIALLY_APPROVED, S.DENIED, S.CANCELLED}),
    S.NEEDS_INFORMATION: frozenset({S.IN_REVIEW, S.SUBMITTED, S.DENIED, S.CANCELLED}),
    S.APPROVED: frozenset({S.CLOSED}),
    S.PARTIALLY_APPROVED: frozenset({S.CLOSED}),
    S.DENIED: frozenset({S.CLOSED}),
    S.CLOSED: frozenset(),
    S.CANCELLED: frozenset(),
}
# The customer hears of these moves; carrier-side steps after submission are the shop's business.
_CUSTOMER_UPDATES = frozenset({S.CLASSIFIED, S.SUBMITTED, S.NEEDS_INFORMATION})


def can_move(claim: Claim, to: ClaimState) -> bool:
    """Whether the lifecycle allows `claim` to move to `to` now."""
    return to in ALLOWED_MOVES[claim.state]


def move(
    claim: Claim,
    to: ClaimState,
    *,
    actor: str,
    note: str | None = None,
    data: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> ClaimEvent:
    """Move `claim` to `to`, record who and why, tell the customer; Conflict for an illegal move."""
    if not can_move(claim, to):
        allowed = ", ".join(sorted(ALLOWED_MOVES[claim.state])) or "none (the claim is finished)"
        raise Conflict(
            f"A claim in state '{claim.state}' cannot move to '{to}'. Allowed: {allowed}.",
            errors={"state": f"Cannot move from {claim.state} to {to}."},
            kind="illegal-transition",
            title="Illegal claim transition",
        )
    now = now or utcnow()
    previous = claim.state
    claim.state = to
    claim.version += 1
    claim.updated_at = now
    if to in FINISHED_CLAIM_STATES:
        claim.open_key = None
        claim.closed_at = now
    event = record(claim, "transition", actor=actor, note=note, data=data, now=now, from_state=previous)
    _tell_customer(claim, previous, now)
    return event


def record(
    claim: Claim,
    action: str,
    *,
    actor: str,
    note: str | None = None,
    data: dict[str, Any] | None = None,
    now: datetime | None = None,
    from_state: ClaimState | None = None,
) -> ClaimEvent:
    """Add an audit event (a transition, or an action that keeps the state: a note, evidence, a warning)."""
    event = ClaimEvent(
        claim=claim,
        at=now or utcnow(),
        actor=actor[:120],
        action=action,
        from_state=from_state,
        to_state=claim.state,
        note=note,
        data=data,
    )
    db.session.add(event)
    return event


def announce_opened(claim: Claim, shipment: Shipment, now: datetime) -> None:
    """The customer's acknowledgement, in their language, written to the outbox with the claim."""
    notify_claim(
        shipment,
        Trigger.CLAIM_OPENED,
        claim.reference,
        "1",
        claim_reason=_reason_word(claim),
        carrier=DISPLAY_NAMES.get(shipment.carrier, shipment.carrier),
        claim_kind=str(claim.kind),
        claim_state=str(claim.state),
        rule=claim.rule,
    )
    claim.acknowledged_at = now


def _tell_customer(claim: Claim, previous: ClaimState, now: datetime) -> None:
    """Every move reaches the shop's `claim.*` webhooks; the customer hears the ones that matter to them."""
    shipment = db.session.get(Shipment, claim.shipment_id)
    facts = {"claim_kind": str(claim.kind), "previous_state": str(previous), "claim_state": str(claim.state)}
    if claim.state in FINISHED_CLAIM_STATES:
        resolution = "found" if claim.state is S.CANCELLED else str(claim.remedy_kind or RemedyKind.NONE)
        notify_claim(
            shipment,
            Trigger.CLAIM_RESOLVED,
            claim.reference,
            str(claim.version),
            claim_resolution=resolution,
            claim_amount=claim.remedy_amount,
            currency=claim.currency,
            **facts,
        )
    else:
        notify_claim(
            shipment,
            Trigger.CLAIM_UPDATED,
            claim.reference,
            str(claim.version),
            tell_customer=claim.state in _CUSTOMER_UPDATES,
            **facts,
        )


def _reason_word(claim: Claim) -> str:
    """The template's word for the claim kind (lost, damaged, returned, not_received)."""
    words = {
        "missing_contents": "damaged",
        "wrong_item": "damaged",
        "refused": "returned",
        "failed_delivery": "returned",
    }
    return words.get(claim.kind, str(claim.kind))
