"""The sandbox's request log: every tracking number asked about, when, on which listener, and what it got.

Tests and benchmarks read it (`GET /_sandbox/requests`) to check from outside that no parcel is polled
twice for one due time. Memory is bounded: the log keeps the newest `capacity` entries and counts the rest
as dropped.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

DEFAULT_CAPACITY = 100_000  # about 15 MB


@dataclass(frozen=True, slots=True)
class LoggedRequest:
    """One number in one tracking request: `fault` is the fault served to this number (None: a clean
    answer), `scans` how many scans the answer showed (0 when not found or faulted)."""

    seq: int
    request: int  # numbers asked in one batch share this
    carrier: str
    tracking_number: str
    at: datetime  # sandbox time the request arrived
    wall: float  # real time, seconds since the epoch
    port: int  # the listener the request came in on (one per client in multi-worker tests)
    status: int
    fault: str | None
    scans: int

    @property
    def served(self) -> bool:
        """True when the client got a clean answer with the number's scans."""
        return self.fault is None and self.status == 200

    def to_json(self) -> dict[str, Any]:
        """JSON form, as `GET /_sandbox/requests` returns it."""
        return {
            "seq": self.seq,
            "request": self.request,
            "carrier": self.carrier,
            "tracking_number": self.tracking_number,
            "at": self.at.isoformat(),
            "wall": round(self.wall, 6),
            "port": self.port,
            "status": self.status,
            "fault": self.fault,
            "scans": self.scans,
        }


class RequestLog:
    """Thread-safe ring buffer of `LoggedRequest`s."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 1:
            raise ValueError("capacity must be >= 1")
        self._lock = threading.Lock()
        self._entries: deque[LoggedRequest] = deque(maxlen=capacity)
        self._seq = 0
        self._requests = 0
        self._dropped = 0

    @property
    def capacity(self) -> int:
        """Entries kept at most."""
        return self._entries.maxlen or 0

    def record(
        self,
        carrier: str,
        numbers: Iterable[tuple[str, str | None, int]],
        *,
        at: datetime,
        port: int,
        status: int,
    ) -> None:
        """Log one request: each asked number with the fault it got (or None) and the scans it was shown."""
        wall = time.time()
        with self._lock:
            self._requests += 1
            for number, fault, scans in numbers:
                if len(self._entries) == self._entries.maxlen:
                    self._dropped += 1
                self._seq += 1
                self._entries.append(
                    LoggedRequest(
                        self._seq, self._requests, carrier, number, at, wall, port, status, fault, scans
                    )
                )

    def entries(self, number: str | None = None, carrier: str | None = None) -> list[LoggedRequest]:
        """Logged entries, oldest first, optionally for one number and/or carrier."""
        with self._lock:
            entries = list(self._entries)
        return [
            e
            for e in entries
            if (number is None or e.tracking_number == number) and (carrier is None or e.carrier == carrier)
        ]

    def summary(self) -> dict[str, Any]:
        """Counts per `carrier:number` (asked, faulted) over the kept entries, plus the log's bounds."""
        with self._lock:
            entries = list(self._entries)
            dropped, capacity = self._dropped, self._entries.maxlen
        asked: Counter[str] = Counter()
        faulted: Counter[str] = Counter()
        for entry in entries:
            key = f"{entry.carrier}:{entry.tracking_number}"
            asked[key] += 1
            if not entry.served:
                faulted[key] += 1
        return {
            "numbers": {key: {"requests": n, "faulted": faulted[key]} for key, n in sorted(asked.items())},
            "entries": len(entries),
            "dropped": dropped,
            "capacity": capacity,
        }

    def clear(self) -> None:
        """Forget every entry (sequence numbers keep counting)."""
        with self._lock:
            self._entries.clear()
            self._dropped = 0
