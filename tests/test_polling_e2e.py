"""Polling end to end over real sockets against the sandbox carriers, including every fault kind."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from app.extensions import db
from app.models import Shipment, TrackingEvent
from app.models.types import utcnow
from app.tracking import polling
from app.tracking.polling import poll_due_shipments
from carriers.numbers import make_tracking_number
from carriers.registry import CARRIERS
from carriers.sandbox.faults import FaultKind, FaultSpec
from carriers.sandbox.server import SandboxServer, SandboxSettings
from tests.factories import make_shipment, make_shop

# Final (status, reason) per scenario; where a carrier's real format has no code for an outcome
# (Bring has no "lost", GLS and Thailand Post no exception codes at all), the adapter must not invent one.
COMMON = {
    "on_time": ("delivered", None),
    "late": ("delivered", None),
    "stuck": ("in_transit", None),
    "failed_attempt_then_pickup": ("delivered", None),
}
FINAL = {
    "bring": {"lost": ("exception", None), "damaged": ("exception", None), "returned": ("returned", None)},
    "dhl": {
        "lost": ("exception", None),
        "damaged": ("exception", "damaged"),
        "returned": ("returning", None),
    },
    "fedex": {"lost": ("exception", None), "damaged": ("exception", None), "returned": ("returning", None)},
    "gls": {
        "lost": ("in_transit", None),
        "damaged": ("in_transit", None),
        "returned": ("failed_attempt", None),
    },
    "postnord": {
        "lost": ("exception", "held"),
        "damaged": ("exception", "held"),
        "returned": ("returning", None),
    },
    "thailandpost": {
        "lost": ("in_transit", None),
        "damaged": ("in_transit", None),
        "returned": ("returning", None),
    },
    "ups": {
        "lost": ("exception", "lost"),
        "damaged": ("exception", "damaged"),
        "returned": ("returned", None),
    },
    "usps": {"lost": ("exception", None), "damaged": ("exception", None), "returned": ("returning", None)},
}


@pytest.fixture
def sandbox(app):
    server = SandboxServer(SandboxSettings(port=0, speed=1.0, token_ttl=600)).start()
    app.config.update(SANDBOX_URL=server.url, CARRIER_MODE="sandbox", CARRIER_TIMEOUT_SECONDS=1.0)
    yield server
    server.stop()


def _watch(sandbox, shop, carrier: str, seq: int, scenario: str, hours_ago: float = 200) -> Shipment:
    number = make_tracking_number(carrier, seq)
    sandbox.register(carrier, number, scenario, created_at=sandbox.now() - timedelta(hours=hours_ago))
    return make_shipment(shop, carrier=carrier, tracking_number=number, next_poll_at=utcnow())


def _events(shipment: Shipment) -> int:
    return db.session.scalar(select(func.count()).where(TrackingEvent.shipment_id == shipment.id))


def _make_due(*shipments: Shipment) -> None:
    for shipment in shipments:
        shipment.next_poll_at = utcnow() - timedelta(seconds=1)
    db.session.commit()


@pytest.mark.parametrize("carrier", sorted(CARRIERS))
def test_every_carrier_every_scenario_reaches_its_final_status(app, sandbox, carrier) -> None:
    shop, _ = make_shop()
    expected = {**COMMON, **FINAL[carrier]}
    watched = {
        scenario: _watch(sandbox, shop, carrier, 10 + i, scenario) for i, scenario in enumerate(expected)
    }
    stats = poll_due_shipments()
    assert stats.shipments == len(expected)
    assert not stats.errors
    for scenario, shipment in watched.items():
        db.session.refresh(shipment)
        assert (shipment.status, shipment.reason) == expected[scenario], scenario
        assert shipment.last_checked_at is not None
        assert _events(shipment) >= 3
        if shipment.status == "delivered":
            assert shipment.delivered_at is not None
    # The same answers again change nothing.
    before = {s.id: _events(s) for s in watched.values()}
    _make_due(*watched.values())
    again = poll_due_shipments()
    assert again.events == 0
    assert {s.id: _events(s) for s in watched.values()} == before


def test_terminal_shipments_stop_being_polled_after_the_grace_period(app, sandbox) -> None:
    shop, _ = make_shop()
    shipment = _watch(sandbox, shop, "bring", 1, "on_time")
    poll_due_shipments()
    db.session.refresh(shipment)
    assert shipment.status == "delivered"
    assert shipment.next_poll_at is not None  # grace re-check for "delivered, then moved"
    shipment.status_changed_at = utcnow() - timedelta(days=3)
    _make_due(shipment)
    poll_due_shipments()
    db.session.refresh(shipment)
    assert shipment.next_poll_at is None


def _first_poll_then_fault(sandbox, shop, carrier: str, fault: FaultSpec) -> tuple[Shipment, int]:
    shipment = _watch(sandbox, shop, carrier, 3, "late", hours_ago=30)
    poll_due_shipments()
    db.session.refresh(shipment)
    stored = _events(shipment)
    assert stored > 0
    sandbox.advance(200 * 3600)
    sandbox.add_fault(fault)
    _make_due(shipment)
    return shipment, stored


@pytest.mark.parametrize(
    ("kind", "expected_error"),
    [
        (FaultKind.RATE_LIMIT, "rate_limited"),
        (FaultKind.SERVER_ERROR, "unavailable"),
        (FaultKind.TIMEOUT, "unavailable"),
        (FaultKind.MALFORMED, "malformed"),
    ],
)
def test_faults_are_recorded_and_lose_nothing(app, sandbox, kind, expected_error) -> None:
    app.config["CARRIER_MAX_RETRIES"] = 0
    shop, _ = make_shop()
    shipment, stored = _first_poll_then_fault(
        sandbox, shop, "bring", FaultSpec(kind, carrier="bring", retry_after=120, delay=1.5)
    )
    status_before = shipment.status
    stats = poll_due_shipments()
    db.session.refresh(shipment)
    assert stats.errors == {expected_error: 1}
    assert shipment.poll_failures == 1
    assert shipment.last_error.startswith(expected_error)
    assert shipment.status == status_before
    assert _events(shipment) == stored
    assert shipment.next_poll_at > utcnow()
    if kind is FaultKind.RATE_LIMIT:
        assert shipment.next_poll_at >= utcnow() + timedelta(seconds=110)
    # The fault passes; the next poll catches up.
    sandbox.clear_faults()
    _make_due(shipment)
    poll_due_shipments()
    db.session.refresh(shipment)
    assert (shipment.status, shipment.poll_failures, shipment.last_error) == ("delivered", 0, None)


def test_a_transient_server_error_is_retried_within_the_call(app, sandbox) -> None:
    shop, _ = make_shop()
    shipment, _ = _first_poll_then_fault(
        sandbox, shop, "ups", FaultSpec(FaultKind.SERVER_ERROR, carrier="ups", count=1)
    )
    stats = poll_due_shipments()
    db.session.refresh(shipment)
    assert not stats.errors
    assert shipment.status == "delivered"


def test_partial_batch_errors_fail_only_their_numbers(app, sandbox) -> None:
    shop, _ = make_shop()
    shipments = [_watch(sandbox, shop, "fedex", 100 + i, "on_time") for i in range(6)]
    sandbox.add_fault(FaultSpec(FaultKind.PARTIAL, carrier="fedex", probability=1.0))
    stats = poll_due_shipments()
    statuses = []
    for shipment in shipments:
        db.session.refresh(shipment)
        statuses.append(shipment.status)
    assert stats.calls == 1
    assert stats.errors["not_found"] >= 1
    assert statuses.count("delivered") == 6 - stats.errors["not_found"] >= 1


def test_a_crash_between_two_batches_loses_nothing_and_duplicates_nothing(app, sandbox, monkeypatch) -> None:
    app.config.update(POLL_FETCH_THREADS=1, POLL_INGEST_CHUNK=1)
    shop, _ = make_shop()
    shipments = [_watch(sandbox, shop, "bring", 200 + i, "on_time") for i in range(3)]
    real_ingest = polling._ingest_results
    calls = []

    def crash_on_second(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("worker killed")
        return real_ingest(*args, **kwargs)

    monkeypatch.setattr(polling, "_ingest_results", crash_on_second)
    with pytest.raises(RuntimeError):
        poll_due_shipments()
    db.session.rollback()
    monkeypatch.setattr(polling, "_ingest_results", real_ingest)
    done = [s for s in shipments if db.session.get(Shipment, s.id).status == "delivered"]
    assert len(done) == 1
    counts = {s.id: _events(s) for s in done}
    # The lease of the unfinished ones expires; the next run picks them up, and only them.
    later = utcnow() + timedelta(seconds=app.config["POLL_LEASE_SECONDS"] + 1)
    stats = poll_due_shipments(now=later)
    assert stats.shipments == 2
    for shipment in shipments:
        assert db.session.get(Shipment, shipment.id).status == "delivered"
    assert {s.id: _events(s) for s in done} == counts


def test_concurrent_workers_never_claim_the_same_shipment(app) -> None:
    """Several workers (threads with their own sessions) claim disjoint sets; together they get all."""
    import threading

    from app.tracking.polling import claim_due_shipments

    shop, _ = make_shop()
    for index in range(60):
        make_shipment(shop, tracking_number=f"C{index}", next_poll_at=utcnow() - timedelta(minutes=1))
    claimed: list[list[int]] = []
    barrier = threading.Barrier(4)

    def work() -> None:
        with app.app_context():
            barrier.wait()
            mine = []
            while batch := claim_due_shipments("bring", 7, utcnow()):
                mine.extend(batch)
            claimed.append(mine)
            db.session.remove()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = [shipment_id for mine in claimed for shipment_id, _ in mine]
    assert len(everything) == 60
    assert len(set(everything)) == 60


def _failing_ingest(monkeypatch, failures: int) -> list[int]:
    """Make the ingest fail with a database error `failures` times (as a deadlock would), then work."""
    calls = []
    real = polling.process_updates

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) <= failures:
            raise OperationalError("UPDATE shipment …", {}, Exception("deadlock detected"))
        return real(*args, **kwargs)

    monkeypatch.setattr(polling, "process_updates", flaky)
    return calls


def test_a_failed_ingest_is_retried_with_the_answers_already_fetched(app, sandbox, monkeypatch) -> None:
    shop, _ = make_shop()
    watched = [_watch(sandbox, shop, "bring", 40 + i, "on_time") for i in range(3)]
    calls = _failing_ingest(monkeypatch, failures=1)
    before = sandbox.stats()["total_requests"]
    stats = poll_due_shipments()
    assert len(calls) == 2
    # Bring takes one number per call: three calls, made once; nothing counted twice.
    assert (stats.calls, stats.shipments) == (3, 3)
    assert sandbox.stats()["total_requests"] - before == 3
    for shipment in watched:
        db.session.refresh(shipment)
        assert shipment.status == "delivered" and _events(shipment) >= 3


def test_a_chunk_that_cannot_be_ingested_is_released_for_the_next_run(app, sandbox, monkeypatch) -> None:
    shop, _ = make_shop()
    watched = [_watch(sandbox, shop, "bring", 50 + i, "on_time") for i in range(2)]
    _failing_ingest(monkeypatch, failures=2)
    before = utcnow()
    stats = poll_due_shipments()
    assert stats.errors["ingest_failed"] == 1
    for shipment in watched:
        db.session.refresh(shipment)
        assert shipment.next_poll_at <= utcnow() and shipment.next_poll_at >= before - timedelta(seconds=1)
        assert _events(shipment) == 0
