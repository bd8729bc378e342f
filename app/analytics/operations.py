"""Operations figures: carrier API health, poll backlog, data freshness, background jobs, outbox lag and
slot fill of the own fleet's route plans.

Carrier calls, latencies, breakers and job runs are what every worker process (and the embedded mode's
scheduler) flushes to the database (app/process_figures.py), added up over a window of the wall clock
(app/analytics/process_health.py). Everything else is read from the service's own tables.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from app.analytics.process_health import NO_CALLS, ProcessHealth, carrier_calls, last_successes
from app.extensions import db
from app.models import Depot, Notification, RoutePlan, Shipment, Slot, SlotTemplate
from app.models.notification import OutboxState

OVERDUE_AFTER = timedelta(minutes=1)
PLAN_DAYS = 14


@dataclass(frozen=True)
class CarrierHealth:
    """One carrier's calls by every process in the window, the breakers of the live processes, and what
    the database says about freshness."""

    carrier: str
    calls: int
    ok: int
    rate_limited: int
    latency_mean: float | None  # seconds
    latency_p50: float | None  # estimated from the histogram buckets
    latency_p95: float | None
    breakers: dict[str, int]  # state → live processes with a client in that state
    last_success_at: datetime | None
    last_checked_at: datetime | None
    newest_event_at: datetime | None
    overdue: int
    oldest_overdue_at: datetime | None

    @property
    def failed(self) -> int:
        """Calls not answered (errors, timeouts, rate limits, an open breaker)."""
        return self.calls - self.ok

    @property
    def success_rate(self) -> float | None:
        """Calls answered ÷ calls made."""
        return self.ok / self.calls if self.calls else None


@dataclass(frozen=True)
class OutboxLag:
    """Outbox rows per state, and the oldest row still waiting to go out."""

    by_state: dict[str, int]
    oldest_due_at: datetime | None  # pending and due: waiting for a dispatcher
    oldest_pending_at: datetime | None  # pending at all (also retries and quiet hours)


@dataclass(frozen=True)
class DayFill:
    """Slots of one depot-day: capacity, booked and held, and the route plan's size."""

    depot: str
    day: date
    capacity: int
    booked: int
    held: int
    stops: int | None
    distance_km: float | None

    @property
    def fill(self) -> float | None:
        """(Booked + held) ÷ capacity."""
        return (self.booked + self.held) / self.capacity if self.capacity else None


def _scoped(query, shop_id: int | None):
    return query if shop_id is None else query.where(Shipment.shop_id == shop_id)


def carrier_health(
    now: datetime, since: datetime, processes: list[ProcessHealth], shop_id: int | None = None
) -> list[CarrierHealth]:
    """Per carrier: calls, success rate, rate-limit hits and latency of every process since `since` (wall
    clock), the live processes' breakers, last check and newest event, overdue polls (at `now`)."""
    calls = carrier_calls(since)
    succeeded = last_successes()
    breakers: dict[str, Counter[str]] = {}
    for process in processes:
        if process.state == "live":
            for carrier, state in process.breakers.items():
                breakers.setdefault(carrier, Counter())[state] += 1
    live = [Shipment.deleted_at.is_(None)]
    fresh = {
        carrier: (checked, newest)
        for carrier, checked, newest in db.session.execute(
            _scoped(
                select(Shipment.carrier, func.max(Shipment.last_checked_at), func.max(Shipment.last_event_at))
                .where(*live)
                .group_by(Shipment.carrier),
                shop_id,
            )
        )
    }
    overdue = {
        carrier: (count, oldest)
        for carrier, count, oldest in db.session.execute(
            _scoped(
                select(Shipment.carrier, func.count(), func.min(Shipment.next_poll_at))
                .where(*live, Shipment.next_poll_at <= now - OVERDUE_AFTER)
                .group_by(Shipment.carrier),
                shop_id,
            )
        )
    }
    # A shop's staff see the carriers their shop ships with; the operator's see every carrier in use.
    shown = set(fresh) if shop_id is not None else set(calls) | set(fresh) | set(breakers)
    result = []
    for carrier in sorted(shown):
        figures = calls.get(carrier, NO_CALLS)
        result.append(
            CarrierHealth(
                carrier=carrier,
                calls=figures.calls,
                ok=figures.ok,
                rate_limited=figures.rate_limited,
                latency_mean=figures.latency.mean,
                latency_p50=figures.latency.quantile(0.5),
                latency_p95=figures.latency.quantile(0.95),
                breakers=dict(sorted(breakers.get(carrier, {}).items())),
                last_success_at=succeeded.get(carrier),
                last_checked_at=fresh.get(carrier, (None, None))[0],
                newest_event_at=fresh.get(carrier, (None, None))[1],
                overdue=overdue.get(carrier, (0, None))[0],
                oldest_overdue_at=overdue.get(carrier, (0, None))[1],
            )
        )
    return result


def outbox_lag(now: datetime, shop_id: int | None = None) -> OutboxLag:
    """Outbox rows by state and the oldest pending rows (due, and at all)."""
    scope = [] if shop_id is None else [Notification.shop_id == shop_id]
    by_state = dict(
        db.session.execute(
            select(Notification.state, func.count()).where(*scope).group_by(Notification.state)
        ).all()
    )
    pending = [*scope, Notification.state == OutboxState.PENDING.value]
    oldest_due = db.session.scalar(
        select(func.min(Notification.created_at)).where(*pending, Notification.next_attempt_at <= now)
    )
    oldest = db.session.scalar(select(func.min(Notification.created_at)).where(*pending))
    return OutboxLag({state.value: by_state.get(state.value, 0) for state in OutboxState}, oldest_due, oldest)


def slot_fill(today: date, shop_id: int | None = None, days: int = PLAN_DAYS) -> list[DayFill]:
    """Slot capacity, bookings and holds per depot and day from `today` on, with each day's route plan."""
    last = today + timedelta(days=days - 1)
    scope = [Slot.day >= today, Slot.day <= last]
    if shop_id is not None:
        scope.append(Depot.shop_id == shop_id)
    rows = db.session.execute(
        select(
            Depot.id,
            Depot.name,
            Slot.day,
            func.sum(Slot.capacity),
            func.sum(Slot.booked),
            func.sum(Slot.held),
        )
        .join(SlotTemplate, SlotTemplate.id == Slot.template_id)
        .join(Depot, Depot.id == SlotTemplate.depot_id)
        .where(*scope)
        .group_by(Depot.id, Depot.name, Slot.day)
        .order_by(Slot.day, Depot.name)
    ).all()
    plan_scope = [RoutePlan.day >= today, RoutePlan.day <= last]
    if shop_id is not None:
        plan_scope.append(Depot.shop_id == shop_id)
    plans = {
        (plan.depot_id, plan.day): plan
        for plan in db.session.scalars(
            select(RoutePlan).join(Depot, Depot.id == RoutePlan.depot_id).where(*plan_scope)
        )
    }
    result = []
    for depot_id, name, day, capacity, booked, held in rows:
        plan = plans.get((depot_id, day))
        stops = None if plan is None else sum(len(v) for v in (plan.sequences or {}).values())
        result.append(
            DayFill(
                name,
                day,
                int(capacity or 0),
                int(booked or 0),
                int(held or 0),
                stops,
                None if plan is None else plan.distance_km,
            )
        )
    return result
