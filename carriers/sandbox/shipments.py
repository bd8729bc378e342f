"""In-memory shipments: which scenario a number follows, since when, and what is visible at a moment."""

from __future__ import annotations

import bisect
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from carriers.sandbox.places import ROUTES, Place, Route
from carriers.sandbox.scenarios import (
    FINAL_MILESTONES,
    PROMISED_HOURS,
    Milestone,
    Scenario,
    choose_scenario,
    number_fraction,
    steps_for,
)


@dataclass(frozen=True)
class Scan:
    """A milestone placed in time (aware UTC) and space."""

    milestone: Milestone
    at: datetime
    place: Place


@dataclass(frozen=True)
class Shipment:
    """One tracking number's fixed future: its scenario, route and timeline."""

    carrier: str
    tracking_number: str
    scenario: Scenario
    started_at: datetime
    route: Route
    scans: tuple[Scan, ...]
    promised_at: datetime
    _times: tuple[datetime, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_times", tuple(s.at for s in self.scans))

    def visible(self, now: datetime) -> tuple[Scan, ...]:
        """Scans that have happened by `now`, oldest first."""
        return self.scans[: bisect.bisect_right(self._times, now)]

    def eta(self, visible: tuple[Scan, ...]) -> datetime | None:
        """The carrier's expected delivery given what is visible; None once final or derailed."""
        if not visible:
            return None
        seen = {s.milestone for s in visible}
        if seen & FINAL_MILESTONES or seen & _DERAILED:
            return None
        if Milestone.DELAYED in seen:
            final = [s.at for s in self.scans if s.milestone in FINAL_MILESTONES]
            return final[0] if final else None
        return self.promised_at


_DERAILED = frozenset({Milestone.LOST, Milestone.DAMAGED, Milestone.REFUSED, Milestone.RETURNING})


def build_shipment(carrier: str, tracking_number: str, scenario: Scenario, started_at: datetime) -> Shipment:
    """Lay out a scenario on one of the carrier's routes (chosen from the number's hash)."""
    routes = ROUTES[carrier]
    route = routes[int(number_fraction(tracking_number, "route") * len(routes))]
    scans = tuple(
        Scan(step.milestone, started_at + timedelta(hours=step.hours), route.place(step.where))
        for step in steps_for(scenario, route.cross_border)
    )
    promised = started_at + timedelta(hours=PROMISED_HOURS)
    return Shipment(carrier, tracking_number, scenario, started_at, route, scans, promised)


class ShipmentStore:
    """Thread-safe registry of shipments keyed by (carrier, number); unknown numbers get a hashed scenario."""

    def __init__(self, weights: Mapping[Scenario, float]) -> None:
        self._weights = dict(weights)
        self._lock = threading.Lock()
        self._shipments: dict[tuple[str, str], Shipment] = {}

    def register(
        self, carrier: str, tracking_number: str, scenario: Scenario, started_at: datetime
    ) -> Shipment:
        """Create or replace a shipment with an explicit scenario."""
        if carrier not in ROUTES:
            raise ValueError(f"unknown carrier {carrier!r}")
        shipment = build_shipment(carrier, tracking_number, scenario, started_at)
        with self._lock:
            self._shipments[(carrier, tracking_number)] = shipment
        return shipment

    def lookup(self, carrier: str, tracking_number: str, now: datetime) -> Shipment:
        """The shipment for a number, creating it on first query with the hashed scenario."""
        key = (carrier, tracking_number)
        found = self._shipments.get(key)
        if found is not None:
            return found
        scenario = choose_scenario(tracking_number, self._weights)
        with self._lock:
            return self._shipments.setdefault(key, build_shipment(carrier, tracking_number, scenario, now))

    def __len__(self) -> int:
        return len(self._shipments)
