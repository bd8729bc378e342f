"""The sandbox's request log, its extra listeners, and one clock for the sandbox, workers and embedded."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import click
import pytest
import requests
from flask import Flask

from app.cli.sandbox import group
from app.cli.service import follow_sandbox_clock
from app.models.types import use_clock, utcnow
from carriers.base import CarrierSettings
from carriers.errors import CarrierError
from carriers.model import TrackingUpdate
from carriers.numbers import make_tracking_number
from carriers.registry import CARRIERS
from carriers.sandbox import FaultKind, FaultSpec, SandboxServer, SandboxSettings
from carriers.sandbox.remote_clock import RemoteClockError, RemoteSandboxClock
from carriers.sandbox.request_log import RequestLog

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
CREDENTIALS = {
    "api_uid": "sandbox@leveranse.test",
    "api_key": "sandbox-key",
    "client_id": "sandbox",
    "client_secret": "sandbox-secret",
}


@pytest.fixture
def server():
    with SandboxServer(SandboxSettings(speed=0, start=START)) as running:
        yield running


def _client(code: str, base_url: str):
    settings = CarrierSettings(
        base_url=base_url, credentials=CREDENTIALS, max_retries=0, rate_per_second=100.0
    )
    return CARRIERS[code](settings)


def test_every_number_asked_is_logged_with_its_fault_and_scans(server) -> None:
    number = make_tracking_number("bring", 1)
    server.register("bring", number, "on_time", created_at=START - timedelta(hours=20))
    server.add_fault(FaultSpec(FaultKind.SERVER_ERROR, count=1))
    client = _client("bring", server.base_url("bring"))
    with pytest.raises(CarrierError):
        client.track([number])
    [update] = client.track([number])
    assert isinstance(update, TrackingUpdate)

    body = requests.get(f"{server.url}/_sandbox/requests", params={"number": number}, timeout=5).json()
    first, second = body["requests"]
    assert (first["fault"], first["status"], first["scans"]) == ("server_error", 503, 0)  # Bring answers 503
    assert (second["fault"], second["status"], second["scans"]) == (None, 200, len(update.events))
    assert second["scans"] > 0
    assert {first["port"], second["port"]} == {server.port}
    assert first["at"] == second["at"] == START.isoformat()
    summary = requests.get(f"{server.url}/_sandbox/requests", params={"summary": "1"}, timeout=5).json()
    assert summary["numbers"] == {f"bring:{number}": {"requests": 2, "faulted": 1}}
    assert summary["dropped"] == 0

    assert requests.delete(f"{server.url}/_sandbox/requests", timeout=5).json()["requests"] == []
    assert server.requests() == []


def test_a_partial_fault_marks_only_the_numbers_it_failed(server) -> None:
    numbers = [make_tracking_number("fedex", i) for i in range(1, 5)]
    for number in numbers:
        server.register("fedex", number, "on_time", created_at=START - timedelta(hours=20))
    server.add_fault(FaultSpec(FaultKind.PARTIAL, count=1))
    _client("fedex", server.base_url("fedex")).track(numbers)
    logged = {e.tracking_number: e for e in server.requests(carrier="fedex")}
    assert {n for n, e in logged.items() if e.fault == "partial"} == set(numbers[::2])
    assert all(logged[n].served and logged[n].scans > 0 for n in numbers[1::2])
    assert len({e.request for e in logged.values()}) == 1  # one batch request


def test_each_extra_listener_is_told_apart(server) -> None:
    number = make_tracking_number("dhl", 7)
    port = server.listen()
    assert port != server.port
    _client("dhl", f"http://127.0.0.1:{port}/dhl").track([number])
    _client("dhl", server.base_url("dhl")).track([number])
    assert [e.port for e in server.requests(number)] == [port, server.port]


def test_the_log_keeps_only_the_newest_entries() -> None:
    log = RequestLog(capacity=3)
    for i in range(5):
        log.record("bring", [(f"N{i}", None, 1)], at=START, port=1, status=200)
    assert [e.tracking_number for e in log.entries()] == ["N2", "N3", "N4"]
    assert log.summary()["dropped"] == 2
    with pytest.raises(ValueError):
        RequestLog(capacity=0)


def test_a_remote_clock_follows_speed_and_jumps(server) -> None:
    clock = RemoteSandboxClock(server.url)
    with pytest.raises(RemoteClockError):
        clock.now()
    clock.sync()
    assert clock.now() == START
    requests.post(f"{server.url}/_sandbox/clock", json={"advance_seconds": 3600, "speed": 600}, timeout=5)
    clock.sync()
    later = clock.now()
    assert START + timedelta(hours=1) <= later < START + timedelta(hours=1, minutes=10)
    assert clock.speed == 600
    server.set_speed(0)
    clock.sync()
    assert clock.now() >= later  # never backwards, even when the reading lags
    with pytest.raises(RemoteClockError):
        RemoteSandboxClock("http://127.0.0.1:9", timeout=0.5).sync()


def test_a_worker_runs_on_the_sandbox_clock_when_configured(server) -> None:
    app = Flask(__name__)
    app.config.update(CLOCK="sandbox", SANDBOX_URL=server.url)
    try:
        assert "on the sandbox clock" in follow_sandbox_clock(app)
        assert utcnow() == START
    finally:
        use_clock(None)
        app.extensions["sandbox_clock"].stop()
    assert abs(utcnow() - datetime.now(UTC)) < timedelta(seconds=5)
    app.config.update(SANDBOX_URL="")
    with pytest.raises(click.ClickException):
        follow_sandbox_clock(app)


def test_the_sandbox_command_runs_at_the_configured_speed() -> None:
    app = Flask(__name__)
    app.config["SANDBOX_SPEED"] = 42.0
    app.cli.add_command(group)
    result = app.test_cli_runner().invoke(args=["sandbox", "--port", "0", "--duration", "0.1"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["speed"] == 42.0
