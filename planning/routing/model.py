"""Plain data for vehicle routing: the problem given to the solver and the plan it returns.

Times are plain floats in one unit chosen by the caller (seconds since the start of the
planning day for the service, Solomon's abstract units for benchmarks). Travel durations and
distances come as square matrices indexed by location number.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

Matrix = tuple[tuple[float, ...], ...]


class Objective(StrEnum):
    """What the solver minimises: total distance, or fewest vehicles then distance."""

    DISTANCE = "distance"
    VEHICLES = "vehicles"


@dataclass(frozen=True)
class TimeWindow:
    """Interval in which service must start (inclusive at both ends)."""

    start: float
    end: float


@dataclass(frozen=True)
class Depot:
    """A place vehicles leave from and return to, open during `hours`."""

    id: str
    location: int
    hours: TimeWindow


@dataclass(frozen=True)
class Vehicle:
    """One vehicle and its shift; `fixed_cost` is charged (in distance units) if it is used."""

    id: str
    depot: str
    capacity: int
    shift: TimeWindow
    fixed_cost: float = 0.0


@dataclass(frozen=True)
class Stop:
    """A delivery: where, how much, when service may start, and how long it takes."""

    id: str
    location: int
    demand: int
    window: TimeWindow
    service: float


@dataclass(frozen=True)
class Problem:
    """A capacitated routing problem with time windows, shifts and one fleet per depot."""

    depots: tuple[Depot, ...]
    vehicles: tuple[Vehicle, ...]
    stops: tuple[Stop, ...]
    durations: Matrix
    distances: Matrix

    def __post_init__(self) -> None:
        size = len(self.durations)
        if len(self.distances) != size or any(len(r) != size for r in (*self.durations, *self.distances)):
            raise ValueError("durations and distances must be square matrices of the same size")
        depot_ids = {d.id for d in self.depots}
        for vehicle in self.vehicles:
            if vehicle.depot not in depot_ids:
                raise ValueError(f"vehicle {vehicle.id} refers to unknown depot {vehicle.depot}")
        for place in (*self.depots, *self.stops):
            if not 0 <= place.location < size:
                raise ValueError(f"{place.id}: location {place.location} outside the matrices")
        ids = [s.id for s in self.stops]
        if len(set(ids)) != len(ids):
            raise ValueError("stop ids must be unique")
        if len({v.id for v in self.vehicles}) != len(self.vehicles) or len(depot_ids) != len(self.depots):
            raise ValueError("vehicle and depot ids must be unique")

    def depot_of(self, vehicle: Vehicle) -> Depot:
        """Return the depot a vehicle is based at."""
        return next(d for d in self.depots if d.id == vehicle.depot)

    def working_hours(self, vehicle: Vehicle) -> TimeWindow:
        """Return when a vehicle may leave and must be back: its shift within its depot's hours."""
        hours = self.depot_of(vehicle).hours
        return TimeWindow(max(hours.start, vehicle.shift.start), min(hours.end, vehicle.shift.end))


@dataclass(frozen=True)
class Visit:
    """A stop on a route: when the vehicle arrives and when service starts (after any wait)."""

    stop: str
    arrival: float
    start: float


@dataclass(frozen=True)
class Route:
    """A vehicle's tour from its depot and back, with the schedule that serves each stop earliest."""

    vehicle: str
    departure: float
    visits: tuple[Visit, ...]
    return_time: float
    distance: float
    load: int


@dataclass(frozen=True)
class Plan:
    """Routes of the vehicles that are used, plus the stops no route serves."""

    routes: tuple[Route, ...]
    unassigned: tuple[str, ...] = ()

    @property
    def distance(self) -> float:
        """Total distance driven."""
        return sum(r.distance for r in self.routes)

    @property
    def complete(self) -> bool:
        """True when every stop is served."""
        return not self.unassigned


def euclidean_matrix(points: Sequence[tuple[float, float]]) -> Matrix:
    """Return the unrounded Euclidean distance matrix between points."""
    return tuple(tuple(math.dist(p, q) for q in points) for p in points)


def schedule_route(problem: Problem, vehicle: Vehicle, stop_ids: Sequence[str]) -> Route:
    """Build a vehicle's route over stops in order, starting each service as early as possible."""
    stops = {s.id: s for s in problem.stops}
    depot = problem.depot_of(vehicle)
    time = departure = problem.working_hours(vehicle).start
    place, distance, load, visits = depot.location, 0.0, 0, []
    service = 0.0
    for stop_id in stop_ids:
        stop = stops[stop_id]
        arrival = time + service + problem.durations[place][stop.location]
        time = max(arrival, stop.window.start)
        visits.append(Visit(stop_id, arrival, time))
        distance += problem.distances[place][stop.location]
        place, service, load = stop.location, stop.service, load + stop.demand
    return_time = time + service + problem.durations[place][depot.location]
    distance += problem.distances[place][depot.location]
    return Route(vehicle.id, departure, tuple(visits), return_time, distance, load)


def build_plan(problem: Problem, sequences: dict[str, Sequence[str]]) -> Plan:
    """Build a plan from vehicle id -> ordered stop ids; vehicles with no stops are left out."""
    vehicles = {v.id: v for v in problem.vehicles}
    routes = tuple(schedule_route(problem, vehicles[v], seq) for v, seq in sequences.items() if seq)
    served = {visit.stop for route in routes for visit in route.visits}
    return Plan(routes, tuple(s.id for s in problem.stops if s.id not in served))
