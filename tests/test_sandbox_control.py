"""Sandbox control: clock, scenario choice, registration, server lifecycle, CLI, and adapter parsing."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
import requests
from flask import Flask
from test_sandbox_carriers import CARRIERS, auth_headers, track

from app.cli.sandbox import group
from carriers.errors import TrackingNotFound
from carriers.model import Status, TrackingUpdate
from carriers.sandbox import SandboxServer, SandboxSettings, Scenario
from carriers.sandbox.apis import make_apis
from carriers.sandbox.clock import SandboxClock
from carriers.sandbox.scenarios import DEFAULT_WEIGHTS, choose_scenario

START = datetime(2024, 3, 4, 6, 0, tzinfo=UTC)


@pytest.fixture()
def server():
    with SandboxServer(SandboxSettings(speed=0, start=START)) as running:
        yield running


def test_clock_runs_at_speed_and_advances():
    clock = SandboxClock(START, speed=0)
    assert clock.now() == START
    assert clock.advance(90) == START + timedelta(seconds=90)
    clock.set_speed(3600)
    later = clock.now()
    assert START + timedelta(seconds=90) <= later < START + timedelta(hours=1)
    with pytest.raises(ValueError):
        clock.advance(-1)


def test_scenario_choice_is_deterministic_and_weighted():
    numbers = [f"WEIGHT{i:05d}" for i in range(2000)]
    chosen = [choose_scenario(n, DEFAULT_WEIGHTS) for n in numbers]
    assert chosen == [choose_scenario(n, DEFAULT_WEIGHTS) for n in numbers]
    share = {s: chosen.count(s) / len(chosen) for s in Scenario}
    assert 0.64 < share[Scenario.ON_TIME] < 0.76
    assert 0.08 < share[Scenario.LATE] < 0.16
    assert share[Scenario.NOT_FOUND] == 0
    assert choose_scenario("X", {Scenario.STUCK: 1.0}) is Scenario.STUCK


def test_unregistered_number_starts_when_first_queried(server):
    http = requests.Session()
    first = track(http, server, "dhl", ["FIRSTSEEN1"]).json()["shipments"][0]
    assert [e["statusCode"] for e in first["events"]] == ["pre-transit"]
    assert first["events"][0]["timestamp"] in (
        "2024-03-04T07:00:00",
        "2024-03-04T14:00:00",
    )  # Germany or Hong Kong
    server.advance(5 * 3600)
    again = track(http, server, "dhl", ["FIRSTSEEN1"]).json()["shipments"][0]
    assert [e["status"] for e in again["events"]] == ["PICKED UP", "SHIPMENT INFORMATION RECEIVED"]


def test_registration_endpoint_and_clock_endpoint(server):
    http = requests.Session()
    url = server.url + "/_sandbox/shipments"
    one = http.post(url, json={"carrier": "gls", "tracking_number": "REG0000001", "scenario": "on_time"})
    assert (one.status_code, one.json()) == (
        201,
        [
            {
                "carrier": "gls",
                "tracking_number": "REG0000001",
                "scenario": "on_time",
                "created_at": START.isoformat(),
            }
        ],
    )
    many = http.post(
        url,
        json=[
            {
                "carrier": "gls",
                "tracking_number": "REG0000002",
                "scenario": "returned",
                "created_at": "2024-03-01T00:00:00+00:00",
            },
            {"carrier": "ups", "tracking_number": "1ZREG000003", "scenario": "not_found"},
        ],
    )
    assert [s["scenario"] for s in many.json()] == ["returned", "not_found"]
    half_bad = [
        {"carrier": "gls", "tracking_number": "REGHALF1", "scenario": "lost"},
        {"carrier": "nope", "tracking_number": "1", "scenario": "on_time"},
    ]
    rejected = http.post(url, json=half_bad)
    assert (rejected.status_code, rejected.json()) == (
        400,
        {"error": "invalid registration: unknown carrier 'nope'"},
    )
    assert (
        http.post(url, json={"carrier": "gls", "tracking_number": "1", "scenario": "exploded"}).status_code
        == 400
    )
    assert (
        http.post(
            url,
            json={
                "carrier": "gls",
                "tracking_number": "1",
                "scenario": "lost",
                "created_at": "2024-03-01T00:00:00",
            },
        ).status_code
        == 400
    )

    headers = auth_headers(http, server, "gls")
    parcels = track(http, server, "gls", ["REG0000001", "REG0000002"], headers=headers).json()["parcels"]
    assert [p["status"] for p in parcels] == ["PREADVICE", "NOTDELIVERED"]

    clock = http.post(server.url + "/_sandbox/clock", json={"advance_seconds": 45 * 3600})
    assert clock.json() == {"now": "2024-03-06T03:00:00+00:00", "speed": 0.0}
    assert (
        track(http, server, "gls", ["REG0000001"], headers=headers).json()["parcels"][0]["status"]
        == "DELIVERED"
    )
    assert http.get(server.url + "/_sandbox/clock").json()["now"] == "2024-03-06T03:00:00+00:00"
    assert http.post(server.url + "/_sandbox/clock", json={"advance_seconds": -5}).status_code == 400
    assert http.post(server.url + "/_sandbox/clock", json={"speed": 600}).json()["speed"] == 600.0
    assert http.get(server.url + "/_sandbox/stats").json()["shipments"] == 3


def test_stop_closes_keep_alive_connections():
    server = SandboxServer().start()
    http = requests.Session()
    url = server.url + "/_sandbox/clock"
    assert http.get(url).status_code == 200
    server.stop()
    with pytest.raises(requests.ConnectionError):
        http.get(url, timeout=2)


def test_concurrent_clients_are_all_served(server):
    errors: list[int] = []

    def client(k: int) -> None:
        with requests.Session() as http:
            headers = auth_headers(http, server, "bring")
            for i in range(25):
                status = track(http, server, "bring", [f"CC{k}X{i}"], headers=headers).status_code
                if status != 200:
                    errors.append(status)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert server.stats()["requests"] == {"bring": {"track": 100}}


def test_cli_prints_base_urls_and_stops_after_duration():
    app = Flask(__name__)
    app.cli.add_command(group)
    result = app.test_cli_runner().invoke(
        args=["sandbox", "--port", "0", "--speed", "60", "--duration", "0.1"]
    )
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert printed["speed"] == 60.0
    assert sorted(printed["base_urls"]) == sorted(CARRIERS)
    assert printed["base_urls"]["ups"] == printed["url"] + "/ups"


EXPECTED_STATUS = {
    "on_time": dict.fromkeys(CARRIERS, Status.DELIVERED),
    "late": dict.fromkeys(CARRIERS, Status.DELIVERED),
    "stuck": dict.fromkeys(CARRIERS, Status.IN_TRANSIT),
    "lost": dict.fromkeys(CARRIERS, Status.EXCEPTION)
    | {"gls": Status.IN_TRANSIT, "thailandpost": Status.IN_TRANSIT},
    "damaged": dict.fromkeys(CARRIERS, Status.EXCEPTION)
    | {"gls": Status.IN_TRANSIT, "thailandpost": Status.IN_TRANSIT},
    "failed_attempt_then_pickup": dict.fromkeys(CARRIERS, Status.DELIVERED),
    "returned": {
        "bring": Status.RETURNED,
        "postnord": Status.RETURNING,
        "dhl": Status.RETURNING,
        "ups": Status.RETURNED,
        "fedex": Status.RETURNING,
        "usps": Status.RETURNING,
        "gls": Status.FAILED_ATTEMPT,
        "thailandpost": Status.RETURNING,
    },
}


def test_expected_statuses_match_the_code_tables():
    apis = make_apis()
    for scenario, by_carrier in EXPECTED_STATUS.items():
        assert {c: apis[c].expected_status(Scenario(scenario)) for c in CARRIERS} == by_carrier
    assert apis["bring"].expected_status(Scenario.NOT_FOUND) is Status.PENDING


@pytest.mark.parametrize("carrier", CARRIERS)
def test_adapters_parse_every_scenario(carrier):
    registry = pytest.importorskip("carriers.registry")
    http = requests.Session()
    with SandboxServer(SandboxSettings(speed=0, start=START)) as server:
        headers = auth_headers(http, server, carrier)
        parsed = {}
        for scenario in EXPECTED_STATUS:
            number = f"PA{carrier[:3].upper()}{len(parsed):03d}X"
            server.register(carrier, number, scenario, START - timedelta(days=10))
            results = registry.PARSERS[carrier](
                track(http, server, carrier, [number], headers=headers).content
            )
            (update,) = [r for r in results if isinstance(r, TrackingUpdate) and r.tracking_number == number]
            parsed[scenario] = update.status
        server.register(carrier, "PANOTFOUND1", "not_found", START - timedelta(days=10))
        body = track(http, server, carrier, ["PANOTFOUND1"], headers=headers).content
        try:
            results = registry.PARSERS[carrier](body)
        except TrackingNotFound:
            results = []
    assert parsed == {scenario: by_carrier[carrier] for scenario, by_carrier in EXPECTED_STATUS.items()}
    assert not any(isinstance(r, TrackingUpdate) and r.status is not Status.PENDING for r in results)
