"""Another process's view of a running sandbox's clock: read `GET /_sandbox/clock`, then run at its speed.

A worker in a test or demo uses this so that its leases, schedules and predictions live in the same
(accelerated) time as the parcels it polls. It re-reads the sandbox now and then, so a clock pushed
forward (`POST /_sandbox/clock`) or a new speed is picked up, and it never runs backwards.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta

import requests

CLOCK_PATH = "/_sandbox/clock"

log = logging.getLogger(__name__)


class RemoteClockError(RuntimeError):
    """The sandbox's clock could not be read."""


class RemoteSandboxClock:
    """Sandbox time as seen from another process (error: about the request's latency times the speed)."""

    def __init__(self, sandbox_url: str, *, resync_seconds: float = 2.0, timeout: float = 5.0) -> None:
        self.url = sandbox_url.rstrip("/") + CLOCK_PATH
        self.resync_seconds = resync_seconds
        self.timeout = timeout
        self._session = requests.Session()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._base: datetime | None = None
        self._base_mono = 0.0
        self._speed = 1.0
        self._last: datetime | None = None

    @property
    def speed(self) -> float:
        """Sandbox seconds per real second, as last read."""
        return self._speed

    def sync(self) -> datetime:
        """Read the sandbox's clock now (raises RemoteClockError) and return the time read."""
        sent = time.monotonic()
        try:
            response = self._session.get(self.url, timeout=self.timeout)
            response.raise_for_status()
            body = response.json()
            now, speed = datetime.fromisoformat(body["now"]), float(body["speed"])
        except (requests.RequestException, ValueError, KeyError, TypeError) as error:
            raise RemoteClockError(f"cannot read the sandbox clock at {self.url}: {error}") from error
        if now.tzinfo is None:
            raise RemoteClockError(f"the sandbox clock at {self.url} answered a naive time")
        with self._lock:
            # The answer was made somewhere between sending and receiving: take the middle.
            self._base, self._base_mono, self._speed = now, (sent + time.monotonic()) / 2, speed
        return now

    def now(self) -> datetime:
        """Current sandbox time, aware UTC; never earlier than a time returned before."""
        with self._lock:
            if self._base is None:
                raise RemoteClockError("the sandbox clock was never read; call sync() or start()")
            current = self._base + timedelta(seconds=(time.monotonic() - self._base_mono) * self._speed)
            if self._last is not None and current < self._last:
                current = self._last
            self._last = current
            return current

    def start(self) -> RemoteSandboxClock:
        """Read the clock once (failing loudly), then keep re-reading it in a daemon thread."""
        self.sync()
        self._thread = threading.Thread(target=self._follow, name="sandbox-clock", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop re-reading."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _follow(self) -> None:
        while not self._stop.wait(self.resync_seconds):
            try:
                self.sync()
            except RemoteClockError as error:
                log.warning("%s; running on the last reading", error)
