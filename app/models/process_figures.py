"""What each worker process did, flushed by itself (app/process_figures.py): its heartbeat, its carrier
calls and job runs in one-minute buckets, and its circuit breakers. One process writes only its own rows,
so several workers never contend; the operations page adds them up."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime

# Upper bounds (seconds) of the duration histograms; each bucket column counts observations ≤ its bound
# (cumulative, as in Prometheus), so buckets of several processes and minutes add up.
DURATION_BOUNDS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
BUCKET_COLUMNS = tuple(f"le_{round(bound * 1000)}ms" for bound in DURATION_BOUNDS)


class WorkerProcess(db.Model):
    """One process that runs background jobs: when it started and when it last wrote its figures."""

    id: Mapped[str] = mapped_column(String(80), primary_key=True)  # host:pid:random
    host: Mapped[str] = mapped_column(String(64))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    flush_seconds: Mapped[float] = mapped_column(Float)  # its flush interval: silent after a few missed
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # a clean stop


class DurationBuckets:
    """Sum and cumulative bucket counts of a duration histogram (the count is the row's own total)."""

    seconds_sum: Mapped[float] = mapped_column(Float, default=0.0)
    le_50ms: Mapped[int] = mapped_column(Integer, default=0)
    le_100ms: Mapped[int] = mapped_column(Integer, default=0)
    le_250ms: Mapped[int] = mapped_column(Integer, default=0)
    le_500ms: Mapped[int] = mapped_column(Integer, default=0)
    le_1000ms: Mapped[int] = mapped_column(Integer, default=0)
    le_2500ms: Mapped[int] = mapped_column(Integer, default=0)
    le_5000ms: Mapped[int] = mapped_column(Integer, default=0)
    le_10000ms: Mapped[int] = mapped_column(Integer, default=0)
    le_30000ms: Mapped[int] = mapped_column(Integer, default=0)
    le_60000ms: Mapped[int] = mapped_column(Integer, default=0)
    le_300000ms: Mapped[int] = mapped_column(Integer, default=0)


class CarrierMinute(DurationBuckets, db.Model):
    """One process's tracking calls to one carrier in one minute (wall clock), with their latency."""

    __table_args__ = (Index("ix_carrier_minute_minute", "minute"),)

    process_id: Mapped[str] = mapped_column(
        ForeignKey("worker_process.id", ondelete="CASCADE"), primary_key=True
    )
    carrier: Mapped[str] = mapped_column(String(32), primary_key=True)
    minute: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    calls: Mapped[int] = mapped_column(Integer, default=0)
    ok: Mapped[int] = mapped_column(Integer, default=0)
    rate_limited: Mapped[int] = mapped_column(Integer, default=0)  # 429 answers, retried ones included


class JobMinute(DurationBuckets, db.Model):
    """One process's runs of one background job that ended in one minute (wall clock)."""

    __table_args__ = (Index("ix_job_minute_minute", "minute"),)

    process_id: Mapped[str] = mapped_column(
        ForeignKey("worker_process.id", ondelete="CASCADE"), primary_key=True
    )
    job: Mapped[str] = mapped_column(String(64), primary_key=True)
    minute: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    runs: Mapped[int] = mapped_column(Integer, default=0)  # ok + failed; the histogram counts these
    failures: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)  # a singleton another worker was running
    last_ok_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CarrierState(db.Model):
    """One process's circuit breaker towards one carrier, and its last answered call."""

    process_id: Mapped[str] = mapped_column(
        ForeignKey("worker_process.id", ondelete="CASCADE"), primary_key=True
    )
    carrier: Mapped[str] = mapped_column(String(32), primary_key=True)
    breaker: Mapped[str] = mapped_column(String(16))
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
