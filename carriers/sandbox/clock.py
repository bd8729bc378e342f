"""The sandbox's accelerable clock: sandbox time = start + elapsed real time × speed (+ manual advances)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta


class SandboxClock:
    """Thread-safe clock that runs `speed` times faster than real time and can be pushed forward."""

    def __init__(self, start: datetime | None = None, speed: float = 1.0) -> None:
        if speed < 0:
            raise ValueError("speed must be >= 0")
        self._lock = threading.Lock()
        self._base = (start or datetime.now(UTC)).astimezone(UTC)
        self._base_mono = time.monotonic()
        self._speed = speed

    @property
    def speed(self) -> float:
        """Sandbox seconds per real second."""
        return self._speed

    def now(self) -> datetime:
        """Current sandbox time, aware UTC."""
        with self._lock:
            elapsed = time.monotonic() - self._base_mono
            return self._base + timedelta(seconds=elapsed * self._speed)

    def advance(self, seconds: float) -> datetime:
        """Jump sandbox time forward by `seconds` and return the new time."""
        if seconds < 0:
            raise ValueError("the sandbox clock only moves forward")
        with self._lock:
            self._rebase()
            self._base += timedelta(seconds=seconds)
            return self._base

    def set_speed(self, speed: float) -> None:
        """Change the speed from now on, without a jump."""
        if speed < 0:
            raise ValueError("speed must be >= 0")
        with self._lock:
            self._rebase()
            self._speed = speed

    def _rebase(self) -> None:
        mono = time.monotonic()
        self._base += timedelta(seconds=(mono - self._base_mono) * self._speed)
        self._base_mono = mono
