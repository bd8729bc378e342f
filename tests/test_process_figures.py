"""A process's carrier calls and job runs, polled for real from the sandbox carriers over HTTP, land in the
database at a flush: right figures, idempotent, its breakers, and old rows pruned."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.jobs import JOBS, Job, _in_app_context
from app.models import CarrierMinute, CarrierState, JobMinute, WorkerProcess
from app.process_figures import RETENTION, flush_figures, process_figures, prune_figures
from app.tracking.carrier_clients import get_carrier
from app.tracking.polling import poll_due_shipments
from carriers.numbers import make_tracking_number
from carriers.sandbox.faults import FaultKind, FaultSpec
from carriers.sandbox.server import SandboxServer, SandboxSettings
from tests.factories import make_shipment, make_shop

POLL_JOB = next(job for job in JOBS if job.name == "poll-carriers")


@pytest.fixture
def sandbox(app):
    server = SandboxServer(SandboxSettings(port=0, speed=1.0, token_ttl=600)).start()
    app.config.update(SANDBOX_URL=server.url, CARRIER_MODE="sandbox", CARRIER_MAX_RETRIES=0)
    yield server
    server.stop()


def watch(sandbox, shop, carrier: str, seq: int) -> None:
    """A delivered parcel at the sandbox, due for a poll now."""
    number = make_tracking_number(carrier, seq)
    sandbox.register(carrier, number, "on_time", created_at=sandbox.now() - timedelta(hours=200))
    make_shipment(shop, carrier=carrier, tracking_number=number, next_poll_at=datetime.now(UTC))


def calls_by_carrier() -> dict[str, tuple]:
    """Per carrier, summed over minutes: calls, ok, rate-limited, histogram count, seconds."""
    query = select(
        CarrierMinute.carrier,
        func.sum(CarrierMinute.calls),
        func.sum(CarrierMinute.ok),
        func.sum(CarrierMinute.rate_limited),
        func.sum(CarrierMinute.le_300000ms),
        func.sum(CarrierMinute.seconds_sum),
    ).group_by(CarrierMinute.carrier)
    return {carrier: tuple(rest) for carrier, *rest in db.session.execute(query)}


def job_runs(job: str) -> tuple:
    """Runs, failures, skipped, and the newest success and failure of `job`."""
    return db.session.execute(
        select(
            func.sum(JobMinute.runs),
            func.sum(JobMinute.failures),
            func.sum(JobMinute.skipped),
            func.max(JobMinute.last_ok_at),
            func.max(JobMinute.last_failed_at),
        ).where(JobMinute.job == job)
    ).one()


def test_a_flush_writes_the_calls_runs_and_breakers_of_this_process(app, sandbox) -> None:
    shop, _ = make_shop()
    watch(sandbox, shop, "fedex", 1)
    watch(sandbox, shop, "fedex", 2)  # one batch call for both
    watch(sandbox, shop, "ups", 3)
    watch(sandbox, shop, "dhl", 5)
    app.config["CARRIER_MAX_RETRIES"] = 1
    # UPS: a 429 asking for longer than a retry may wait, so the call fails; DHL: one 429, retried at once.
    sandbox.add_fault(FaultSpec(FaultKind.RATE_LIMIT, carrier="ups", retry_after=120))
    sandbox.add_fault(FaultSpec(FaultKind.RATE_LIMIT, carrier="dhl", retry_after=0, count=1))
    _in_app_context(app, POLL_JOB)()
    flush_figures()

    fedex, ups, dhl = (calls_by_carrier()[carrier] for carrier in ("fedex", "ups", "dhl"))
    assert fedex[:4] == (1, 1, 0, 1) and fedex[4] > 0
    assert ups[:4] == (1, 0, 1, 1)
    assert dhl[:4] == (1, 1, 1, 1)
    runs, failures, skipped, last_ok, last_failed = job_runs("poll-carriers")
    assert (runs, failures, skipped, last_failed) == (1, 0, 0, None) and last_ok is not None
    states = {s.carrier: s for s in db.session.scalars(select(CarrierState))}
    assert states["fedex"].breaker == "closed" and states["fedex"].last_success_at is not None
    assert states["ups"].last_success_at is None
    me = db.session.scalars(select(WorkerProcess)).one()
    assert (me.id, me.pid, me.stopped_at) == (process_figures().id, os.getpid(), None)

    # Flushing again writes the same totals, not twice as much.
    flush_figures()
    assert calls_by_carrier()["fedex"][:4] == (1, 1, 0, 1)
    assert job_runs("poll-carriers")[0] == 1

    # Later work adds to the figures already written; an open breaker shows at the next flush.
    for _ in range(get_carrier("ups").http.breaker.failures):
        get_carrier("ups").http.breaker.record_failure()
    watch(sandbox, shop, "fedex", 4)
    poll_due_shipments()
    flush_figures(stopping=True)
    db.session.expire_all()
    assert calls_by_carrier()["fedex"][:4] == (2, 2, 0, 2)
    assert db.session.get(CarrierState, (me.id, "ups")).breaker == "open"
    assert db.session.get(WorkerProcess, me.id).stopped_at is not None


def test_failed_and_skipped_runs_are_counted_apart(app) -> None:
    def broken() -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        _in_app_context(app, Job("test-broken", broken, "POLL_INTERVAL_SECONDS"))()
    process_figures().record_job("test-broken", "skipped", 0.001)
    flush_figures()
    runs, failures, skipped, last_ok, last_failed = job_runs("test-broken")
    assert (runs, failures, skipped, last_ok) == (1, 1, 1, None) and last_failed is not None
    # The flush job's own run is written by the next one.
    flush_job = next(job for job in JOBS if job.name == "flush-process-figures")
    _in_app_context(app, flush_job)()
    assert job_runs("flush-process-figures")[0] is None
    _in_app_context(app, flush_job)()
    assert job_runs("flush-process-figures")[0] == 1


def test_old_minutes_and_long_gone_processes_are_pruned(app) -> None:
    flush_figures()
    me = process_figures().id
    now = datetime.now(UTC)
    old = now - RETENTION - timedelta(minutes=5)
    db.session.add(
        WorkerProcess(id="gone:1:abc", host="gone", pid=1, started_at=old, last_seen_at=old, flush_seconds=30)
    )
    db.session.flush()
    for process_id in (me, "gone:1:abc"):
        db.session.add(
            CarrierMinute(
                process_id=process_id,
                carrier="bring",
                minute=old.replace(second=0, microsecond=0),
                calls=1,
                ok=1,
            )
        )
    db.session.add(
        CarrierMinute(
            process_id=me, carrier="bring", minute=now.replace(second=0, microsecond=0), calls=2, ok=2
        )
    )
    db.session.add(CarrierState(process_id="gone:1:abc", carrier="bring", breaker="open"))
    db.session.commit()
    prune_figures(me, now - RETENTION)
    db.session.commit()
    assert db.session.execute(select(CarrierMinute.process_id, CarrierMinute.calls)).all() == [(me, 2)]
    assert db.session.scalars(select(WorkerProcess.id)).all() == [me]
    assert db.session.scalars(select(CarrierState)).all() == []
