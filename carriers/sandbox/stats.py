"""Request and fault counters, so tests and benchmarks can count carrier API calls."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any


class Stats:
    """Thread-safe counters per carrier and endpoint, and per carrier and fault kind."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: Counter[tuple[str, str]] = Counter()
        self._faults: Counter[tuple[str, str]] = Counter()
        self._numbers: Counter[str] = Counter()

    def count_request(self, carrier: str, endpoint: str) -> None:
        """Count one API request."""
        with self._lock:
            self._requests[(carrier, endpoint)] += 1

    def count_numbers(self, carrier: str, n: int) -> None:
        """Count tracking numbers answered (a batch request answers several)."""
        with self._lock:
            self._numbers[carrier] += n

    def count_fault(self, carrier: str, kind: str) -> None:
        """Count one fault served."""
        with self._lock:
            self._faults[(carrier, kind)] += 1

    def reset(self) -> None:
        """Zero every counter."""
        with self._lock:
            self._requests.clear()
            self._faults.clear()
            self._numbers.clear()

    def snapshot(self) -> dict[str, Any]:
        """Counters as nested JSON-ready dicts."""
        with self._lock:
            requests: dict[str, dict[str, int]] = {}
            for (carrier, endpoint), n in sorted(self._requests.items()):
                requests.setdefault(carrier, {})[endpoint] = n
            faults: dict[str, dict[str, int]] = {}
            for (carrier, kind), n in sorted(self._faults.items()):
                faults.setdefault(carrier, {})[kind] = n
            return {
                "requests": requests,
                "numbers": dict(sorted(self._numbers.items())),
                "faults": faults,
                "total_requests": sum(self._requests.values()),
                "total_faults": sum(self._faults.values()),
            }
