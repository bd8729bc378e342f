"""Ruin-and-recreate improvement of a plan in pure Python: string removals, greedy reinsertion, annealing.

After SISR (Christiaens & Vanden Berghe, "Slack induction by string removals for vehicle routing
problems", Transportation Science 54(2), 2020): remove a few strings of stops from routes near a random
stop, put them back one by one at their cheapest feasible place (skipping a place now and then,
"blinks"), and accept the result by simulated annealing. Works on the unrounded matrices with the exact
O(1) insertion test of planning.routing.insertion, so every plan it builds is feasible in exact arithmetic.
"""

from __future__ import annotations

import math
import random
import time
from bisect import bisect_left, bisect_right
from collections.abc import Sequence

from planning.routing.insertion import route_slack
from planning.routing.model import Plan, Problem, build_plan

# SISR's published settings: mean number of stops removed, longest string, chance of a split string,
# chance of ending a split string's kept part early, chance of skipping an insertion place.
AVERAGE_REMOVED = 10
MAX_STRING = 10
SPLIT_RATE = 0.5
SPLIT_DEPTH = 0.01
BLINK_RATE = 0.01
# Annealing temperatures as multiples of the starting plan's mean arc length (so they suit any
# distance unit), falling geometrically over the time given; tuned on Solomon (bench/routing.py).
START_TEMPERATURE = 2.0
END_TEMPERATURE = 0.07
# Reinsertion orders and how often each is drawn: random, largest demand, farthest and nearest first.
ORDER_WEIGHTS = (4, 4, 2, 1)


class _Route:
    """A vehicle's stops (problem indices) with the slack summary used to test insertions in O(1)."""

    __slots__ = ("vehicle", "stops", "places", "leave", "latest", "arcs", "load", "cost")

    def __init__(self, search: _Search, vehicle: int, stops: list[int]) -> None:
        self.vehicle = vehicle
        self.stops = stops
        depot = search.depot_place[vehicle]
        self.places = [depot, *(search.place[s] for s in stops), depot]
        distances = search.distances
        self.arcs = [distances[a][b] for a, b in zip(self.places, self.places[1:], strict=False)]
        self.load = sum(search.demand[s] for s in stops)
        self.cost = sum(self.arcs) + search.vehicle_cost[vehicle] if stops else 0.0


