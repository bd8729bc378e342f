"""Independent plan checker: verifies a plan against the problem in floating point, trusting nothing."""

from __future__ import annotations

from collections import Counter

from planning.routing.model import Plan, Problem, Route

# Absorbs floating-point noise from summing travel times in a different order; far below any real unit.
TOLERANCE = 1e-6


def check_plan(problem: Problem, plan: Plan) -> list[str]:
    """Return every violation found in the plan (empty when it is feasible)."""
    violations: list[str] = []
    known = {s.id for s in problem.stops}
    counts = Counter([v.stop for r in plan.routes for v in r.visits] + list(plan.unassigned))
    violations += [f"stop {s} appears {n} times" for s, n in counts.items() if n > 1]
    violations += [f"unknown stop {s}" for s in counts if s not in known]
    violations += [f"stop {s} is missing" for s in sorted(known - counts.keys())]
    vehicles = Counter(r.vehicle for r in plan.routes)
    violations += [f"vehicle {v} has {n} routes" for v, n in vehicles.items() if n > 1]
    for route in plan.routes:
        if route.vehicle not in {v.id for v in problem.vehicles}:
            violations.append(f"unknown vehicle {route.vehicle}")
        elif all(v.stop in known for v in route.visits):
            violations += _check_route(problem, route)
    return violations


def _check_route(problem: Problem, route: Route) -> list[str]:
    vehicle = next(v for v in problem.vehicles if v.id == route.vehicle)
    depot = next(d for d in problem.depots if d.id == vehicle.depot)
    stops = {s.id: s for s in problem.stops}
    name = f"vehicle {vehicle.id}"
    found: list[str] = []
    leave_by = max(vehicle.shift.start, depot.hours.start)
    if route.departure < leave_by - TOLERANCE:
        found.append(f"{name} leaves at {route.departure}, before {leave_by}")
    place, ready_to_go, distance, load = depot.location, route.departure, 0.0, 0
    for visit in route.visits:
        stop = stops[visit.stop]
        earliest_arrival = ready_to_go + problem.durations[place][stop.location]
        if visit.arrival < earliest_arrival - TOLERANCE:
            found.append(f"{name} reaches stop {stop.id} at {visit.arrival}, before {earliest_arrival}")
        if visit.start < max(visit.arrival, stop.window.start) - TOLERANCE:
            found.append(f"{name} starts stop {stop.id} at {visit.start}, before arrival or window")
        if visit.start > stop.window.end + TOLERANCE:
            found.append(f"{name} starts stop {stop.id} late: {visit.start} > {stop.window.end}")
        distance += problem.distances[place][stop.location]
        place, ready_to_go, load = (
            stop.location,
            max(visit.start, earliest_arrival) + stop.service,
            load + stop.demand,
        )
    back = ready_to_go + problem.durations[place][depot.location]
    distance += problem.distances[place][depot.location]
    close = min(vehicle.shift.end, depot.hours.end)
    if back > close + TOLERANCE or route.return_time > close + TOLERANCE:
        found.append(f"{name} returns at {max(back, route.return_time)}, after {close}")
    if route.return_time < back - TOLERANCE:
        found.append(f"{name} claims return at {route.return_time}, but cannot be back before {back}")
    if load > vehicle.capacity:
        found.append(f"{name} carries {load}, over its capacity {vehicle.capacity}")
    if route.load != load:
        found.append(f"{name} claims load {route.load}, actual {load}")
    if abs(route.distance - distance) > TOLERANCE * max(1.0, distance):
        found.append(f"{name} claims distance {route.distance}, actual {distance}")
    return found
