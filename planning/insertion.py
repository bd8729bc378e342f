"""Cheapest feasible insertion of one new stop into an existing plan, without re-solving (pure Python).

Each route is summarised by the earliest time the vehicle can leave every node (forward pass) and the
latest time service may start there without making a later visit late (backward slack pass). A new
stop fits between two nodes when its earliest start, given the first, still lets the vehicle reach the
second by that latest time: an exact test for time windows and capacity, O(1) per position.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from planning.routing_model import Plan, Problem, Stop, TimeWindow, Vehicle


@dataclass(frozen=True)
class Insertion:
    """Where a stop fits: before the visit at `position` of the vehicle's route, at marginal `cost`."""

    vehicle: str
    position: int
    cost: float
    start: float


@dataclass(frozen=True)
class _Gap:
    """One place between consecutive nodes of a route, with the new stop's feasible start interval."""

    vehicle: str
    position: int
    earliest: float
    latest: float
    cost: float


def best_insertion(problem: Problem, plan: Plan, stop: Stop) -> Insertion | None:
    """Return the cheapest feasible insertion of stop into plan within its own window, or None."""
    return best_insertions(problem, plan, stop, [stop.window])[0]


def best_insertions(
    problem: Problem, plan: Plan, stop: Stop, windows: Sequence[TimeWindow]
) -> list[Insertion | None]:
    """Return, for each candidate window of the same stop, its cheapest feasible insertion or None."""
    gaps = list(_gaps(problem, plan, stop))
    results: list[Insertion | None] = []
    for window in windows:
        best = None
        for gap in gaps:
            start = max(window.start, gap.earliest)
            if start <= min(window.end, gap.latest) and (best is None or gap.cost < best.cost):
                best = Insertion(gap.vehicle, gap.position, gap.cost, start)
        results.append(best)
    return results


def _gaps(problem: Problem, plan: Plan, stop: Stop) -> Iterator[_Gap]:
    """Yield every position on every vehicle (used or not) that has room for the stop's demand."""
    sequences = {r.vehicle: [v.stop for v in r.visits] for r in plan.routes}
    stops = {s.id: s for s in problem.stops}
    for vehicle in problem.vehicles:
        route = [stops[s] for s in sequences.get(vehicle.id, ())]
        if sum(s.demand for s in route) + stop.demand > vehicle.capacity:
            continue
        yield from _route_gaps(problem, vehicle, route, stop)


def _route_gaps(problem: Problem, vehicle: Vehicle, route: list[Stop], stop: Stop) -> Iterator[_Gap]:
    depot = problem.depot_of(vehicle).location
    hours = problem.working_hours(vehicle)
    places = [depot, *(s.location for s in route), depot]
    services = [0.0, *(s.service for s in route)]
    leave = [hours.start]
    for k, s in enumerate(route):
        arrival = leave[k] + problem.durations[places[k]][s.location]
        leave.append(max(arrival, s.window.start) + s.service)
    latest = [hours.end] * (len(route) + 2)
    for k in range(len(route), 0, -1):
        s = route[k - 1]
        latest[k] = min(
            s.window.end, latest[k + 1] - s.service - problem.durations[s.location][places[k + 1]]
        )
    if leave[-1] + problem.durations[places[-2]][depot] > hours.end or any(
        leave[k + 1] - services[k + 1] > latest[k + 1] for k in range(len(route))
    ):
        return  # the route is already infeasible: nothing can be added to it
    durations, distances, here = problem.durations, problem.distances, stop.location
    opening = vehicle.fixed_cost if not route else 0.0
    for k in range(len(route) + 1):
        before, after = places[k], places[k + 1]
        yield _Gap(
            vehicle.id,
            k,
            leave[k] + durations[before][here],
            latest[k + 1] - stop.service - durations[here][after],
            distances[before][here] + distances[here][after] - distances[before][after] + opening,
        )