class _Search:
    """Problem data as flat lists indexed by stop and vehicle, and the search state around them."""

    def __init__(self, problem: Problem, vehicle_costs: Sequence[float], rng: random.Random) -> None:
        self.problem, self.rng = problem, rng
        self.durations, self.distances = problem.durations, problem.distances
        stops = problem.stops
        self.place = [s.location for s in stops]
        self.ready = [s.window.start for s in stops]
        self.due = [s.window.end for s in stops]
        self.service = [s.service for s in stops]
        self.demand = [s.demand for s in stops]
        # Built on first use, so that starting a search costs time linear in the number of stops.
        self._columns: list[tuple[list[float], list[float]] | None] = [None] * len(stops)
        self._neighbours: list[list[int] | None] = [None] * len(stops)
        self.hours = [problem.working_hours(v) for v in problem.vehicles]
        self.depot_place = [problem.depot_of(v).location for v in problem.vehicles]
        self.capacity = [v.capacity for v in problem.vehicles]
        self.vehicle_cost = list(vehicle_costs)
        kinds: dict[tuple, int] = {}
        self.kind = [
            kinds.setdefault((self.depot_place[k], self.hours[k], v.capacity, vehicle_costs[k]), len(kinds))
            for k, v in enumerate(problem.vehicles)
        ]
        home = [min(self.distances[d][s.location] for d in set(self.depot_place)) for s in stops]
        self.orders = (
            None,
            sorted(range(len(stops)), key=lambda s: -self.demand[s]),
            sorted(range(len(stops)), key=lambda s: -home[s]),
            sorted(range(len(stops)), key=lambda s: home[s]),
        )

    def neighbours(self, stop: int) -> list[int]:
        """Return all stops, nearest to stop first."""
        found = self._neighbours[stop]
        if found is None:
            row, place = self.distances[self.place[stop]], self.place
            found = self._neighbours[stop] = sorted(range(len(place)), key=lambda s: row[place[s]])
        return found

    def columns(self, stop: int) -> tuple[list[float], list[float]]:
        """Return travel durations and distances from every location to stop."""
        found = self._columns[stop]
        if found is None:
            here = self.place[stop]
            found = ([row[here] for row in self.durations], [row[here] for row in self.distances])
            self._columns[stop] = found
        return found

    def route(self, vehicle: int, stops: list[int]) -> _Route | None:
        """Return the vehicle's route over stops with its slack, or None if it breaks a window."""
        route = _Route(self, vehicle, stops)
        problem_stops = self.problem.stops
        slack = route_slack(
            route.places, [problem_stops[s] for s in stops], self.hours[vehicle], self.durations
        )
        if slack is None or route.load > self.capacity[vehicle]:
            return None
        route.leave, route.latest = slack
        return route

    def ruin(self, routes: list[_Route], route_of: dict[int, int]) -> tuple[list[_Route], list[int]]:
        """Remove strings of stops from routes close to a random served stop; return routes, removed."""
        rng = self.rng
        used = [r for r in routes if r.stops]
        longest = min(MAX_STRING, sum(len(r.stops) for r in used) / len(used))
        strings = int(rng.uniform(1, 4 * AVERAGE_REMOVED / (1 + longest)))
        seed = rng.choice(list(route_of))
        routes, removed, ruined = list(routes), [], set()
        for stop in self.neighbours(seed):
            if len(ruined) >= strings:
                break
            index = route_of.get(stop)
            if index is None or index in ruined:
                continue
            ruined.add(index)
            stops = routes[index].stops
            out = self._string(stops, stops.index(stop), int(rng.uniform(1, min(len(stops), longest) + 1)))
            kept = self.route(routes[index].vehicle, [s for s in stops if s not in out])
            if kept is not None:  # only None with travel times that break the triangle inequality
                routes[index] = kept
                removed += out
        return routes, removed

    def _string(self, stops: list[int], position: int, length: int) -> set[int]:
        """Pick `length` stops around position: one string, or a longer one with a kept middle part."""
        rng = self.rng
        kept = 0
        if length < len(stops) and rng.random() < SPLIT_RATE:
            kept = 1
            while length + kept < len(stops) and rng.random() > SPLIT_DEPTH:
                kept += 1
        span = length + kept
        first = rng.randint(max(0, position - span + 1), min(position, len(stops) - span))
        keep_from = first + rng.randint(0, length)
        return {
            s
            for k, s in enumerate(stops[first : first + span], first)
            if not keep_from <= k < keep_from + kept
        }

    def recreate(self, routes: list[_Route], removed: list[int]) -> list[int]:
        """Insert stops one by one at their cheapest feasible place (with blinks); return those left out."""
        rng = self.rng
        order = self.orders[rng.choices(range(len(ORDER_WEIGHTS)), ORDER_WEIGHTS)[0]]
        if order is None:
            rng.shuffle(removed)
        else:
            rank = {s: k for k, s in enumerate(order)}
            removed.sort(key=rank.__getitem__)
        left_out = []
        for stop in removed:
            found = self._cheapest_place(routes, stop)
            if found is None:
                left_out.append(stop)
            else:
                index, position = found
                stops = routes[index].stops
                route = self.route(routes[index].vehicle, [*stops[:position], stop, *stops[position:]])
                if route is None:  # the O(1) test and the schedule disagree only by rounding
                    left_out.append(stop)
                else:
                    routes[index] = route
        return left_out

    def _cheapest_place(self, routes: list[_Route], stop: int) -> tuple[int, int] | None:
        """Return (route index, position) of the cheapest feasible insertion of stop, or None."""
        ready, due, service, demand = self.ready[stop], self.due[stop], self.service[stop], self.demand[stop]
        dur_in, dist_in = self.columns(stop)
        here = self.place[stop]
        dur_out, dist_out = self.durations[here], self.distances[here]
        capacity, kind, vehicle_cost = self.capacity, self.kind, self.vehicle_cost
        random_ = self.rng.random
        earliest_finish = ready + service
        best, found, idle_kinds = math.inf, None, set()
        for index, route in enumerate(routes):
            vehicle = route.vehicle
            if route.load + demand > capacity[vehicle]:
                continue
            opening = 0.0
            if not route.stops:
                if kind[vehicle] in idle_kinds:
                    continue
                idle_kinds.add(kind[vehicle])
                opening = vehicle_cost[vehicle]
            # Leaving times and latest starts both grow along a route, so the places where the stop's
            # window can fit form one run: those reached by its due time, where it can still be served.
            first = bisect_left(route.latest, earliest_finish)
            last = bisect_right(route.leave, due)
            if first >= last:
                continue
            places = route.places
            for position, before, after, leave, latest, arc in zip(
                range(first, last),
                places[first:last],
                places[first + 1 : last + 1],
                route.leave[first:last],
                route.latest[first:last],
                route.arcs[first:last],
                strict=False,
            ):
                cost = dist_in[before] + dist_out[after] - arc + opening
                if cost < best:
                    start = leave + dur_in[before]
                    if start < ready:
                        start = ready
                    if (
                        start <= due
                        and start + service + dur_out[after] <= latest
                        and random_() >= BLINK_RATE
                    ):
                        best, found = cost, (index, position)
        return found


