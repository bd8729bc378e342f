"""Every polling client against the sandbox carriers over real sockets (skipped if the sandbox is absent)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from carriers.base import CarrierSettings
from carriers.model import Status, TrackingUpdate
from carriers.numbers import make_tracking_number
from carriers.registry import CARRIERS

sandbox = pytest.importorskip("carriers.sandbox.server")
CREDENTIALS = {
    "api_uid": "sandbox@leveranse.test",
    "api_key": "sandbox-key",
    "client_id": "sandbox",
    "client_secret": "sandbox-secret",
}


@pytest.fixture(scope="module")
def server():
    with sandbox.SandboxServer() as running:
        yield running


@pytest.mark.parametrize("code", sorted(CARRIERS))
def test_client_round_trip(server, code: str) -> None:
    delivered, unknown = make_tracking_number(code, 1), make_tracking_number(code, 2)
    server.register(code, delivered, "on_time", server.now() - timedelta(days=20))
    settings = CarrierSettings(base_url=server.base_url(code), credentials=CREDENTIALS, rate_per_second=100.0)
    client = CARRIERS[code](settings)
    results = client.track([delivered, unknown])
    by_number = {r.tracking_number: r for r in results}
    assert set(by_number) == {delivered, unknown}
    assert isinstance(by_number[delivered], TrackingUpdate)
    assert by_number[delivered].status is Status.DELIVERED
    assert by_number[delivered].warnings == ()
    assert all(e.occurred_at.utcoffset() is not None for e in by_number[delivered].events)
