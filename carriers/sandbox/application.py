"""The sandbox WSGI application: carrier endpoints with fault injection, and the `/_sandbox` control API."""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from werkzeug import Request, Response
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule

from carriers.sandbox.apis import make_apis, make_claim_apis
from carriers.sandbox.base import CarrierApi, SandboxContext, Tracked, json_response
from carriers.sandbox.claims import ClaimDesk
from carriers.sandbox.clock import SandboxClock
from carriers.sandbox.faults import DrawnFault, FaultBox, FaultKind, FaultSpec
from carriers.sandbox.request_log import RequestLog
from carriers.sandbox.scenarios import Scenario
from carriers.sandbox.settings import SandboxSettings
from carriers.sandbox.shipments import Shipment, ShipmentStore
from carriers.sandbox.stats import Stats
from carriers.sandbox.tokens import TokenStore

_HTML_ERROR = (
    b"<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center>"
    b"<hr><center>nginx</center></body></html>"
)
_CONTROL_RULES = [
    Rule("/_sandbox/shipments", endpoint="shipments", methods=["POST"]),
    Rule("/_sandbox/clock", endpoint="clock", methods=["GET", "POST"]),
    Rule("/_sandbox/faults", endpoint="faults", methods=["GET", "POST", "DELETE"]),
    Rule("/_sandbox/stats", endpoint="stats", methods=["GET", "DELETE"]),
    Rule("/_sandbox/requests", endpoint="requests", methods=["GET", "DELETE"]),
]


