"""Run the sandbox app on its HTTP/1.1 keep-alive server in a background thread, with control helpers."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

from carriers.sandbox.application import SandboxApp
from carriers.sandbox.faults import FaultSpec
from carriers.sandbox.http11 import Http11Server
from carriers.sandbox.request_log import LoggedRequest
from carriers.sandbox.scenarios import Scenario
from carriers.sandbox.settings import SandboxSettings
from carriers.sandbox.shipments import Shipment


class SandboxServer:
    """The sandbox carriers on `http://host:port/<code>`, with in-process control helpers."""

    def __init__(self, settings: SandboxSettings | None = None) -> None:
        self.settings = settings or SandboxSettings()
        self.app = SandboxApp(self.settings)
        self._server: Http11Server | None = None
        self._thread: threading.Thread | None = None
        self._extra: list[tuple[Http11Server, threading.Thread]] = []

    def start(self) -> SandboxServer:
        """Listen and serve in a daemon thread; returns once the socket is bound."""
        if self._server is not None:
            raise RuntimeError("sandbox already started")
        self._server = Http11Server(self.settings.host, self.settings.port, self.app)
        # A short poll interval keeps stop() quick; 10 idle wake-ups a second cost nothing measurable.
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="carrier-sandbox",
            daemon=True,
        )
        self._thread.start()
        return self

    def listen(self, port: int = 0) -> int:
        """Serve the same sandbox on one more port and return it; the request log records which port each
        request came in on, so giving every client its own port tells their calls apart."""
        if self._server is None:
            raise RuntimeError("sandbox not started")
        server = Http11Server(self.settings.host, port, self.app)
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="carrier-sandbox", daemon=True
        )
        thread.start()
        self._extra.append((server, thread))
        return server.port

    def stop(self) -> None:
        """Stop serving and close idle keep-alive connections."""
        for server, thread in self._extra:
            server.stop()
            thread.join()
        self._extra.clear()
        if self._server is None:
            return
        self._server.stop()
        if self._thread is not None:
            self._thread.join()
        self._server = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound port (useful with port 0)."""
        if self._server is None:
            raise RuntimeError("sandbox not started")
        return self._server.port

    @property
    def url(self) -> str:
        """Root URL, e.g. `http://127.0.0.1:8085`."""
        return f"http://{self.settings.host}:{self.port}"

    def base_url(self, carrier: str) -> str:
        """The base URL an adapter for `carrier` should use instead of the real API host."""
        if carrier not in self.app.apis and carrier not in self.app.claims.codes:
            raise KeyError(f"no sandbox for carrier {carrier!r}")
        return f"{self.url}/{carrier}"

    def base_urls(self) -> dict[str, str]:
        """Base URL of every sandbox carrier."""
        return {code: self.base_url(code) for code in self.app.apis}

    def register(
        self, carrier: str, tracking_number: str, scenario: Scenario | str, created_at: datetime | None = None
    ) -> Shipment:
        """Give a number a scenario, starting at `created_at` (sandbox time, default now)."""
        return self.app.register(carrier, tracking_number, Scenario(scenario), created_at)

    def now(self) -> datetime:
        """Current sandbox time."""
        return self.app.clock.now()

    def advance(self, seconds: float) -> datetime:
        """Move the sandbox clock forward."""
        return self.app.clock.advance(seconds)

    def set_speed(self, speed: float) -> None:
        """Change the clock speed (sandbox seconds per real second)."""
        self.app.clock.set_speed(speed)

    def add_fault(self, spec: FaultSpec) -> None:
        """Activate a fault rule."""
        self.app.faults.add(spec)

    def clear_faults(self) -> None:
        """Drop every fault rule."""
        self.app.faults.clear()

    def stats(self) -> dict[str, Any]:
        """Request, number and fault counters."""
        return self.app.stats.snapshot()

    def reset_stats(self) -> None:
        """Zero the counters."""
        self.app.stats.reset()

    def requests(self, number: str | None = None, carrier: str | None = None) -> list[LoggedRequest]:
        """The request log (oldest first), optionally for one number and/or carrier."""
        return self.app.requests.entries(number, carrier)
