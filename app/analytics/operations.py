"""Operations figures: carrier API health, poll backlog, data freshness, background jobs, outbox lag and
slot fill of the own fleet's route plans.

Carrier call counts, latencies and job runs are Prometheus counters of *this process* (app/metrics.py):
a separate worker (`leveranse worker`) counts its own, served on its `--metrics-port`. In the embedded mode
the scheduler runs inside the web process, so the page shows the real work. Everything else is read from
the database and covers every process.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from app import metrics
from app.extensions import db
from app.jobs import JOBS
from app.models import Depot, Notification, RoutePlan, Shipment, Slot, SlotTemplate
from app.models.notification import OutboxState

OVERDUE_AFTER = timedelta(minutes=1)
PLAN_DAYS = 14


@dataclass(frozen=True)
class CarrierHealth:
    """One carrier's calls in this process, its breaker, and what the database says about freshness."""

    carrier: str
    calls: int
    ok: int
    rate_limited: int
    failed: int
    latency_p50: float | None  # seconds, estimated from the histogram buckets
    latency_p95: float | None
    breaker: str | None  # None: no client in this process yet
    last_checked_at: datetime | None
    newest_event_at: datetime | None
    overdue: int
    oldest_overdue_at: datetime | None

    @property
    def success_rate(self) -> float | None:
        """Calls answered ÷ calls made."""
        return self.ok / self.calls if self.calls else None


@dataclass(frozen=True)
class JobHealth:
    """One background job's runs in this process."""

    job: str
    runs: int
    failures: int
    seconds_p50: float | None
    seconds_p95: float | None
    last_ok_at: datetime | None
    last_failed_at: datetime | None


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


def _samples(metric) -> list:
    return [sample for family in metric.collect() for sample in family.samples]


def histogram_quantile(buckets: list[tuple[float, float]], q: float) -> float | None:
    """Prometheus' estimate of quantile `q` from cumulative (upper bound, count) buckets: linear inside the
    bucket that holds it; the largest finite bound when it falls in +Inf."""
    if not buckets or buckets[-1][1] <= 0:
        return None
    rank = q * buckets[-1][1]
    lower_bound, lower_count = 0.0, 0.0
    for bound, count in buckets:
        if count >= rank:
            if bound == float("inf"):
                return lower_bound
            inside = count - lower_count
            return lower_bound + (bound - lower_bound) * ((rank - lower_count) / inside if inside else 1.0)
        lower_bound, lower_count = bound, count
    return lower_bound


def _histograms(metric, label: str) -> dict[str, list[tuple[float, float]]]:
    found: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for sample in _samples(metric):
        if sample.name.endswith("_bucket"):
            found[sample.labels[label]].append((float(sample.labels["le"]), sample.value))
    return {key: sorted(values) for key, values in found.items()}


def _scoped(query, shop_id: int | None):
    return query if shop_id is None else query.where(Shipment.shop_id == shop_id)


def carrier_health(now: datetime, shop_id: int | None = None) -> list[CarrierHealth]:
    """Per carrier: calls, success rate, rate-limit hits and latency (this process), breaker state (this
    process), last check and newest event (database), overdue polls (database)."""
    calls: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for sample in _samples(metrics.carrier_calls):
        if sample.name.endswith("_total"):
            calls[sample.labels["carrier"]][sample.labels["outcome"]] += sample.value
    latency = _histograms(metrics.poll_batch_seconds, "carrier")
    clients = current_app.extensions.get("leveranse_carriers", {})
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
    shown = set(fresh) if shop_id is not None else set(calls) | set(fresh) | set(clients)
    result = []
    for carrier in sorted(shown):
        outcomes = calls.get(carrier, {})
        total = int(sum(outcomes.values()))
        client = clients.get(carrier)
        result.append(
            CarrierHealth(
                carrier=carrier,
                calls=total,
                ok=int(outcomes.get("ok", 0)),
                rate_limited=int(outcomes.get("rate_limited", 0)),
                failed=total - int(outcomes.get("ok", 0)),
                latency_p50=histogram_quantile(latency.get(carrier, []), 0.5),
                latency_p95=histogram_quantile(latency.get(carrier, []), 0.95),
                breaker=None if client is None else client.http.breaker.state.value,
                last_checked_at=fresh.get(carrier, (None, None))[0],
                newest_event_at=fresh.get(carrier, (None, None))[1],
                overdue=overdue.get(carrier, (0, None))[0],
                oldest_overdue_at=overdue.get(carrier, (0, None))[1],
            )
        )
    return result


def job_health() -> list[JobHealth]:
    """Runs, failures, duration percentiles and last ends of every job that ran in this process."""
    runs: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for sample in _samples(metrics.job_runs):
        if sample.name.endswith("_total"):
            runs[sample.labels["job"]][sample.labels["outcome"]] += sample.value
    last: dict[tuple[str, str], float] = {
        (s.labels["job"], s.labels["outcome"]): s.value for s in _samples(metrics.job_last_finished)
    }
    durations = _histograms(metrics.job_seconds, "job")

    def when(job: str, outcome: str) -> datetime | None:
        stamp = last.get((job, outcome))
        return datetime.fromtimestamp(stamp, UTC) if stamp else None

    names = [job.name for job in JOBS] + sorted(set(runs) - {job.name for job in JOBS})
    return [
        JobHealth(
            job=name,
            runs=int(sum(runs.get(name, {}).values())),
            failures=int(runs.get(name, {}).get("failed", 0)),
            seconds_p50=histogram_quantile(durations.get(name, []), 0.5),
            seconds_p95=histogram_quantile(durations.get(name, []), 0.95),
            last_ok_at=when(name, "ok"),
            last_failed_at=when(name, "failed"),
        )
        for name in names
    ]


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
