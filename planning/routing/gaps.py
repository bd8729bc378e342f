"""Every place a plan has room for one more stop, prepared once per plan and tested with numpy per stop.

The same exact test as planning.routing.insertion (forward `leave` times, backward `latest` slack from
`route_slack`), split in two: the part that depends only on the plan is computed once and kept with the
cached day, and the part that depends on the new stop (its distances to every point, its demand and
windows) is a handful of array operations. Results equal `best_insertions` on the extended problem.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from planning.routing.insertion import Insertion, route_slack
from planning.routing.model import Plan, Problem, TimeWindow


@dataclass(frozen=True)
class RouteGaps:
    """The gaps of a plan, one array entry each, in the order planning.routing.insertion lists them."""

    vehicle_ids: tuple[str, ...]
    vehicle: np.ndarray  # index into vehicle_ids
    position: np.ndarray
    before: np.ndarray  # location numbers around the gap
    after: np.ndarray
    leave: np.ndarray  # earliest time the vehicle leaves `before`
    latest: np.ndarray  # latest service start at `after`
    edge_km: np.ndarray  # distance from `before` to `after`, saved by the detour
    opening: np.ndarray  # fixed cost of an unused vehicle
    room: np.ndarray  # capacity left on the route

    def best(
        self,
        km_to: np.ndarray,
        seconds_to: np.ndarray,
        demand: int,
        service: float,
        windows: Sequence[TimeWindow],
    ) -> list[Insertion | None]:
        """Cheapest feasible insertion per window of a stop `km_to`/`seconds_to` away from every location."""
        earliest = self.leave + seconds_to[self.before]
        last = self.latest - service - seconds_to[self.after]
        cost = km_to[self.before] + km_to[self.after] - self.edge_km + self.opening
        usable = (earliest <= last) & (self.room >= demand)
        found: list[Insertion | None] = []
        for window in windows:
            start = np.maximum(window.start, earliest)
            fits = usable & (start <= last) & (start <= window.end)
            if not fits.any():
                found.append(None)
                continue
            k = int(np.argmin(np.where(fits, cost, np.inf)))
            vehicle = self.vehicle_ids[self.vehicle[k]]
            found.append(Insertion(vehicle, int(self.position[k]), float(cost[k]), float(start[k])))
        return found


def route_gaps(problem: Problem, plan: Plan) -> RouteGaps:
    """Prepare the gaps of every route (and one per kind of unused vehicle) for insertion tests."""
    sequences = {r.vehicle: r.visits for r in plan.routes}
    stops = {s.id: s for s in problem.stops}
    columns: list[tuple] = []
    idle_kinds = set()
    for index, vehicle in enumerate(problem.vehicles):
        route = [stops[visit.stop] for visit in sequences.get(vehicle.id, ())]
        if not route:
            kind = (vehicle.depot, vehicle.capacity, vehicle.shift, vehicle.fixed_cost)
            if kind in idle_kinds:
                continue
            idle_kinds.add(kind)
        depot = problem.depot_of(vehicle)
        places = [depot.location, *(s.location for s in route), depot.location]
        slack = route_slack(places, route, problem.working_hours(vehicle), problem.durations)
        if slack is None:
            continue  # the route is already infeasible: nothing can be added to it
        leave, latest = slack
        opening = 0.0 if route else vehicle.fixed_cost
        room = vehicle.capacity - sum(s.demand for s in route)
        for k in range(len(route) + 1):
            before, after = places[k], places[k + 1]
            columns.append(
                (
                    index,
                    k,
                    before,
                    after,
                    leave[k],
                    latest[k],
                    problem.distances[before][after],
                    opening,
                    room,
                )
            )
    arrays = [np.array(column) for column in zip(*columns, strict=True)] if columns else [np.array([])] * 9
    vehicle, position, before, after, leave, latest, edge_km, opening, room = arrays
    return RouteGaps(
        tuple(v.id for v in problem.vehicles),
        vehicle.astype(int),
        position.astype(int),
        before.astype(int),
        after.astype(int),
        leave.astype(float),
        latest.astype(float),
        edge_km.astype(float),
        opening.astype(float),
        room.astype(int),
    )
