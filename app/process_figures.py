"""This process's carrier calls and job runs, tallied in memory per one-minute bucket and written to the
database by the `flush-process-figures` job, so the operations page can add up every worker's figures.

A flush writes each open minute's totals so far (not increments): flushing again, or after a failed
commit, writes the same rows again. A minute is dropped from memory once it is over and written, so a
process killed between two flushes loses at most what it did since the last one.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite

from app.database import is_postgresql
from app.extensions import db
from app.models.process_figures import (
    BUCKET_COLUMNS,
    DURATION_BOUNDS,
    CarrierMinute,
    CarrierState,
    JobMinute,
    WorkerProcess,
)

MINUTE = timedelta(minutes=1)
RETENTION = timedelta(days=7)
PRUNE_EVERY = timedelta(hours=1)
_create_lock = threading.Lock()


@dataclass
class Tally:
    """Counts and durations of one carrier's calls, or one job's runs, in one minute."""

    count: int = 0  # calls, or runs that ran (the histogram's count)
    ok: int = 0
    failed: int = 0
    rate_limited: int = 0
    skipped: int = 0
    seconds_sum: float = 0.0
    buckets: list[int] = field(default_factory=lambda: [0] * len(DURATION_BOUNDS))
    last_ok_at: datetime | None = None
    last_failed_at: datetime | None = None

    def observe(self, seconds: float) -> None:
        """Count one call or run that took `seconds`."""
        self.count += 1
        self.seconds_sum += seconds
        for index, bound in enumerate(DURATION_BOUNDS):
            if seconds <= bound:
                self.buckets[index] += 1

    def histogram(self) -> dict[str, float]:
        """The duration columns of a minute row."""
        return {"seconds_sum": self.seconds_sum, **dict(zip(BUCKET_COLUMNS, self.buckets, strict=True))}


class ProcessFigures:
    """The tallies of one process (one per app, created on first use), safe to update from any thread."""

    def __init__(self, flush_seconds: float) -> None:
        self.host = socket.gethostname()[:64]
        self.pid = os.getpid()
        self.id = f"{self.host[:60]}:{self.pid}:{secrets.token_hex(3)}"
        self.started_at = datetime.now(UTC)
        self.flush_seconds = flush_seconds
        self.pruned_at: datetime | None = None
        self._lock = threading.Lock()
        self._calls: dict[tuple[str, datetime], Tally] = {}
        self._jobs: dict[tuple[str, datetime], Tally] = {}
        self._last_success: dict[str, datetime] = {}
        self._hits_seen: dict[str, int] = {}

    def _tally(self, tallies: dict[tuple[str, datetime], Tally], name: str, now: datetime) -> Tally:
        key = (name, now.replace(second=0, microsecond=0))
        if key not in tallies:
            tallies[key] = Tally()
        return tallies[key]

    def record_call(self, carrier: str, outcome: str, seconds: float) -> None:
        """One tracking call to `carrier`: outcome `ok` or the carrier error's kind (rate-limit answers
        are counted from the client, record_rate_limits, as a call may have retried some)."""
        with self._lock:
            now = datetime.now(UTC)
            tally = self._tally(self._calls, carrier, now)
            tally.observe(seconds)
            if outcome == "ok":
                tally.ok += 1
                self._last_success[carrier] = now
            else:
                tally.failed += 1

    def record_rate_limits(self, carrier: str, hits: int) -> None:
        """Count the 429 answers `carrier`'s client received since the last look (`hits`: its running
        total), retried ones included, in the current minute."""
        with self._lock:
            seen = self._hits_seen.get(carrier, 0)
            new = hits - seen if hits >= seen else hits  # a smaller total: a new client
            self._hits_seen[carrier] = hits
            if new:
                self._tally(self._calls, carrier, datetime.now(UTC)).rate_limited += new

    def record_job(self, job: str, outcome: str, seconds: float) -> None:
        """One run of `job`: `ok`, `failed`, or `skipped` (a singleton another worker was running)."""
        with self._lock:
            now = datetime.now(UTC)
            tally = self._tally(self._jobs, job, now)
            if outcome == "skipped":
                tally.skipped += 1
                return
            tally.observe(seconds)
            if outcome == "ok":
                tally.ok += 1
                tally.last_ok_at = now
            else:
                tally.failed += 1
                tally.last_failed_at = now

    def snapshot(self) -> tuple[datetime, dict, dict, dict[str, datetime]]:
        """The time and copies of every tally not yet dropped, for a flush."""
        with self._lock:
            copy = {key: replace(tally, buckets=list(tally.buckets)) for key, tally in self._calls.items()}
            jobs = {key: replace(tally, buckets=list(tally.buckets)) for key, tally in self._jobs.items()}
            return datetime.now(UTC), copy, jobs, dict(self._last_success)

    def forget_before(self, moment: datetime) -> None:
        """Drop the minutes that ended by `moment` (written by a flush that snapshot them at `moment`)."""
        with self._lock:
            for tallies in (self._calls, self._jobs):
                for key in [key for key in tallies if key[1] + MINUTE <= moment]:
                    del tallies[key]


def process_figures() -> ProcessFigures:
    """This app's tallies (created on first use)."""
    app = current_app._get_current_object()
    with _create_lock:
        if "leveranse_process_figures" not in app.extensions:
            app.extensions["leveranse_process_figures"] = ProcessFigures(app.config["FIGURES_FLUSH_SECONDS"])
        return app.extensions["leveranse_process_figures"]


