"""Cheapest feasible insertion of one new stop into an existing plan, without re-solving (pure Python).

Each route is summarised by the earliest time the vehicle can leave every node (forward pass) and the
latest time service may start there without making a later visit late (backward slack pass). A new
stop fits between two nodes when its earliest start, given the first, still lets the vehicle reach the
second by that latest time: an exact test for time windows and capacity, O(1) per position.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from planning.routing.model import Matrix, Plan, Problem, Stop, TimeWindow


@dataclass(frozen=True)
class Insertion:
    """Where a stop fits: before the visit at `position` of the vehicle's route, at marginal `cost`."""

    vehicle: str
    position: int
    cost: float
    start: float


def route_slack(
    places: Sequence[int],
    stops: Sequence[Stop],
    hours: TimeWindow,
    durations: Matrix,
) -> tuple[list[float], list[float]] | None:
    """Summarise a route depot, stops..., depot for O(1) insertion tests (None if it is infeasible).

    Returns `leave`, the earliest time the vehicle can leave each node but the final depot, and
    `latest`, the latest time service may start at each node after the first (the final depot's is
    the end of the working hours) without making that node or any later one late.
    """
    leave = [hours.start]
    time = hours.start
    for k, stop in enumerate(stops):
        time += durations[places[k]][places[k + 1]]
        window = stop.window
        if time < window.start:
            time = window.start
        if time > window.end:
            return None
        time += stop.service
        leave.append(time)
    if time + durations[places[-2]][places[-1]] > hours.end:
        return None
    latest = [hours.end]
    bound = hours.end
    for k in range(len(stops), 0, -1):
        stop = stops[k - 1]
        bound = min(stop.window.end, bound - durations[places[k]][places[k + 1]] - stop.service)
        latest.append(bound)
    latest.reverse()
    return leave, latest


def best_insertion(problem: Problem, plan: Plan, stop: Stop) -> Insertion | None:
    """Return the cheapest feasible insertion of stop into plan within its own window, or None."""
    return best_insertions(problem, plan, stop, [stop.window])[0]


def best_insertions(
    problem: Problem, plan: Plan, stop: Stop, windows: Sequence[TimeWindow]
) -> list[Insertion | None]:
    """Return, for each candidate window of the same stop, its cheapest feasible insertion or None."""
    gaps = sorted(_gaps(problem, plan, stop), key=lambda gap: gap[0])
    results: list[Insertion | None] = []
    for window in windows:
        results.append(None)
        for cost, earliest, latest, vehicle, position in gaps:
            start = max(window.start, earliest)
            if start <= latest and start <= window.end:
                results[-1] = Insertion(vehicle, position, cost, start)
                break
    return results


def _gaps(problem: Problem, plan: Plan, stop: Stop) -> list[tuple[float, float, float, str, int]]:
    """List (cost, earliest start, latest start, vehicle, position) of every place with room for stop.

    Unused vehicles of the same depot, shift, capacity and fixed cost offer the same single place, so
    only the first of them is listed.
    """
    sequences = {r.vehicle: r.visits for r in plan.routes}
    stops = {s.id: s for s in problem.stops}
    depots = {d.id: d for d in problem.depots}
    durations, distances, here, service = problem.durations, problem.distances, stop.location, stop.service
    gaps = []
    idle_kinds = set()
    for vehicle in problem.vehicles:
        route = [stops[visit.stop] for visit in sequences.get(vehicle.id, ())]
        if not route:
            kind = (vehicle.depot, vehicle.capacity, vehicle.shift, vehicle.fixed_cost)
            if kind in idle_kinds:
                continue
            idle_kinds.add(kind)
        if sum(s.demand for s in route) + stop.demand > vehicle.capacity:
            continue
        depot = depots[vehicle.depot]
        hours = TimeWindow(
            max(depot.hours.start, vehicle.shift.start), min(depot.hours.end, vehicle.shift.end)
        )
        places = [depot.location, *(s.location for s in route), depot.location]
        slack = route_slack(places, route, hours, durations)
        if slack is None:
            continue  # the route is already infeasible: nothing can be added to it
        leave, latest = slack
        opening = 0.0 if route else vehicle.fixed_cost
        for k in range(len(route) + 1):
            before, after = places[k], places[k + 1]
            earliest = leave[k] + durations[before][here]
            last = latest[k] - service - durations[here][after]
            if earliest <= last:
                cost = distances[before][here] + distances[here][after] - distances[before][after]
                gaps.append((cost + opening, earliest, last, vehicle.id, k))
    return gaps
