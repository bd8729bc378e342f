"""Claims use cases: open (one per shipment and kind, enforced by the database), classify, decide the
customer's remedy, record the carrier's decision, close, cancel when the parcel turns up."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import select

from app.claims.calendar import filing_window
from app.claims.lifecycle import announce_opened, move, record
from app.claims.rules import ClaimRules, load_rules
from app.database import insert_ignoring_conflicts
from app.errors import Conflict, InvalidInput
from app.extensions import db
from app.models import Claim, ClaimKind, ClaimState, Liability, RemedyKind, Shipment
from app.models.types import utcnow
from app.notify.enqueue import customer_zone

_REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


@dataclass(frozen=True)
class ClaimCandidate:
    """A claim a rule (or a person) wants opened: which shipment, what kind, which rule, the evidence."""

    shipment: Shipment
    kind: ClaimKind
    rule: str
    evidence: dict[str, Any] = field(default_factory=dict)
    source: str = "detection"
    statement: str | None = None


def current_rules() -> ClaimRules:
    """The claim rules in force (LEVERANSE_CLAIM_RULES_FILE, else the shipped defaults)."""
    return load_rules(current_app.config["CLAIM_RULES_FILE"] or None)


def new_reference() -> str:
    """A short reference customers can read out on the phone: `C-` and 7 unambiguous characters."""
    return "C-" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(7))


def open_key(shipment_id: int, kind: ClaimKind) -> str:
    """The value of `Claim.open_key` while a claim of this kind about this shipment is open."""
    return f"{shipment_id}:{kind}"


def open_claims(
    candidates: Sequence[ClaimCandidate], *, actor: str, now: datetime | None = None
) -> list[Claim]:
    """Open the candidates that have no open claim of their kind yet; one INSERT for all of them.

    Workers racing on the same shipments insert with ON CONFLICT DO NOTHING on `open_key`, so each claim
    opens once; only the inserting transaction acknowledges the customer and writes the audit trail.
    """
    now = now or utcnow()
    rules = current_rules()
    by_key = {open_key(c.shipment.id, c.kind): c for c in candidates}
    rows = [_row(candidate, key, rules, now) for key, candidate in by_key.items()]
    inserted = insert_ignoring_conflicts(Claim, rows)
    if not inserted:
        return []
    claims = db.session.scalars(select(Claim).where(Claim.id.in_(inserted)).order_by(Claim.id)).all()
    for claim in claims:
        candidate = by_key[claim.open_key]
        record(claim, "opened", actor=actor, note=candidate.rule, data=candidate.evidence, now=now)
        announce_opened(claim, candidate.shipment, now)
    return list(claims)


def open_claim(candidate: ClaimCandidate, *, actor: str, now: datetime | None = None) -> Claim:
    """Open one claim; Conflict when one of that kind is already open for the shipment."""
    opened = open_claims([candidate], actor=actor, now=now)
    if not opened:
        existing = db.session.scalar(
            select(Claim.reference).where(Claim.open_key == open_key(candidate.shipment.id, candidate.kind))
        )
        raise Conflict(
            f"Claim {existing} about this shipment ({candidate.kind}) is already open.",
            errors={"kind": f"A {candidate.kind} claim is already open: {existing}."},
            kind="claim-exists",
            reference=existing,
        )
    return opened[0]


def _row(candidate: ClaimCandidate, key: str, rules: ClaimRules, now: datetime) -> dict[str, Any]:
    shipment = candidate.shipment
    window = filing_window(
        candidate.kind, shipment, rules.for_carrier(shipment.carrier), customer_zone(shipment)
    )
    value = shipment.declared_value
    cap = rules.cap(shipment.carrier, shipment.currency, shipment.weight_kg)
    amount = min(value, cap) if value is not None and cap is not None else value
    return {
        "reference": new_reference(),
        "shop_id": shipment.shop_id,
        "shipment_id": shipment.id,
        "kind": candidate.kind,
        "state": ClaimState.OPENED,
        "open_key": key,
        "version": 1,
        "source": candidate.source,
        "rule": candidate.rule,
        "evidence": candidate.evidence,
        "customer_statement": candidate.statement,
        "goods_value": value,
        "currency": shipment.currency,
        "carrier_cap": cap,
        "claim_amount": amount,
        "earliest_file_at": window.earliest,
        "file_by": window.latest,
        "opened_at": now,
        "updated_at": now,
    }


def classify(
    claim: Claim,
    *,
    liability: Liability,
    kind: ClaimKind | None = None,
    actor: str,
    note: str | None = None,
    now: datetime | None = None,
) -> None:
    """Confirm (or correct) the kind and say who bears the loss."""
    if kind is not None and kind != claim.kind:
        taken = db.session.scalar(select(Claim.id).where(Claim.open_key == open_key(claim.shipment_id, kind)))
        if taken:
            raise Conflict(
                f"A {kind} claim is already open for this shipment.", errors={"kind": "Already open."}
            )
        claim.kind = kind
        claim.open_key = open_key(claim.shipment_id, kind)
    claim.liability = liability
    move(
        claim,
        ClaimState.CLASSIFIED,
        actor=actor,
        note=note,
        data={"liability": liability, "kind": claim.kind},
        now=now,
    )


def decide_remedy(
    claim: Claim,
    *,
    remedy: RemedyKind,
    amount: Decimal | None,
    actor: str,
    note: str | None = None,
    now: datetime | None = None,
) -> None:
    """The shop's decision for the customer; money amounts never above the goods value."""
    if amount is not None and amount < 0:
        raise InvalidInput("The amount cannot be negative.", errors={"amount": "Must be 0 or more."})
    if amount is not None and claim.goods_value is not None and amount > claim.goods_value:
        raise InvalidInput(
            f"The amount {amount} is above the goods value {claim.goods_value}.",
            errors={"amount": f"At most the goods value, {claim.goods_value}."},
        )
    if remedy in (RemedyKind.RESHIP, RemedyKind.NONE) and amount:
        raise InvalidInput(f"A {remedy} remedy has no amount.", errors={"amount": "Leave it out."})
    now = now or utcnow()
    move(
        claim,
        ClaimState.REMEDY_DECIDED,
        actor=actor,
        note=note,
        data={"remedy": remedy, "amount": _plain(amount)},
        now=now,
    )
    claim.remedy_kind, claim.remedy_amount, claim.remedy_decided_at = remedy, amount, now


