"""Fault injection: which failures to serve, to which carrier, how often."""

from __future__ import annotations

import random
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

# A timeout fault never holds a server thread longer than this.
MAX_DELAY_SECONDS = 30.0


class FaultKind(StrEnum):
    """The failures the sandbox can serve instead of (or inside) a normal answer."""

    RATE_LIMIT = "rate_limit"
    SERVER_ERROR = "server_error"
    TIMEOUT = "timeout"
    MALFORMED = "malformed"
    PARTIAL = "partial"


@dataclass(frozen=True)
class FaultSpec:
    """A fault rule: `carrier=None` means every carrier; `count=None` means unlimited."""

    kind: FaultKind
    carrier: str | None = None
    probability: float = 1.0
    count: int | None = None
    retry_after: int = 1
    delay: float = 2.0  # seconds a timeout fault sleeps before answering

    def __post_init__(self) -> None:
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError("probability must be within 0..1")
        if self.count is not None and self.count < 1:
            raise ValueError("count must be >= 1")
        if self.retry_after < 0 or not 0 <= self.delay <= MAX_DELAY_SECONDS:
            raise ValueError(f"retry_after must be >= 0 and delay within 0..{MAX_DELAY_SECONDS}")

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FaultSpec:
        """Build from the control API's JSON (raises ValueError on bad input)."""
        unknown = set(data) - {"kind", "carrier", "probability", "count", "retry_after", "delay"}
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        try:
            return cls(
                kind=FaultKind(data["kind"]),
                carrier=data.get("carrier"),
                probability=float(data.get("probability", 1.0)),
                count=None if data.get("count") is None else int(data["count"]),
                retry_after=int(data.get("retry_after", 1)),
                delay=float(data.get("delay", 2.0)),
            )
        except KeyError as exc:
            raise ValueError("a fault needs a kind") from exc

    def to_json(self) -> dict[str, Any]:
        """JSON form, as accepted by `from_json`."""
        return {
            "kind": self.kind.value,
            "carrier": self.carrier,
            "probability": self.probability,
            "count": self.count,
            "retry_after": self.retry_after,
            "delay": self.delay,
        }


@dataclass(frozen=True)
class DrawnFault:
    """A fault picked for one request; `serial` counts how often its rule fired (0-based)."""

    spec: FaultSpec
    serial: int


class FaultBox:
    """Thread-safe set of active fault rules; the first matching rule that fires wins."""

    def __init__(self, specs: tuple[FaultSpec, ...] = (), seed: int | None = None) -> None:
        self._lock = threading.Lock()
        self._random = random.Random(seed)
        self._rules: list[list[Any]] = []  # [spec, times fired]
        for spec in specs:
            self.add(spec)

    def add(self, spec: FaultSpec) -> None:
        """Activate a rule."""
        with self._lock:
            self._rules.append([spec, 0])

    def clear(self) -> None:
        """Drop every rule."""
        with self._lock:
            self._rules.clear()

    def active(self) -> list[FaultSpec]:
        """Rules that can still fire."""
        with self._lock:
            return [spec for spec, _ in self._rules]

    def draw(self, carrier: str, batch: bool) -> DrawnFault | None:
        """Pick the fault (if any) for one request; partial faults only apply to batch endpoints."""
        if not self._rules:
            return None
        with self._lock:
            for rule in self._rules:
                spec, fired = rule
                if spec.carrier not in (None, carrier) or (spec.kind is FaultKind.PARTIAL and not batch):
                    continue
                if spec.probability < 1.0 and self._random.random() >= spec.probability:
                    continue
                rule[1] = fired + 1
                if spec.count is not None and rule[1] >= spec.count:
                    self._rules.remove(rule)
                return DrawnFault(spec, fired)
        return None
