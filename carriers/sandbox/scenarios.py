"""Scenarios as timelines of normalised milestones; carrier modules render them in their own codes."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from carriers.model import Reason, Status


class Milestone(StrEnum):
    """A carrier-neutral step in a parcel's life."""

    INFO_RECEIVED = "info_received"
    PICKED_UP = "picked_up"
    HUB_ARRIVAL = "hub_arrival"
    HUB_DEPARTURE = "hub_departure"
    CUSTOMS = "customs"
    DELAYED = "delayed"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    FAILED_ATTEMPT = "failed_attempt"
    AVAILABLE_FOR_PICKUP = "available_for_pickup"
    COLLECTED = "collected"
    LOST = "lost"
    DAMAGED = "damaged"
    REFUSED = "refused"
    RETURNING = "returning"
    RETURNED = "returned"


class Scenario(StrEnum):
    """What happens to a shipment."""

    ON_TIME = "on_time"
    LATE = "late"
    STUCK = "stuck"
    LOST = "lost"
    DAMAGED = "damaged"
    FAILED_ATTEMPT_THEN_PICKUP = "failed_attempt_then_pickup"
    RETURNED = "returned"
    NOT_FOUND = "not_found"


class Where(StrEnum):
    """Which place of a route a step happens at."""

    ORIGIN = "origin"
    HUB_A = "hub_a"
    CUSTOMS = "customs"
    HUB_B = "hub_b"
    DESTINATION = "destination"
    PICKUP_POINT = "pickup_point"


@dataclass(frozen=True)
class Step:
    """One milestone, `hours` after the shipment's start, at a place of its route."""

    milestone: Milestone
    hours: float
    where: Where


M, W = Milestone, Where

# Hours after the start at which an on-time parcel is delivered: the promise every carrier's ETA shows.
PROMISED_HOURS = 44.0

_FIRST_MILE = (
    Step(M.INFO_RECEIVED, 0, W.ORIGIN),
    Step(M.PICKED_UP, 4, W.ORIGIN),
    Step(M.HUB_ARRIVAL, 9, W.HUB_A),
)
_LINEHAUL = (
    Step(M.HUB_DEPARTURE, 11, W.HUB_A),
    Step(M.CUSTOMS, 17, W.CUSTOMS),
    Step(M.HUB_ARRIVAL, 24, W.HUB_B),
    Step(M.HUB_DEPARTURE, 28, W.HUB_B),
    Step(M.OUT_FOR_DELIVERY, 40, W.DESTINATION),
)
_LATE_SHIFT = 26.0

_STEPS: dict[Scenario, tuple[Step, ...]] = {
    Scenario.ON_TIME: _FIRST_MILE + _LINEHAUL + (Step(M.DELIVERED, PROMISED_HOURS, W.DESTINATION),),
    Scenario.LATE: _FIRST_MILE
    + (Step(M.HUB_DEPARTURE, 11, W.HUB_A), Step(M.DELAYED, 20, W.HUB_A))
    + tuple(Step(s.milestone, s.hours + _LATE_SHIFT, s.where) for s in _LINEHAUL[1:])
    + (Step(M.DELIVERED, PROMISED_HOURS + _LATE_SHIFT, W.DESTINATION),),
    Scenario.STUCK: _FIRST_MILE,
    # Five days of silence before the carrier declares it lost.
    Scenario.LOST: _FIRST_MILE + (Step(M.LOST, 129, W.HUB_A),),
    Scenario.DAMAGED: _FIRST_MILE + (Step(M.DAMAGED, 12, W.HUB_A),),
    Scenario.FAILED_ATTEMPT_THEN_PICKUP: _FIRST_MILE
    + _LINEHAUL
    + (
        Step(M.FAILED_ATTEMPT, 43, W.DESTINATION),
        Step(M.AVAILABLE_FOR_PICKUP, 52, W.PICKUP_POINT),
        Step(M.COLLECTED, 75, W.PICKUP_POINT),
    ),
    Scenario.RETURNED: _FIRST_MILE
    + _LINEHAUL
    + (
        Step(M.REFUSED, 43, W.DESTINATION),
        Step(M.RETURNING, 50, W.HUB_B),
        Step(M.RETURNED, 96, W.ORIGIN),
    ),
    Scenario.NOT_FOUND: (),
}

# What each milestone means in the normalised model, unless a carrier's code says otherwise.
MILESTONE_STATUS: dict[Milestone, tuple[Status, Reason | None]] = {
    M.INFO_RECEIVED: (Status.INFO_RECEIVED, None),
    M.PICKED_UP: (Status.IN_TRANSIT, Reason.PICKED_UP),
    M.HUB_ARRIVAL: (Status.IN_TRANSIT, None),
    M.HUB_DEPARTURE: (Status.IN_TRANSIT, None),
    M.CUSTOMS: (Status.IN_TRANSIT, Reason.CUSTOMS),
    M.DELAYED: (Status.IN_TRANSIT, Reason.CARRIER_DELAY),
    M.OUT_FOR_DELIVERY: (Status.OUT_FOR_DELIVERY, None),
    M.DELIVERED: (Status.DELIVERED, None),
    M.FAILED_ATTEMPT: (Status.FAILED_ATTEMPT, Reason.RECIPIENT_UNAVAILABLE),
    M.AVAILABLE_FOR_PICKUP: (Status.AVAILABLE_FOR_PICKUP, None),
    M.COLLECTED: (Status.DELIVERED, None),
    M.LOST: (Status.EXCEPTION, Reason.LOST),
    M.DAMAGED: (Status.EXCEPTION, Reason.DAMAGED),
    M.REFUSED: (Status.EXCEPTION, Reason.REFUSED),
    M.RETURNING: (Status.RETURNING, None),
    M.RETURNED: (Status.RETURNED, None),
}

FINAL_MILESTONES = frozenset({M.DELIVERED, M.COLLECTED, M.RETURNED})

DEFAULT_WEIGHTS: Mapping[Scenario, float] = {
    Scenario.ON_TIME: 70,
    Scenario.LATE: 12,
    Scenario.STUCK: 3,
    Scenario.LOST: 2,
    Scenario.DAMAGED: 2,
    Scenario.FAILED_ATTEMPT_THEN_PICKUP: 7,
    Scenario.RETURNED: 4,
    Scenario.NOT_FOUND: 0,
}


def steps_for(scenario: Scenario, cross_border: bool) -> tuple[Step, ...]:
    """The scenario's timeline; the customs step only for cross-border routes."""
    return tuple(s for s in _STEPS[scenario] if cross_border or s.where is not W.CUSTOMS)


def number_fraction(tracking_number: str, salt: str = "") -> float:
    """A stable pseudo-random value in [0, 1) derived from a tracking number."""
    digest = hashlib.sha256(f"{salt}:{tracking_number}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def choose_scenario(tracking_number: str, weights: Mapping[Scenario, float]) -> Scenario:
    """Deterministic weighted choice of a scenario from the number's hash."""
    total = sum(weights.values())
    if total <= 0:
        raise ValueError("scenario weights must have a positive sum")
    point = number_fraction(tracking_number, "scenario") * total
    for scenario, weight in weights.items():
        point -= weight
        if point < 0:
            return scenario
    return next(s for s, w in reversed(list(weights.items())) if w > 0)
