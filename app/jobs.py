"""Background jobs, declared as data, run by APScheduler in the worker (or in-process when embedded)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from apscheduler.schedulers.base import BaseScheduler
from flask import Flask

from app import metrics
from app.claims.detection import detect_claims
from app.claims.progress import advance_claims
from app.delivery.replan import replan_due_days
from app.delivery.reservations import expire_holds
from app.extensions import db
from app.notify.dispatch import dispatch_due
from app.notify.time_triggers import scan_time_triggers
from app.risk.training import retrain_model
from app.tracking.polling import poll_due_shipments
from app.tracking.updates import rescore_active_shipments

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    """A periodic job: what to run and how often (config key holding seconds)."""

    name: str
    run: Callable[[], object]
    interval_setting: str


JOBS = [
    Job("poll-carriers", poll_due_shipments, "POLL_INTERVAL_SECONDS"),
    Job("rescore-risk", rescore_active_shipments, "RISK_RESCORE_INTERVAL_SECONDS"),
    Job("retrain-risk-model", retrain_model, "RISK_RETRAIN_INTERVAL_SECONDS"),
    Job("dispatch-outbox", dispatch_due, "OUTBOX_INTERVAL_SECONDS"),
    Job("notify-time-triggers", scan_time_triggers, "NOTIFY_SCAN_INTERVAL_SECONDS"),
    Job("expire-slot-holds", expire_holds, "EXPIRE_HOLDS_INTERVAL_SECONDS"),
    Job("replan-days", replan_due_days, "REPLAN_INTERVAL_SECONDS"),
    Job("detect-claims", detect_claims, "CLAIM_DETECT_INTERVAL_SECONDS"),
    Job("advance-claims", advance_claims, "CLAIM_PROGRESS_INTERVAL_SECONDS"),
]


def _in_app_context(app: Flask, job: Job) -> Callable[[], None]:
    def runner() -> None:
        with app.app_context():
            started, outcome = time.perf_counter(), "failed"
            try:
                result = job.run()
                outcome = "ok"
                log.debug("%s: %s", job.name, result)
            finally:
                metrics.record_job_run(job.name, outcome, time.perf_counter() - started)
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
