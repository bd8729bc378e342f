"""The one path every piece of tracking news takes: a poll, a carrier webhook, a staff correction, expiry
and the passing of time all go through here, inside the caller's transaction, in this order:

    store events → move status → rescore → decide messages (with the fresh prediction)
    → claims (a parcel that turned up cancels its lost claim; a carrier's lost/damage/return opens one)
    → schedule next poll

Each step is a plain call below; nothing happens behind a signal.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from app.claims.carrier_codes import mirror_tracking_codes
from app.claims.detection import detect_for
from app.claims.service import cancel_found
from app.database import is_postgresql
from app.extensions import db
from app.models import Shipment
from app.models.types import utcnow
from app.notify.triggers import needs_fresh_look, queue_tracking_changes
from app.risk.queue import AT_RISK_STATES
from app.risk.scoring import refresh_recent_outcomes, rescore
from app.tracking.ingest import IngestResult, store_updates
from app.tracking.poll_schedule import poll_soon, reschedule
from carriers.model import ACTIVE_STATUSES, TERMINAL_STATUSES, Status, TrackingUpdate


@dataclass(frozen=True)
class PollHint:
    """What a failed poll tells the schedule: the carrier did not know the number, or asked us to wait."""

    not_found: bool = False
    retry_after: float | None = None


def process_updates(
    pairs: Sequence[tuple[Shipment, TrackingUpdate]], *, source: str, now: datetime | None = None
) -> list[IngestResult]:
    """Updates fetched or pushed for these shipments (`source`: poll, webhook, staff)."""
    now = now or utcnow()
    results = store_updates(pairs, source=source, now=now)
    shipments = [shipment for shipment, _ in pairs]
    moved = {s.id: r.previous_status for s, r in zip(shipments, results, strict=True) if r.status_changed}
    news = {s.id for s, r in zip(shipments, results, strict=True) if r.new_events or r.status_changed}
    for shipment in shipments:
        shipment.last_checked_at = now
    moved |= expire_silent(shipments, now)
    _settle(shipments, rescored=[s for s in shipments if s.id in news or s.id in moved], moved=moved, now=now)
    return results


def process_no_update(shipments: Sequence[Shipment], hint: PollHint, now: datetime | None = None) -> None:
    """A poll that brought nothing: a number the carrier does not know may have gone silent for too long;
    either way the next poll is scheduled (after the carrier's Retry-After, if it gave one)."""
    now = now or utcnow()
    moved = expire_silent(shipments, now) if hint.not_found else {}
    _settle(shipments, rescored=[s for s in shipments if s.id in moved], moved=moved, now=now, hint=hint)


def process_time_passing(shipments: Sequence[Shipment], now: datetime | None = None) -> int:
    """Re-score shipments with no news (silence is evidence too) and tell customers what changed.

    A parcel the silence puts at risk whose carrier we have not asked lately is polled soon, so the delay
    warning it held back (`needs_fresh_look`) is decided on fresh data; other next polls are left alone
    (a polling worker may hold a lease on them). Returns how many changed state.
    """
    now = now or utcnow()
    risk_moves = rescore(shipments, now)
    _queue_messages(shipments, {}, risk_moves, now, rescored={s.id for s in shipments})
    for shipment in shipments:
        if shipment.risk_state in AT_RISK_STATES and needs_fresh_look(shipment, now):
            poll_soon(shipment, now)
    return len(risk_moves)


def expire_silent(shipments: Iterable[Shipment], now: datetime) -> dict[int, str]:
    """AfterShip's rule, configurable: no news for N days ends tracking as `expired`; returns the moves."""
    limit = timedelta(days=current_app.config["EXPIRE_AFTER_DAYS"])
    moved = {}
    for shipment in shipments:
        if shipment.status in TERMINAL_STATUSES:
            continue
        if now - (shipment.last_event_at or shipment.created_at) > limit:
            moved[shipment.id] = shipment.status
            shipment.status = Status.EXPIRED
            shipment.reason = None
            shipment.status_changed_at = now
    return moved


def _settle(
    shipments: Sequence[Shipment],
    *,
    rescored: Sequence[Shipment],
    moved: dict[int, str],
    now: datetime,
    hint: PollHint | None = None,
) -> None:
    """The tail every update shares: rescore, messages with the fresh prediction, next poll."""
    risk_moves = rescore(rescored, now)
    _queue_messages(shipments, moved, risk_moves, now, rescored={s.id for s in rescored})
    _update_claims([s for s in shipments if s.id in moved], rescored, now)
    hint = hint or PollHint()
    for shipment in shipments:
        reschedule(shipment, now, not_found=hint.not_found, retry_after=hint.retry_after)


def _queue_messages(
    shipments: Sequence[Shipment],
    moved: dict[int, str],
    risk_moves: dict[int, str | None],
    now: datetime,
    *,
    rescored: set[int],
) -> None:
    # Every re-scored shipment, not only those whose state moved: p_late can cross the customer-warning
    # threshold (or fall back below it) while the staff's risk state stays the same.
    for shipment in shipments:
        if shipment.id in moved or shipment.id in risk_moves or shipment.id in rescored:
            queue_tracking_changes(
                shipment,
                previous_status=moved.get(shipment.id),
                previous_risk_state=risk_moves.get(shipment.id, shipment.risk_state),
                now=now,
            )


def _update_claims(moved: list[Shipment], news: Sequence[Shipment], now: datetime) -> None:
    cancel_found([s for s in moved if s.status in (Status.DELIVERED, Status.AVAILABLE_FOR_PICKUP)], now=now)
    detect_for(moved, now)
    mirror_tracking_codes(news, received_at=now)


def rescore_active_shipments(now: datetime | None = None, chunk: int = 250) -> int:
    """Periodic job: re-score every active shipment with the model refreshed by recent outcomes.

    One short transaction per `chunk` rows: the row locks a chunk holds on PostgreSQL are released within
    a fraction of a second, so polling workers updating the same parcels are never held up for long.
    """
    now = now or utcnow()
    refresh_recent_outcomes(now)
    last_id, changed = 0, 0
    while True:
        query = (
            select(Shipment)
            .where(
                Shipment.id > last_id,
                Shipment.deleted_at.is_(None),
                Shipment.status.in_(sorted(ACTIVE_STATUSES)),
            )
            .order_by(Shipment.id)
            .limit(chunk)
            .execution_options(populate_existing=True)
        )
        if is_postgresql():
            # Rows read under a lock are current (a parcel another worker just delivered is no longer
            # active), and rows a polling worker holds are skipped, not waited for: no stale decisions,
            # no lock-order deadlock; the skipped ones are scored by that worker or the next run.
            query = query.with_for_update(skip_locked=True)
        batch = db.session.scalars(query).all()
        if not batch:
            return changed
        changed += process_time_passing(batch, now)
        last_id = batch[-1].id
        db.session.commit()
