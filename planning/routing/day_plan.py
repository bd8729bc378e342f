"""One depot's delivery day as a routing problem: its fleet, its booked stops and their current plan."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from planning.geo import Point, TravelModel
from planning.routing.gaps import RouteGaps, route_gaps
from planning.routing.insertion import Insertion
from planning.routing.model import Depot, Plan, Problem, Stop, TimeWindow, Vehicle, build_plan

DEPOT_ID = "depot"

Sequences = dict[str, list[str]]


@dataclass(frozen=True)
class Van:
    """A vehicle working this day: capacity (kg) and shift, as aware datetimes."""

    id: str
    capacity: int
    shift_start: datetime
    shift_end: datetime
    fixed_cost: float = 0.0


@dataclass(frozen=True)
class BookedStop:
    """A held or booked delivery: where, how heavy, which window, how long the drop takes."""

    id: str
    point: Point
    demand: int
    window_start: datetime
    window_end: datetime
    service_s: float


@dataclass(frozen=True)
class DayPlan:
    """A depot-day: the routing problem of its stops (times in seconds from `origin`), their plan, and the
    plan's gaps prepared for insertion tests (built once per plan version and cached by the app)."""

    origin: datetime
    problem: Problem
    plan: Plan
    points: tuple[Point, ...]
    travel: TravelModel
    gaps: RouteGaps

    def window(self, start: datetime, end: datetime) -> TimeWindow:
        """A window on this day's clock."""
        return _window(self.origin, start, end)

    def insertions(
        self, stop: BookedStop, windows: Sequence[tuple[datetime, datetime]]
    ) -> tuple[list[Insertion | None], float]:
        """The cheapest feasible insertion of the stop per (start, end) window, and its road km from the depot."""
        km = self.travel.distances_from(stop.point, self.points)
        found = self.gaps.best(
            km,
            km * self.travel.seconds_per_km,
            stop.demand,
            stop.service_s,
            [self.window(start, end) for start, end in windows],
        )
        return found, float(km[0])

    def sequences(self) -> Sequences:
        """Vehicle id -> ordered stop ids of the current plan."""
        return {route.vehicle: [visit.stop for visit in route.visits] for route in self.plan.routes}


def build_day(
    origin: datetime,
    depot: Point,
    hours: tuple[datetime, datetime],
    vans: Sequence[Van],
    stops: Sequence[BookedStop],
    sequences: Mapping[str, Sequence[str]],
    travel: TravelModel,
) -> DayPlan:
    """The day's problem and the plan given by stored sequences (unknown ids are dropped, missing stops
    are left unassigned, vans no longer working lose their routes' stops to unassigned)."""
    points = (depot, *(s.point for s in stops))
    durations, distances = travel.matrices(points)
    problem = Problem(
        depots=(Depot(DEPOT_ID, 0, _window(origin, *hours)),),
        vehicles=tuple(
            Vehicle(v.id, DEPOT_ID, v.capacity, _window(origin, v.shift_start, v.shift_end), v.fixed_cost)
            for v in vans
        ),
        stops=tuple(_stop(origin, s, k) for k, s in enumerate(stops, start=1)),
        durations=durations,
        distances=distances,
    )
    known, working = {s.id for s in stops}, {v.id for v in vans}
    kept = {v: [s for s in seq if s in known] for v, seq in sequences.items() if v in working}
    plan = build_plan(problem, kept)
    return DayPlan(origin, problem, plan, points, travel, route_gaps(problem, plan))


def _window(origin: datetime, start: datetime, end: datetime) -> TimeWindow:
    return TimeWindow((start - origin).total_seconds(), (end - origin).total_seconds())


def _stop(origin: datetime, stop: BookedStop, location: int) -> Stop:
    window = _window(origin, stop.window_start, stop.window_end)
    return Stop(stop.id, location, stop.demand, window, stop.service_s)


def insert_stop(sequences: Mapping[str, Sequence[str]], insertion: Insertion, stop_id: str) -> Sequences:
    """The sequences with `stop_id` placed where the insertion says."""
    updated = {vehicle: list(seq) for vehicle, seq in sequences.items()}
    updated.setdefault(insertion.vehicle, []).insert(insertion.position, stop_id)
    return updated


def remove_stops(sequences: Mapping[str, Sequence[str]], stop_ids: set[str]) -> Sequences:
    """The sequences without the given stops (vans left empty are dropped)."""
    kept = {vehicle: [s for s in seq if s not in stop_ids] for vehicle, seq in sequences.items()}
    return {vehicle: seq for vehicle, seq in kept.items() if seq}


def vehicle_loads(problem: Problem, sequences: Mapping[str, Sequence[str]]) -> dict[str, int]:
    """Load per vehicle (every vehicle of the problem, zero when unused)."""
    demand = {s.id: s.demand for s in problem.stops}
    loads = {v.id: 0 for v in problem.vehicles}
    for vehicle, seq in sequences.items():
        if vehicle in loads:
            loads[vehicle] = sum(demand.get(s, 0) for s in seq)
    return loads
