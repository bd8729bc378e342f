"""Background jobs, declared as data, run by APScheduler in the worker (or in-process when embedded)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from apscheduler.schedulers.base import BaseScheduler
from flask import Flask

from app.extensions import db
from app.polling import poll_due_shipments
from app.risk import rescore_active_shipments, retrain_model

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
]


def _in_app_context(app: Flask, job: Job) -> Callable[[], None]:
    def runner() -> None:
        with app.app_context():
            try:
                result = job.run()
                log.debug("%s: %s", job.name, result)
            finally:
                db.session.remove()

    return runner


def schedule_jobs(app: Flask, scheduler: BaseScheduler) -> BaseScheduler:
    """Add every job to `scheduler`; one instance of each at a time, missed runs coalesced."""
    for job in JOBS:
        scheduler.add_job(
            _in_app_context(app, job),
            "interval",
            seconds=app.config[job.interval_setting],
            id=job.name,
            max_instances=1,
            coalesce=True,
        )
    return scheduler