class SandboxApp:
    """All sandbox state (clock, shipments, tokens, faults, stats, request log) and the WSGI entry point."""

    def __init__(self, settings: SandboxSettings) -> None:
        self.settings = settings
        self.clock = SandboxClock(settings.start, settings.speed)
        self.store = ShipmentStore(settings.weights)
        self.faults = FaultBox(settings.faults, settings.fault_seed)
        self.stats = Stats()
        self.requests = RequestLog(settings.request_log_size)
        self.apis = make_apis()
        self.context = SandboxContext(settings.credentials, self.clock, TokenStore(settings.token_ttl))
        self.claims = ClaimDesk(make_claim_apis(), self.context, self.faults, self.stats)
        rules = [rule.empty() for rule in _CONTROL_RULES]
        rules += [rule for api in self.apis.values() for rule in api.rules()]
        rules += self.claims.rules()
        self.url_map = Map(rules)

    def register(
        self, carrier: str, tracking_number: str, scenario: Scenario, created_at: datetime | None = None
    ) -> Shipment:
        """Fix a number's scenario; its timeline starts at `created_at` (sandbox time, default now)."""
        if created_at is not None and created_at.tzinfo is None:
            raise ValueError("created_at must be timezone-aware")
        return self.store.register(carrier, tracking_number, scenario, created_at or self.clock.now())

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        try:
            endpoint, args = self.url_map.bind_to_environ(environ).match()
            response = self._dispatch(endpoint, request, args)
        except HTTPException as exc:
            response = exc.get_response(environ)
        return response(environ, start_response)

    def _dispatch(self, endpoint: str, request: Request, args: dict[str, str]) -> Response:
        code, _, action = endpoint.partition(".")
        if not action:
            return getattr(self, f"_control_{endpoint}")(request)
        if action.startswith("claim_"):
            return self.claims.handle(code, action, request, args)
        api = self.apis[code]
        self.stats.count_request(code, action)
        if action == "token":
            return api.token(self.context, request)
        return self._track(api, request, args)

    def _track(self, api: CarrierApi, request: Request, args: dict[str, str]) -> Response:
        denied = api.authorize(self.context, request)
        if denied is not None:
            return denied
        numbers = api.numbers(request, args)
        if isinstance(numbers, Response):
            return numbers
        port, arrived = int(request.environ.get("SERVER_PORT") or 0), self.clock.now()
        fault = self.faults.draw(api.code, batch=api.batch_limit > 1)
        if fault is not None:
            self.stats.count_fault(api.code, fault.spec.kind.value)
            early = self._early_fault(api, fault)
            if early is not None:
                kind = fault.spec.kind.value
                self.requests.record(
                    api.code,
                    ((n, kind, 0) for n in numbers),
                    at=arrived,
                    port=port,
                    status=early.status_code,
                )
                return early
        # A partial fault fails every other number, starting with the first, so even a batch of one is hit.
        failing = set(numbers[::2]) if fault and fault.spec.kind is FaultKind.PARTIAL else set()
        now = self.clock.now()
        tracked = [
            api.view(n, None if n in failing else self.store.lookup(api.code, n, now), now) for n in numbers
        ]
        self.stats.count_numbers(api.code, len(numbers))
        response = api.render(tracked, request)
        if fault and fault.spec.kind is FaultKind.MALFORMED:
            response = _malformed(response, fault.serial)
        self.requests.record(
            api.code,
            (_logged(t, fault, failing) for t in tracked),
            at=arrived,  # a timeout fault answers late; the log keeps when it was asked
            port=port,
            status=response.status_code,
        )
        return response

    def _early_fault(self, api: CarrierApi, fault: DrawnFault) -> Response | None:
        """Faults that replace the answer; a timeout only delays it."""
        kind = fault.spec.kind
        if kind is FaultKind.RATE_LIMIT:
            response = api.rate_limited(fault.spec.retry_after)
            response.headers["Retry-After"] = str(fault.spec.retry_after)
            return response
        if kind is FaultKind.SERVER_ERROR:
            return api.server_error()
        if kind is FaultKind.TIMEOUT:
            time.sleep(fault.spec.delay)
        return None

    def _control_shipments(self, request: Request) -> Response:
        payload = request.get_json(silent=True)
        entries = payload if isinstance(payload, list) else [payload]
        try:
            parsed = [self._parse_registration(entry) for entry in entries]  # all valid before any is stored
        except (ValueError, TypeError, KeyError) as exc:
            return json_response({"error": f"invalid registration: {exc}"}, 400)
        shipments = [self.register(*args) for args in parsed]
        return json_response([_shipment_json(s) for s in shipments], 201)

    def _parse_registration(self, entry: Any) -> tuple[str, str, Scenario, datetime | None]:
        if not isinstance(entry, dict):
            raise ValueError("expected an object or a list of objects")
        carrier, number = entry["carrier"], str(entry["tracking_number"])
        if carrier not in self.apis:
            raise ValueError(f"unknown carrier {carrier!r}")
        created = datetime.fromisoformat(entry["created_at"]) if entry.get("created_at") else None
        if created is not None and created.tzinfo is None:
            raise ValueError("created_at must carry a UTC offset")
        return carrier, number, Scenario(entry["scenario"]), created

    def _control_clock(self, request: Request) -> Response:
        if request.method == "POST":
            payload = request.get_json(silent=True)
            if not isinstance(payload, dict) or not payload.keys() & {"advance_seconds", "speed"}:
                return json_response({"error": "expected advance_seconds and/or speed"}, 400)
            try:
                if "speed" in payload:
                    self.clock.set_speed(float(payload["speed"]))
                if "advance_seconds" in payload:
                    self.clock.advance(float(payload["advance_seconds"]))
            except (TypeError, ValueError) as exc:
                return json_response({"error": str(exc)}, 400)
        return json_response({"now": self.clock.now().isoformat(), "speed": self.clock.speed})

    def _control_faults(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.faults.clear()
        elif request.method == "POST":
            payload = request.get_json(silent=True)
            try:
                specs = [
                    FaultSpec.from_json(p) for p in (payload if isinstance(payload, list) else [payload])
                ]
            except (TypeError, ValueError, AttributeError) as exc:
                return json_response({"error": str(exc)}, 400)
            unknown = (
                {s.carrier for s in specs if s.carrier is not None} - self.apis.keys() - self.claims.codes
            )
            if unknown:
                return json_response({"error": f"unknown carrier(s): {sorted(unknown)}"}, 400)
            for spec in specs:
                self.faults.add(spec)
        return json_response({"faults": [spec.to_json() for spec in self.faults.active()]})

    def _control_stats(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.stats.reset()
        return json_response(self.stats.snapshot() | {"shipments": len(self.store)})

    def _control_requests(self, request: Request) -> Response:
        """`?number=&carrier=`: the logged entries; `?summary=1`: counts per number."""
        if request.method == "DELETE":
            self.requests.clear()
        if request.args.get("summary") in {"1", "true", "yes"}:
            return json_response(self.requests.summary())
        entries = self.requests.entries(request.args.get("number"), request.args.get("carrier"))
        return json_response(
            {"requests": [entry.to_json() for entry in entries], "capacity": self.requests.capacity}
        )


def _shipment_json(shipment: Shipment) -> dict[str, Any]:
    return {
        "carrier": shipment.carrier,
        "tracking_number": shipment.tracking_number,
        "scenario": shipment.scenario.value,
        "created_at": shipment.started_at.isoformat(),
    }


def _logged(tracked: Tracked, fault: DrawnFault | None, failing: set[str]) -> tuple[str, str | None, int]:
    """A number's request-log entry: the fault that reached it and the scans its answer showed."""
    if tracked.number in failing:
        return tracked.number, FaultKind.PARTIAL.value, 0
    if fault is not None and fault.spec.kind is FaultKind.TIMEOUT:
        return tracked.number, fault.spec.kind.value, len(tracked.scans)  # complete, but late
    if fault is not None and fault.spec.kind is not FaultKind.PARTIAL:
        return tracked.number, fault.spec.kind.value, 0
    return tracked.number, None, len(tracked.scans)


def _malformed(response: Response, serial: int) -> Response:
    """Alternate a truncated copy of the real body with an HTML error page, both as HTTP 200."""
    if serial % 2 == 0:
        body = response.get_data()
        return Response(body[: max(1, len(body) // 2)], 200, content_type=response.content_type)
    return Response(_HTML_ERROR, 200, content_type="text/html")
