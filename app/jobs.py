"""Background jobs, declared as data, run by APScheduler in the worker (or in-process when embedded)."""

from __future__ import annotations

import logging
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass

from apscheduler.schedulers.base import BaseScheduler
from flask import Flask
from sqlalchemy import text

from app import metrics
from app.claims.detection import detect_claims
from app.claims.progress import advance_claims
from app.database import is_postgresql
from app.delivery.replan import replan_due_days
from app.delivery.reservations import expire_holds
from app.extensions import db
from app.notify.dispatch import dispatch_due
from app.notify.time_triggers import scan_time_triggers
from app.process_figures import flush_figures, record_job_run
from app.risk.training import retrain_model
from app.tracking.polling import poll_due_shipments
from app.tracking.updates import rescore_active_shipments

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    """A periodic job: what to run and how often (config key holding seconds). A `singleton` job makes a
    whole pass over the book: one worker at a time runs it, the others skip their turn."""

    name: str
    run: Callable[[], object]
    interval_setting: str
    singleton: bool = False


JOBS = [
    Job("poll-carriers", poll_due_shipments, "POLL_INTERVAL_SECONDS"),
    Job("rescore-risk", rescore_active_shipments, "RISK_RESCORE_INTERVAL_SECONDS", singleton=True),
    Job("retrain-risk-model", retrain_model, "RISK_RETRAIN_INTERVAL_SECONDS", singleton=True),
    Job("dispatch-outbox", dispatch_due, "OUTBOX_INTERVAL_SECONDS"),
    Job("notify-time-triggers", scan_time_triggers, "NOTIFY_SCAN_INTERVAL_SECONDS"),
    Job("expire-slot-holds", expire_holds, "EXPIRE_HOLDS_INTERVAL_SECONDS"),
    Job("replan-days", replan_due_days, "REPLAN_INTERVAL_SECONDS"),
    Job("detect-claims", detect_claims, "CLAIM_DETECT_INTERVAL_SECONDS", singleton=True),
    Job("advance-claims", advance_claims, "CLAIM_PROGRESS_INTERVAL_SECONDS"),
    Job("flush-process-figures", flush_figures, "FIGURES_FLUSH_SECONDS"),
]


@contextmanager
def sole_runner(name: str) -> Iterator[bool]:
    """True when this process may run the singleton job `name` now: on PostgreSQL it holds a session
    advisory lock on a connection of its own for the whole run (released at the end, or by the server
    when a killed worker's connection drops); elsewhere (SQLite: one process) always."""
    if not is_postgresql():
        yield True
        return
    key = zlib.crc32(f"leveranse-job:{name}".encode())
    with db.engine.connect() as conn:
        held = bool(conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar())
        conn.commit()
        try:
            yield held
        finally:
            if held:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                conn.commit()


def _in_app_context(app: Flask, job: Job) -> Callable[[], None]:
    def runner() -> None:
        with app.app_context():
            started, outcome = time.perf_counter(), "failed"
            try:
                with sole_runner(job.name) if job.singleton else nullcontext(True) as mine:
                    if not mine:
                        outcome = "skipped"
                        log.debug("%s: another worker is running it", job.name)
                        return
                    result = job.run()
                outcome = "ok"
                log.debug("%s: %s", job.name, result)
            finally:
                seconds = time.perf_counter() - started
                metrics.record_job_run(job.name, outcome, seconds)
                record_job_run(job.name, outcome, seconds)
                db.session.remove()

    return runner


def add_job(app: Flask, scheduler: BaseScheduler, job: Job) -> None:
    """Schedule one job; one instance at a time, missed runs coalesced."""
    scheduler.add_job(
        _in_app_context(app, job),
        "interval",
        seconds=app.config[job.interval_setting],
        id=job.name,
        max_instances=1,
        coalesce=True,
    )


def schedule_jobs(app: Flask, scheduler: BaseScheduler) -> BaseScheduler:
    """Add every job of JOBS to `scheduler`."""
    for job in JOBS:
        add_job(app, scheduler, job)
    return scheduler
