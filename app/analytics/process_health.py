"""Carrier calls, job runs and liveness of every process that runs background jobs, added up from the
figures each one flushes (app/process_figures.py) over a window of the wall clock."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import CarrierMinute, CarrierState, JobMinute, WorkerProcess
from app.models.process_figures import BUCKET_COLUMNS, DURATION_BOUNDS

WINDOWS = {"1h": timedelta(hours=1), "24h": timedelta(hours=24)}
SILENT_AFTER_FLUSHES = 3
SILENT_AT_LEAST = timedelta(seconds=30)


@dataclass(frozen=True)
class Durations:
    """A duration histogram summed over processes and minutes."""

    count: int
    seconds_sum: float
    buckets: tuple[tuple[float, float], ...]  # cumulative (upper bound, count), ending with +Inf

    @property
    def mean(self) -> float | None:
        """Mean duration in seconds."""
        return self.seconds_sum / self.count if self.count else None

    def quantile(self, q: float) -> float | None:
        """Estimated quantile `q` in seconds."""
        return histogram_quantile(list(self.buckets), q)


@dataclass(frozen=True)
class CallFigures:
    """One carrier's calls by every process in the window."""

    calls: int
    ok: int
    rate_limited: int
    latency: Durations


@dataclass(frozen=True)
class JobHealth:
    """One background job's runs by every process in the window."""

    job: str
    runs: int
    failures: int
    skipped: int
    durations: Durations
    last_ok_at: datetime | None  # over the whole retention, not only the window
    last_failed_at: datetime | None


@dataclass(frozen=True)
class ProcessHealth:
    """One process that runs jobs: liveness, its share of the window's work, its breakers."""

    id: str
    host: str
    pid: int
    started_at: datetime
    last_seen_at: datetime
    state: str  # live, silent (stopped flushing without a clean stop) or stopped
    calls: int
    job_runs: int
    breakers: dict[str, str]  # carrier → closed, open, half_open


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


def _duration_sums(model) -> list:
    return [func.sum(model.seconds_sum), *(func.sum(getattr(model, name)) for name in BUCKET_COLUMNS)]


def _durations(count, seconds_sum, *buckets) -> Durations:
    cumulative = tuple(zip(DURATION_BOUNDS, (float(b or 0) for b in buckets), strict=True))
    return Durations(
        int(count or 0), float(seconds_sum or 0.0), (*cumulative, (float("inf"), float(count or 0)))
    )


NO_CALLS = CallFigures(0, 0, 0, _durations(0, 0.0, *[0] * len(BUCKET_COLUMNS)))


def carrier_calls(since: datetime) -> dict[str, CallFigures]:
    """Per carrier: calls, answers, rate-limit hits and latency of every process since `since`."""
    rows = db.session.execute(
        select(
            CarrierMinute.carrier,
            func.sum(CarrierMinute.calls),
            func.sum(CarrierMinute.ok),
            func.sum(CarrierMinute.rate_limited),
            *_duration_sums(CarrierMinute),
        )
        .where(CarrierMinute.minute >= since)
        .group_by(CarrierMinute.carrier)
    )
    return {
        carrier: CallFigures(int(calls or 0), int(ok or 0), int(limited or 0), _durations(calls, *durations))
        for carrier, calls, ok, limited, *durations in rows
    }


def last_successes() -> dict[str, datetime]:
    """Each carrier's last answered call by any process (over everything kept)."""
    query = (
        select(CarrierState.carrier, func.max(CarrierState.last_success_at))
        .where(CarrierState.last_success_at.is_not(None))
        .group_by(CarrierState.carrier)
    )
    return dict(db.session.execute(query).all())


def job_health(since: datetime, names: list[str]) -> list[JobHealth]:
    """Runs, failures, skips and durations of every process since `since`, for `names` and any other job
    that ran; last success and failure over everything kept."""
    rows = db.session.execute(
        select(
            JobMinute.job,
            func.sum(JobMinute.runs),
            func.sum(JobMinute.failures),
            func.sum(JobMinute.skipped),
            *_duration_sums(JobMinute),
        )
        .where(JobMinute.minute >= since)
        .group_by(JobMinute.job)
    )
    window = {job: (runs, failures, skipped, durations) for job, runs, failures, skipped, *durations in rows}
    last = {
        job: (ok_at, failed_at)
        for job, ok_at, failed_at in db.session.execute(
            select(
                JobMinute.job, func.max(JobMinute.last_ok_at), func.max(JobMinute.last_failed_at)
            ).group_by(JobMinute.job)
        )
    }
    result = []
    for name in names + sorted((set(window) | set(last)) - set(names)):
        runs, failures, skipped, durations = window.get(name, (0, 0, 0, [None] * (len(BUCKET_COLUMNS) + 1)))
        ok_at, failed_at = last.get(name, (None, None))
        result.append(
            JobHealth(
                name,
                int(runs or 0),
                int(failures or 0),
                int(skipped or 0),
                _durations(runs, *durations),
                ok_at,
                failed_at,
            )
        )
    return result


def process_health(since: datetime, now: datetime) -> list[ProcessHealth]:
    """Every process seen since `since` or still flushing, newest first, with its liveness at `now`."""
    calls = dict(
        db.session.execute(
            select(CarrierMinute.process_id, func.sum(CarrierMinute.calls))
            .where(CarrierMinute.minute >= since)
            .group_by(CarrierMinute.process_id)
        ).all()
    )
    runs = dict(
        db.session.execute(
            select(JobMinute.process_id, func.sum(JobMinute.runs))
            .where(JobMinute.minute >= since)
            .group_by(JobMinute.process_id)
        ).all()
    )
    breakers: dict[str, dict[str, str]] = defaultdict(dict)
    for state in db.session.scalars(select(CarrierState).order_by(CarrierState.carrier)):
        breakers[state.process_id][state.carrier] = state.breaker
    processes = db.session.scalars(
        select(WorkerProcess)
        .where(WorkerProcess.last_seen_at >= since)
        .order_by(WorkerProcess.started_at.desc())
    )
    return [
        ProcessHealth(
            id=p.id,
            host=p.host,
            pid=p.pid,
            started_at=p.started_at,
            last_seen_at=p.last_seen_at,
            state=liveness(p, now),
            calls=int(calls.get(p.id) or 0),
            job_runs=int(runs.get(p.id) or 0),
            breakers=breakers.get(p.id, {}),
        )
        for p in processes
    ]


def liveness(process: WorkerProcess, now: datetime) -> str:
    """`stopped` after a clean stop; `silent` when it missed a few flushes (killed, hung, cut off)."""
    if process.stopped_at is not None:
        return "stopped"
    quiet_for = max(timedelta(seconds=SILENT_AFTER_FLUSHES * process.flush_seconds), SILENT_AT_LEAST)
    return "silent" if now - process.last_seen_at > quiet_for else "live"
