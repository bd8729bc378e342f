"""The job that moves claims along their calendar without staff where the facts allow it, and warns staff
where they must act:

1. classify: a loss or damage the carrier itself reported (or silence past its earliest filing day) is the
   carrier's liability;
2. decide the customer's remedy where the shop chose one per kind (CLAIM_AUTO_REMEDY);
3. file with the carrier's claims API once its earliest day has come (CLAIM_AUTO_SUBMIT);
4. mirror the carrier's decision on filed claims;
5. close claims the carrier decided on once the customer's remedy is decided;
6. warn staff `warn_days_before_last_day` before a filing window closes, and record a missed window.

Each claim is handled in its own transaction under a row lock that other workers skip (PostgreSQL), so
three workers never file or warn twice; a worker killed mid-way leaves the claim as it was.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import Select, select

from app.claims.lifecycle import record
from app.claims.service import classify, close, current_rules, decide_remedy
from app.claims.submission import filer_code, submit, sync
from app.database import is_postgresql
from app.errors import DomainError
from app.extensions import db
from app.models import Claim, ClaimKind, ClaimState, Liability, RemedyKind, Shipment
from app.models.types import utcnow

log = logging.getLogger(__name__)
ACTOR = "system:claims"
# Rules whose facts make the carrier liable, in words for the audit trail.
_CARRIER_EVIDENT = {
    "carrier_lost_code": "The carrier itself reported the parcel lost.",
    "carrier_damage_code": "The carrier itself reported the parcel damaged.",
    "no_scan": "The carrier has not scanned the parcel for longer than its own limits allow.",
    "p_lost": "The parcel is almost certainly lost in the carrier's network.",
}
_DECIDED = (ClaimState.APPROVED, ClaimState.PARTIALLY_APPROVED, ClaimState.DENIED)
_BATCH = 200


def auto_remedies(setting: str) -> dict[ClaimKind, RemedyKind]:
    """`"lost=reship,not_received=refund"` → {lost: reship, not_received: refund}; ValueError if malformed."""
    pairs = [item.split("=", 1) for item in setting.replace(" ", "").split(",") if item]
    return {ClaimKind(kind): RemedyKind(remedy) for kind, remedy in pairs}


def advance_claims(now: datetime | None = None) -> Counter:
    """One run of the job; returns what it did, by step."""
    now = now or utcnow()
    config = current_app.config
    done: Counter = Counter()
    open_claims = select(Claim).where(Claim.open_key.is_not(None))

    _each(
        open_claims.where(Claim.state == ClaimState.OPENED, Claim.rule.in_(list(_CARRIER_EVIDENT))),
        done,
        "classified",
        lambda c: classify(
            c, liability=Liability.CARRIER, actor=ACTOR, note=_CARRIER_EVIDENT[c.rule], now=now
        ),
    )

    remedies = auto_remedies(config["CLAIM_AUTO_REMEDY"])
    if remedies:
        _each(
            open_claims.where(Claim.state == ClaimState.CLASSIFIED, Claim.kind.in_(list(remedies))),
            done,
            "remedy_decided",
            lambda c: _auto_remedy(c, remedies[c.kind], now),
        )

    if config["CLAIM_AUTO_SUBMIT"]:
        due = open_claims.where(
            Claim.state == ClaimState.REMEDY_DECIDED,
            Claim.liability == Liability.CARRIER,
            (Claim.earliest_file_at.is_(None)) | (Claim.earliest_file_at <= now),
        )
        _each(due, done, "submitted", lambda c: _submit_if_api(c, now))

    waiting = open_claims.where(
        Claim.state.in_([ClaimState.SUBMITTED, ClaimState.IN_REVIEW, ClaimState.NEEDS_INFORMATION]),
        Claim.carrier_claim_id.is_not(None),
    )
    _each(waiting, done, "carrier_answered", lambda c: sync(c, now=now))

    decided = open_claims.where(Claim.state.in_(_DECIDED), Claim.remedy_kind.is_not(None))
    _each(
        decided,
        done,
        "closed",
        lambda c: close(
            c, actor=ACTOR, note="The carrier decided; the customer's remedy was given.", now=now
        ),
    )

    _warn_before_deadlines(open_claims, now, done)
    return done


def _auto_remedy(claim: Claim, remedy: RemedyKind, now: datetime) -> bool:
    amount = claim.goods_value if remedy in (RemedyKind.REFUND, RemedyKind.STORE_CREDIT) else None
    note = "The shop's standing choice for this kind."
    decide_remedy(claim, remedy=remedy, amount=amount, actor=ACTOR, note=note, now=now)
    return True


def _submit_if_api(claim: Claim, now: datetime) -> bool:
    shipment = db.session.get(Shipment, claim.shipment_id)
    if filer_code(shipment) is None:
        return False  # a portal carrier: staff file the pack; the deadline warning keeps them on time
    submit(claim, actor=ACTOR, now=now)
    return True


def _warn_before_deadlines(open_claims: Select, now: datetime, done: Counter) -> None:
    warn_days = current_rules().detection.warn_days_before_last_day
    unfiled = open_claims.where(
        Claim.state.in_([ClaimState.OPENED, ClaimState.CLASSIFIED, ClaimState.REMEDY_DECIDED]),
        Claim.file_by.is_not(None),
        Claim.warned_at.is_(None),
        Claim.file_by <= now + timedelta(days=warn_days),
    )

    def warn(claim: Claim) -> bool:
        missed = claim.file_by <= now
        claim.warned_at = now
        if missed:
            claim.filed_in_time = False
        days = -(-(claim.file_by - now) // timedelta(days=1))  # whole days left, rounded up
        note = (
            f"The carrier's filing window closed on {claim.file_by:%Y-%m-%d %H:%M} UTC."
            if missed
            else f"The carrier's filing window closes in {days} days ({claim.file_by:%Y-%m-%d %H:%M} UTC)."
        )
        record(claim, "window_missed" if missed else "deadline_warning", actor=ACTOR, note=note, now=now)
        return True

    _each(unfiled, done, "warned", warn)


def _each(query: Select, done: Counter, step: str, act: Callable[[Claim], object]) -> None:
    """Run `act` on each claim of `query`, one transaction and row lock per claim; a refusal is logged."""
    last_id = 0
    while True:
        ids = list(
            db.session.scalars(
                query.with_only_columns(Claim.id).where(Claim.id > last_id).order_by(Claim.id).limit(_BATCH)
            )
        )
        if not ids:
            return
        last_id = ids[-1]
        for claim_id in ids:
            locked = select(Claim).where(Claim.id == claim_id)
            if is_postgresql():
                locked = locked.with_for_update(skip_locked=True)
            claim = db.session.scalar(locked.where(query.whereclause))
            if claim is None:  # another worker holds it, or it moved on
                db.session.rollback()
                continue
            try:
                if act(claim) is not False:
                    done[step] += 1
                db.session.commit()
            except DomainError as refusal:
                db.session.rollback()
                log.info("claim %s not %s: %s", claim_id, step, refusal.message)