def record_carrier_call(carrier: str, outcome: str, seconds: float) -> None:
    """Tally one tracking call of this process."""
    process_figures().record_call(carrier, outcome, seconds)


def record_job_run(job: str, outcome: str, seconds: float) -> None:
    """Tally one background job run of this process."""
    process_figures().record_job(job, outcome, seconds)


def _upsert(model, rows: list[dict]) -> None:
    """INSERT … ON CONFLICT (primary key) DO UPDATE every other column, on either dialect."""
    if not rows:
        return
    table = model.__table__
    statement = (postgresql.insert if is_postgresql() else sqlite.insert)(table)
    keys = [column.name for column in table.primary_key.columns]
    statement = statement.on_conflict_do_update(
        index_elements=keys,
        set_={name: statement.excluded[name] for name in rows[0] if name not in keys},
    )
    db.session.execute(statement, rows)


def flush_figures(stopping: bool = False) -> int:
    """Write this process's heartbeat, breakers and open minutes (commits); returns the minute rows
    written. `stopping`: the process ends cleanly, so the page shows it as stopped, not silent."""
    figures = process_figures()
    clients = current_app.extensions.get("leveranse_carriers", {})
    for carrier, client in list(clients.items()):
        figures.record_rate_limits(carrier, client.http.rate_limit_hits)
    now, calls, jobs, last_success = figures.snapshot()
    me = figures.id
    _upsert(
        WorkerProcess,
        [
            {
                "id": me,
                "host": figures.host,
                "pid": figures.pid,
                "started_at": figures.started_at,
                "last_seen_at": now,
                "flush_seconds": figures.flush_seconds,
                "stopped_at": now if stopping else None,
            }
        ],
    )
    _upsert(
        CarrierState,
        [
            {
                "process_id": me,
                "carrier": carrier,
                "breaker": client.http.breaker.state.value,
                "last_success_at": last_success.get(carrier),
            }
            for carrier, client in sorted(clients.items())
        ],
    )
    call_rows = [
        dict(
            process_id=me, carrier=carrier, minute=minute, calls=t.count, ok=t.ok, rate_limited=t.rate_limited
        )
        | t.histogram()
        for (carrier, minute), t in sorted(calls.items())
    ]
    job_rows = [
        dict(process_id=me, job=job, minute=minute, runs=t.count, failures=t.failed, skipped=t.skipped)
        | dict(last_ok_at=t.last_ok_at, last_failed_at=t.last_failed_at)
        | t.histogram()
        for (job, minute), t in sorted(jobs.items())
    ]
    _upsert(CarrierMinute, call_rows)
    _upsert(JobMinute, job_rows)
    db.session.commit()
    figures.forget_before(now)
    if figures.pruned_at is None or now - figures.pruned_at >= PRUNE_EVERY:
        prune_figures(me, now - RETENTION)
        db.session.commit()
        figures.pruned_at = now
    return len(call_rows) + len(job_rows)


def prune_figures(process_id: str, before: datetime) -> None:
    """Delete this process's minutes from before `before`, and every process last seen before it (its
    rows go with it, ON DELETE CASCADE): each worker deletes only its own rows and long-gone processes'."""
    for model in (CarrierMinute, JobMinute):
        db.session.execute(delete(model).where(model.process_id == process_id, model.minute < before))
    db.session.execute(delete(WorkerProcess).where(WorkerProcess.last_seen_at < before))
