"""HTTP mechanisms and carrier clients against a real local HTTP server on 127.0.0.1."""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

import pytest

from carriers.base import CarrierSettings
from carriers.breaker import BreakerState
from carriers.errors import (
    CarrierAuthError,
    CarrierRateLimited,
    CarrierUnavailable,
    TrackingFailure,
    TrackingNotFound,
)
from carriers.http import HttpClient, parse_retry_after, scrub_url
from carriers.model import Status
from carriers.ratelimit import TokenBucket
from carriers.registry import CARRIERS
from notifications.sandbox import LoopbackServer


@dataclass
class Seen:
    """One request the server received."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


Reply = tuple[int, dict[str, str], bytes]


@dataclass
class Server:
    """A tiny scripted HTTP server: `handle` decides each reply, `seen` records requests."""

    url: str = ""
    seen: list[Seen] = field(default_factory=list)
    handle: Callable[[Seen], Reply] = lambda seen: (200, {}, b"{}")


@pytest.fixture
def server() -> Iterator[Server]:
    state = Server()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            parts = urlsplit(self.path)
            seen = Seen(
                self.command, parts.path, parse_qs(parts.query), dict(self.headers), self.rfile.read(length)
            )
            state.seen.append(seen)
            status, headers, body = state.handle(seen)
            try:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout test)

        do_GET = do_POST = _serve

        def log_message(self, *args: object) -> None:
            pass

    with LoopbackServer(Handler) as httpd:
        state.url = httpd.url
        yield state


def make_client(**overrides: object) -> tuple[HttpClient, list[float]]:
    sleeps: list[float] = []
    options = {
        "timeout": 2.0,
        "max_retries": 2,
        "rate_per_second": 1000.0,
        "breaker_failures": 3,
        "breaker_reset_seconds": 30.0,
    }
    options.update(overrides)
    return HttpClient("test", sleep=sleeps.append, **options), sleeps


def test_retry_honours_retry_after_seconds(server: Server) -> None:
    replies = iter(
        [(429, {"Retry-After": "7"}, b"slow down"), (503, {"Retry-After": "2"}, b""), (200, {}, b"ok")]
    )
    server.handle = lambda seen: next(replies)
    client, sleeps = make_client()
    assert client.request("GET", server.url + "/x").content == b"ok"
    assert sleeps == [7.0, 2.0]
    assert len(server.seen) == 3


def test_retries_exhausted_raise_rate_limited_with_retry_after(server: Server) -> None:
    server.handle = lambda seen: (429, {"Retry-After": "3"}, b"")
    client, sleeps = make_client(max_retries=1)
    with pytest.raises(CarrierRateLimited) as caught:
        client.request("GET", server.url + "/x")
    assert (caught.value.retry_after, sleeps, len(server.seen)) == (3.0, [3.0], 2)


def test_long_retry_after_is_not_slept_but_reported(server: Server) -> None:
    server.handle = lambda seen: (429, {"Retry-After": "3600"}, b"")
    client, sleeps = make_client()
    with pytest.raises(CarrierRateLimited) as caught:
        client.request("GET", server.url + "/x")
    assert (caught.value.retry_after, sleeps, len(server.seen)) == (3600.0, [], 1)


def test_5xx_backs_off_exponentially_with_jitter(server: Server) -> None:
    server.handle = lambda seen: (502, {}, b"bad gateway")
    client, sleeps = make_client(max_retries=2)
    with pytest.raises(CarrierUnavailable):
        client.request("GET", server.url + "/x")
    assert len(sleeps) == 2 and 0.25 <= sleeps[0] <= 0.5 and 0.5 <= sleeps[1] <= 1.0


def test_retry_after_http_date() -> None:
    from datetime import datetime

    now = datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("Mon, 01 Jan 2024 12:00:30 GMT", now=lambda: now) == 30.0
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after("soon") is None


def test_status_translation(server: Server) -> None:
    client, _ = make_client(max_retries=0)
    for status, error in (
        (401, CarrierAuthError),
        (403, CarrierAuthError),
        (404, TrackingNotFound),
        (500, CarrierUnavailable),
    ):
        server.handle = lambda seen, status=status: (status, {}, b"{}")
        with pytest.raises(error):
            client.request("GET", server.url + "/x")


def test_timeout_is_unavailable(server: Server) -> None:
    def slow(seen: Seen) -> Reply:
        time.sleep(0.5)
        return 200, {}, b"late"

    server.handle = slow
    client, _ = make_client(timeout=0.1, max_retries=0)
    with pytest.raises(CarrierUnavailable, match="timeout"):
        client.request("GET", server.url + "/x")


def test_connection_refused_is_unavailable() -> None:
    client, _ = make_client(max_retries=0)
    with pytest.raises(CarrierUnavailable, match="connection failed"):
        client.request("GET", "http://127.0.0.1:9/x")


def test_breaker_opens_then_half_opens(server: Server) -> None:
    now = [0.0]
    server.handle = lambda seen: (500, {}, b"")
    client = HttpClient(
        "test",
        timeout=1.0,
        max_retries=0,
        rate_per_second=1000.0,
        breaker_failures=2,
        breaker_reset_seconds=10.0,
        sleep=lambda s: None,
        clock=lambda: now[0],
    )
    for _ in range(2):
        with pytest.raises(CarrierUnavailable):
            client.request("GET", server.url + "/x")
    assert client.breaker.state is BreakerState.OPEN
    with pytest.raises(CarrierUnavailable, match="circuit breaker open") as caught:
        client.request("GET", server.url + "/x")
    assert caught.value.retry_after == 10.0 and len(server.seen) == 2
    now[0] = 11.0
    server.handle = lambda seen: (200, {}, b"ok")
    assert client.breaker.state is BreakerState.HALF_OPEN
    assert client.request("GET", server.url + "/x").content == b"ok"
    assert client.breaker.state is BreakerState.CLOSED


def test_token_bucket_spaces_calls() -> None:
    now, waits = [0.0], []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    bucket = TokenBucket(2.0, capacity=1.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(3):
        bucket.acquire()
    assert waits == [0.5, 0.5]


def test_scrub_url_masks_keys() -> None:
    assert scrub_url("https://h/p?id=1&apikey=SECRET&locale=en") == "https://h/p?id=1&apikey=***&locale=en"


def settings_for(server: Server, **credentials: str) -> CarrierSettings:
    return CarrierSettings(base_url=server.url, credentials=credentials, max_retries=0)


def test_bring_client_sends_real_request(server: Server) -> None:
    body = {"consignmentSet": [{"packageSet": [{"packageNumber": "370438101015432217", "eventSet": []}]}]}
    server.handle = lambda seen: (200, {"Content-Type": "application/json"}, json.dumps(body).encode())
    carrier = CARRIERS["bring"](settings_for(server, api_uid="me@example.com", api_key="k"))
    (update,) = carrier.track(["70438101015432200"])
    (seen,) = server.seen
    assert (seen.method, seen.path, seen.query) == (
        "GET",
        "/tracking/api/v2/tracking.json",
        {"q": ["70438101015432200"], "lang": ["en"]},
    )
    assert (seen.headers["X-Mybring-API-Uid"], seen.headers["X-Mybring-API-Key"]) == ("me@example.com", "k")
    assert (update.tracking_number, update.carrier_ref, update.status) == (
        "70438101015432200",
        "370438101015432217",
        Status.PENDING,
    )


def test_not_found_becomes_a_failure_per_number(server: Server) -> None:
    server.handle = lambda seen: (404, {}, b'{"title": "No result found", "status": 404}')
    carrier = CARRIERS["dhl"](settings_for(server, api_key="k"))
    (failure,) = carrier.track(["0000000103"])
    assert isinstance(failure, TrackingFailure) and failure.tracking_number == "0000000103"
    assert isinstance(failure.error, TrackingNotFound)
    assert server.seen[0].headers["DHL-API-Key"] == "k" and server.seen[0].path == "/track/shipments"


def test_oauth_token_cached_and_refreshed_once_on_401(server: Server) -> None:
    tokens = iter(["t1", "t2"])
    track_calls = []

    def handle(seen: Seen) -> Reply:
        if seen.path == "/security/v1/oauth/token":
            return 200, {}, json.dumps({"access_token": next(tokens), "expires_in": "14399"}).encode()
        track_calls.append(seen.headers["Authorization"])
        if len(track_calls) == 2:
            return (
                401,
                {},
                b'{"response":{"errors":[{"code":"250002","message":"Invalid Authentication."}]}}',
            )
        body = {
            "trackResponse": {
                "shipment": [{"inquiryNumber": seen.path.rsplit("/", 1)[1], "package": [{"activity": []}]}]
            }
        }
        return 200, {}, json.dumps(body).encode()

    server.handle = handle
    carrier = CARRIERS["ups"](settings_for(server, client_id="id", client_secret="secret"))
    carrier.track(["1Z999AA10100000004"])
    carrier.track(["1Z999AA10100000102"])
    assert track_calls == ["Bearer t1", "Bearer t1", "Bearer t2"]
    token_requests = [s for s in server.seen if s.path == "/security/v1/oauth/token"]
    assert len(token_requests) == 2
    assert token_requests[0].headers["Authorization"] == "Basic " + base64.b64encode(b"id:secret").decode()
    assert parse_qs(token_requests[0].body.decode()) == {"grant_type": ["client_credentials"]}
    track = [s for s in server.seen if s.path.startswith("/api/track/v1/details/")][0]
    assert track.headers["transactionSrc"] == "leveranse" and len(track.headers["transId"]) == 32


def test_fedex_batches_thirty_and_accounts_for_every_number(server: Server) -> None:
    def handle(seen: Seen) -> Reply:
        if seen.path == "/oauth/token":
            assert parse_qs(seen.body.decode()) == {
                "grant_type": ["client_credentials"],
                "client_id": ["id"],
                "client_secret": ["secret"],
            }
            return 200, {}, b'{"access_token": "tok", "expires_in": 3600}'
        numbers = [i["trackingNumberInfo"]["trackingNumber"] for i in json.loads(seen.body)["trackingInfo"]]
        # FedEx answers only the first number of each batch.
        results = [
            {
                "trackingNumber": numbers[0],
                "trackResults": [{"latestStatusDetail": {"code": "IT"}, "scanEvents": []}],
            }
        ]
        return 200, {}, json.dumps({"output": {"completeTrackResults": results}}).encode()

    server.handle = handle
    carrier = CARRIERS["fedex"](settings_for(server, client_id="id", client_secret="secret"))
    numbers = [f"7000000{i:05d}" for i in range(31)]
    results = carrier.track(numbers)
    batches = [
        json.loads(s.body)["trackingInfo"] for s in server.seen if s.path == "/track/v1/trackingnumbers"
    ]
    assert [len(b) for b in batches] == [30, 1]
    assert [r.tracking_number for r in results] == numbers
    assert [type(r).__name__ for r in results] == ["TrackingUpdate"] + ["TrackingFailure"] * 29 + [
        "TrackingUpdate"
    ]


def test_thailandpost_two_step_token(server: Server) -> None:
    def handle(seen: Seen) -> Reply:
        if seen.path == "/post/api/v1/authenticate/token":
            assert seen.headers["Authorization"] == "Token dashboard-key"
            return 200, {}, b'{"expire": "2099-04-24 17:30:48+07:00", "token": "short"}'
        assert seen.headers["Authorization"] == "Token short"
        barcodes = json.loads(seen.body)["barcode"]
        return (
            200,
            {},
            json.dumps({"response": {"items": {b: [] for b in barcodes}}, "status": True}).encode(),
        )

    server.handle = handle
    carrier = CARRIERS["thailandpost"](settings_for(server, api_key="dashboard-key"))
    results = carrier.track(["EY000000005TH", "EY000000102TH"]) + carrier.track(["EY000000209TH"])
    assert [(r.tracking_number, r.error.kind) for r in results] == [
        ("EY000000005TH", "not_found"),
        ("EY000000102TH", "not_found"),
        ("EY000000209TH", "not_found"),
    ]
    assert [s.path for s in server.seen].count("/post/api/v1/authenticate/token") == 1
    assert json.loads(server.seen[1].body) == {
        "status": "all",
        "language": "EN",
        "barcode": ["EY000000005TH", "EY000000102TH"],
    }


def test_postnord_key_never_reaches_the_logs(server: Server, caplog: pytest.LogCaptureFixture) -> None:
    server.handle = lambda seen: (500, {}, b"boom")
    carrier = CARRIERS["postnord"](settings_for(server, api_key="SECRETKEY123"))
    with (
        caplog.at_level(logging.DEBUG, logger="carriers.postnord"),
        pytest.raises(CarrierUnavailable) as caught,
    ):
        carrier.track(["UA000000005SE"])
    assert server.seen[0].query["apikey"] == ["SECRETKEY123"]
    assert caplog.records and all("SECRETKEY123" not in r.getMessage() for r in caplog.records)
    assert "SECRETKEY123" not in caught.value.message


def test_missing_credentials_are_an_auth_error() -> None:
    with pytest.raises(CarrierAuthError, match="client_id"):
        CARRIERS["gls"](CarrierSettings(base_url="http://127.0.0.1:1", credentials={"client_secret": "s"}))