def improve(
    problem: Problem,
    plan: Plan,
    *,
    vehicle_costs: Sequence[float],
    deadline: float,
    seed: int = 0,
) -> Plan:
    """Return the best plan found by ruin and recreate from plan until the deadline (monotonic clock).

    plan should pass check_plan; one that breaks a window or a capacity is returned untouched.
    vehicle_costs[k] is charged when problem.vehicles[k] is used. A plan serving fewer stops is never
    accepted; among equals, lower distance plus vehicle costs wins. Returns plan itself if nothing better.
    """
    search = _Search(problem, vehicle_costs, random.Random(seed))
    index_of_stop = {s.id: k for k, s in enumerate(problem.stops)}
    sequences = {r.vehicle: [index_of_stop[v.stop] for v in r.visits] for r in plan.routes}
    routes = []
    for k, vehicle in enumerate(problem.vehicles):
        route = search.route(k, sequences.get(vehicle.id, []))
        if route is None:
            return plan  # not a feasible start: nothing to improve from
        routes.append(route)
    left_out = search.recreate(routes, [index_of_stop[s] for s in plan.unassigned])
    best_routes, best_out = _anneal(search, routes, left_out, time.monotonic(), deadline)
    if (len(best_out), sum(r.cost for r in best_routes)) >= (len(plan.unassigned), _cost(search, plan)):
        return plan
    return build_plan(
        problem, {problem.vehicles[r.vehicle].id: [problem.stops[s].id for s in r.stops] for r in best_routes}
    )


def _anneal(
    search: _Search, routes: list[_Route], left_out: list[int], began: float, deadline: float
) -> tuple[list[_Route], list[int]]:
    """Ruin and recreate until the deadline with annealing acceptance; return the best routes found."""
    rng = search.rng
    cost = sum(r.cost for r in routes)
    best = (len(left_out), cost, routes, left_out)
    span = max(deadline - began, 1e-9)
    arcs = sum(len(r.stops) + 1 for r in routes if r.stops)
    scale = sum(sum(r.arcs) for r in routes) / arcs if arcs else 0.0
    while (now := time.monotonic()) < deadline:
        route_of = {s: k for k, r in enumerate(routes) for s in r.stops}
        if not route_of:
            break
        cooling = (END_TEMPERATURE / START_TEMPERATURE) ** ((now - began) / span)
        temperature = START_TEMPERATURE * scale * cooling
        candidate, removed = search.ruin(routes, route_of)
        out = search.recreate(candidate, removed + left_out)
        candidate_cost = sum(r.cost for r in candidate)
        if len(out) < len(left_out) or (
            len(out) == len(left_out) and candidate_cost < cost - temperature * math.log(1.0 - rng.random())
        ):
            routes, left_out, cost = candidate, out, candidate_cost
            if (len(out), cost) < best[:2]:
                best = (len(out), cost, routes, out)
    return best[2], best[3]


def _cost(search: _Search, plan: Plan) -> float:
    """Distance plus vehicle costs of a plan, as the search counts them."""
    cost_of = {v.id: search.vehicle_cost[k] for k, v in enumerate(search.problem.vehicles)}
    return sum(r.distance + cost_of[r.vehicle] for r in plan.routes)