def record_carrier_decision(
    claim: Claim,
    *,
    outcome: ClaimState,
    amount: Decimal | None = None,
    reason: str | None = None,
    actor: str,
    carrier_claim_id: str | None = None,
    now: datetime | None = None,
) -> None:
    """What the carrier decided (staff typing it in, or mirrored from a claims API or tracking codes)."""
    if outcome not in (
        ClaimState.APPROVED,
        ClaimState.PARTIALLY_APPROVED,
        ClaimState.DENIED,
        ClaimState.IN_REVIEW,
        ClaimState.NEEDS_INFORMATION,
    ):
        raise InvalidInput(f"'{outcome}' is not a carrier decision.", errors={"outcome": "Unknown decision."})
    if amount is not None and claim.claim_amount is not None and amount > claim.claim_amount:
        raise InvalidInput(
            f"The approved amount {amount} is above the claimed {claim.claim_amount}.",
            errors={"amount": f"At most {claim.claim_amount}."},
        )
    if carrier_claim_id:
        claim.carrier_claim_id = carrier_claim_id
    now = now or utcnow()
    move(claim, outcome, actor=actor, note=reason, data={"amount": _plain(amount)}, now=now)
    if outcome in (ClaimState.APPROVED, ClaimState.PARTIALLY_APPROVED, ClaimState.DENIED):
        claim.carrier_decided_at = now
        claim.approved_amount = amount if outcome is not ClaimState.DENIED else Decimal(0)
        claim.denial_reason = reason if outcome is ClaimState.DENIED else None


def close(claim: Claim, *, actor: str, note: str | None = None, now: datetime | None = None) -> None:
    """Finish the claim (after the carrier's decision, or when the carrier side does not apply)."""
    if claim.state is ClaimState.REMEDY_DECIDED and claim.liability is Liability.CARRIER and not note:
        raise Conflict(
            "The carrier is liable: submit the claim first, or say why it is closed without filing.",
            errors={"note": "Required when closing a carrier-liable claim without filing."},
        )
    move(claim, ClaimState.CLOSED, actor=actor, note=note, now=now)


def cancel_found(shipments: Sequence[Shipment], *, now: datetime) -> list[Claim]:
    """A parcel turned up (a delivery or pickup scan): its open lost claims cancel and everyone is told."""
    if not shipments:
        return []
    keys = [open_key(s.id, ClaimKind.LOST) for s in shipments]
    claims = db.session.scalars(select(Claim).where(Claim.open_key.in_(keys))).all()
    for claim in claims:
        move(claim, ClaimState.CANCELLED, actor="system:tracking", note="The parcel turned up.", now=now)
    return list(claims)


def _plain(amount: Decimal | None) -> str | None:
    return None if amount is None else str(amount)
