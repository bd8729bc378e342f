"""Vehicle routing with OR-Tools (the only module importing it): CVRPTW with shifts, fleets per depot.

A solve runs OR-Tools first-solution strategies, then guided local search for a share of the budget,
then pure-Python ruin and recreate (planning.routing.lns) on the unrounded matrices for the rest.
OR-Tools works on integers, so distances and times are scaled by SCALE. Times are rounded towards
infeasibility (travel and ready times up, due times down): any schedule OR-Tools accepts is also
feasible in exact arithmetic, which the independent checker confirms before a plan is returned.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from planning.routing.feasibility import check_plan
from planning.routing.lns import improve
from planning.routing.model import Objective, Plan, Problem, Stop, Vehicle, build_plan

SCALE = 1000
# Tried in turn for a first solution; each is cheap and they win on different instance classes.
FIRST_SOLUTION_STRATEGIES = (
    routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION,
    routing_enums_pb2.FirstSolutionStrategy.LOCAL_CHEAPEST_INSERTION,
    routing_enums_pb2.FirstSolutionStrategy.SAVINGS,
)
# Seconds kept back from the budget for building the model and checking the result.
RESERVE_S = 0.1
# Share of the budget for OR-Tools guided local search; the rest goes to ruin and recreate, which
# improves on GLS far faster (Solomon, 5 s: mean gap 2.6 % with GLS alone, about 1 % with both;
# shares from 0.1 to 0.3 measured alike within noise, see bench/routing.py).
GLS_SHARE = 0.2
# Seconds kept back at the end of ruin and recreate for building and checking the plan it returns.
FINISH_S = 0.1
# Guided local search penalty weight; above OR-Tools' default 0.1, measured better on Solomon (bench/).
GLS_LAMBDA = 0.4


class NoFeasiblePlan(RuntimeError):
    """The solver found no plan that passes the feasibility check within its time budget."""


@dataclass(frozen=True)
class StrategyProbe:
    """What OR-Tools alone achieved: its checked plan (None if none) and when its first solution came."""

    plan: Plan | None
    first_solution_s: float | None


@dataclass
class _Model:
    """An OR-Tools routing model for the servable part of a problem."""

    manager: pywrapcp.RoutingIndexManager
    routing: pywrapcp.RoutingModel
    vehicles: list[Vehicle]
    stops: list[Stop]
    node_of_stop: dict[str, int]


def solve(
    problem: Problem,
    *,
    time_limit_s: float,
    objective: Objective | str = Objective.DISTANCE,
    initial_plan: Plan | None = None,
) -> Plan:
    """Return the best plan found within the time limit; stops that cannot be served are unassigned.

    Raises NoFeasiblePlan if nothing feasible was found in time (never returns an infeasible plan).
    """
    deadline = time.monotonic() + time_limit_s
    objective = Objective(objective)
    found: list[Plan] = []
    if initial_plan is not None and not check_plan(problem, initial_plan):
        found.append(initial_plan)
    else:
        found += _first_solutions(problem, objective, deadline)
    if found:
        now = time.monotonic()
        found += _improve(
            problem, objective, _best(problem, objective, found), now + GLS_SHARE * (deadline - now)
        )
        found += _ruin_and_recreate(problem, objective, _best(problem, objective, found), deadline - FINISH_S)
    if not found:
        raise NoFeasiblePlan(f"no feasible plan found within {time_limit_s} s")
    return _best(problem, objective, found)


def _best(problem: Problem, objective: Objective, plans: list[Plan]) -> Plan:
    """Return the best of several feasible plans."""
    return min(plans, key=lambda plan: _rank(problem, objective, plan))


def probe_strategy(problem: Problem, strategy: str, *, time_limit_s: float) -> StrategyProbe:
    """Solve with OR-Tools alone on the strict model (every stop mandatory, no drop penalty): the named
    first-solution strategy (e.g. "PATH_CHEAPEST_ARC", OR-Tools' default), then guided local search."""
    began = time.monotonic()
    chosen = routing_enums_pb2.FirstSolutionStrategy.Value.Value(strategy)  # ValueError if unknown
    model = _build_model(problem, Objective.DISTANCE, mandatory=True)
    first: list[float] = []
    model.routing.AddAtSolutionCallback(lambda: first.append(time.monotonic() - began) if not first else None)
    parameters = _parameters(max(0.001, time_limit_s - (time.monotonic() - began)))
    parameters.first_solution_strategy = chosen
    plans = _feasible_plans(problem, model, [model.routing.SolveWithParameters(parameters)])
    return StrategyProbe(plans[0] if plans else None, first[0] if first else None)


def _rank(problem: Problem, objective: Objective, plan: Plan) -> tuple[float, ...]:
    """Order plans: more stops served first, then fewer vehicles if asked, then cost."""
    fixed = {v.id: v.fixed_cost for v in problem.vehicles}
    used = len(plan.routes) if objective is Objective.VEHICLES else 0
    return (len(plan.unassigned), used, plan.distance + sum(fixed[r.vehicle] for r in plan.routes))


def _vehicle_costs(problem: Problem, objective: Objective) -> list[float]:
    """Cost of using each vehicle, in distance units: its fixed cost, plus more than any plan's
    total distance when the objective is fewest vehicles."""
    places = sorted({p.location for p in (*problem.depots, *problem.stops)})
    longest = max((problem.distances[a][b] for a in places for b in places), default=0.0)
    per_vehicle = (len(problem.stops) + len(problem.vehicles)) * longest + 1
    extra = per_vehicle if objective is Objective.VEHICLES else 0.0
    return [v.fixed_cost + extra for v in problem.vehicles]


def _feasible(problem: Problem, plans: list[Plan]) -> list[Plan]:
    """Keep only the plans the independent checker accepts."""
    return [plan for plan in plans if not check_plan(problem, plan)]


def _first_solutions(problem: Problem, objective: Objective, deadline: float) -> list[Plan]:
    """Run each first-solution strategy once and return the feasible plans they give."""
    plans = []
    for strategy in FIRST_SOLUTION_STRATEGIES:
        remaining = deadline - time.monotonic() - RESERVE_S
        if remaining <= 0:
            break
        model = _build_model(problem, objective)
        assignment = model.routing.SolveWithParameters(_parameters(remaining, strategy=strategy))
        plans += _feasible_plans(problem, model, [assignment])
    return plans


def _improve(problem: Problem, objective: Objective, start: Plan, deadline: float) -> list[Plan]:
    """Run guided local search from a plan until the deadline; return the feasible result, if any."""
    remaining = deadline - time.monotonic() - RESERVE_S
    if remaining <= 0:
        return []
    model = _build_model(problem, objective)
    parameters = _parameters(remaining)
    model.routing.CloseModelWithParameters(parameters)
    assignment = _read_plan(model, start)
    if assignment is None:
        return []
    improved = model.routing.SolveFromAssignmentWithParameters(assignment, parameters)
    return _feasible_plans(problem, model, [improved])


def _ruin_and_recreate(problem: Problem, objective: Objective, start: Plan, deadline: float) -> list[Plan]:
    """Improve a plan by pure-Python ruin and recreate until the deadline; return it if feasible."""
    if deadline <= time.monotonic():
        return []
    costs = _vehicle_costs(problem, objective)
    return _feasible(problem, [improve(problem, start, vehicle_costs=costs, deadline=deadline)])


def _feasible_plans(problem: Problem, model: _Model, assignments: list) -> list[Plan]:
    """Turn solver assignments into plans, keeping only those the independent checker accepts."""
    return _feasible(problem, [_extract_plan(problem, model, a) for a in assignments if a is not None])


def _parameters(seconds: float, *, strategy: int | None = None) -> pywrapcp.RoutingSearchParameters:
    """Search parameters: a single first solution for a strategy, else guided local search."""
    parameters = pywrapcp.DefaultRoutingSearchParameters()
    if strategy is None:
        parameters.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
        parameters.guided_local_search_lambda_coefficient = GLS_LAMBDA
    else:
        parameters.first_solution_strategy = strategy
        parameters.solution_limit = 1
    parameters.time_limit.FromMilliseconds(max(1, int(seconds * 1000)))
    return parameters


def _build_model(problem: Problem, objective: Objective, *, mandatory: bool = False) -> _Model:
    """Build the OR-Tools model over usable vehicles and stops whose rounded window is not empty.

    Stops may be dropped at a prohibitive penalty, unless mandatory (the strict model).
    """
    vehicles = [v for v in problem.vehicles if _scaled_hours(problem, v)[0] <= _scaled_hours(problem, v)[1]]
    stops = [s for s in problem.stops if _up(s.window.start) <= _down(s.window.end)]
    depot_node = {d.id: k for k, d in enumerate(problem.depots)}
    locations = [d.location for d in problem.depots] + [s.location for s in stops]
    services = [0.0] * len(problem.depots) + [s.service for s in stops]
    demands = [0] * len(problem.depots) + [s.demand for s in stops]
    starts = [depot_node[v.depot] for v in vehicles]
    manager = pywrapcp.RoutingIndexManager(len(locations), len(vehicles), starts, starts)
    routing = pywrapcp.RoutingModel(manager)

    arc_cost = [[round(SCALE * problem.distances[a][b]) for b in locations] for a in locations]
    routing.SetArcCostEvaluatorOfAllVehicles(routing.RegisterTransitMatrix(arc_cost))
    travel = [
        [_up(services[i] + problem.durations[a][b]) for b in locations] for i, a in enumerate(locations)
    ]
    horizon = max((_scaled_hours(problem, v)[1] for v in vehicles), default=0)
    routing.AddDimension(routing.RegisterTransitMatrix(travel), horizon, horizon, False, "time")
    clock = routing.GetDimensionOrDie("time")
    routing.AddDimensionWithVehicleCapacity(
        routing.RegisterUnaryTransitVector(demands), 0, [v.capacity for v in vehicles], True, "load"
    )

    longest = max((max(row) for row in arc_cost), default=0)
    costs = {v.id: cost for v, cost in zip(problem.vehicles, _vehicle_costs(problem, objective), strict=True)}
    fixed = [round(SCALE * costs[v.id]) for v in vehicles]
    # Dropping a stop must always cost more than anything serving it can save.
    penalty = 4 * (2 * longest + max(fixed, default=0)) + 1
    for k, stop in enumerate(stops, start=len(problem.depots)):
        index = manager.NodeToIndex(k)
        clock.CumulVar(index).SetRange(_up(stop.window.start), _down(stop.window.end))
        if not mandatory:
            routing.AddDisjunction([index], penalty)
    for v, vehicle in enumerate(vehicles):
        opens, closes = _scaled_hours(problem, vehicle)
        clock.CumulVar(routing.Start(v)).SetRange(opens, closes)
        clock.CumulVar(routing.End(v)).SetRange(opens, closes)
        routing.SetFixedCostOfVehicle(fixed[v], v)
    node_of_stop = {s.id: k for k, s in enumerate(stops, start=len(problem.depots))}
    return _Model(manager, routing, vehicles, stops, node_of_stop)


def _read_plan(model: _Model, plan: Plan) -> pywrapcp.Assignment | None:
    """Turn a plan into an assignment of the model (None if it does not fit the model)."""
    by_vehicle = {r.vehicle: [model.node_of_stop.get(v.stop) for v in r.visits] for r in plan.routes}
    routes = [by_vehicle.get(v.id, []) for v in model.vehicles]
    if any(None in route for route in routes) or set(by_vehicle) - {v.id for v in model.vehicles}:
        return None
    return model.routing.ReadAssignmentFromRoutes(routes, True)


def _routes(model: _Model, assignment: pywrapcp.Assignment) -> list[list[int]]:
    """Return each vehicle's visited nodes in order."""
    routes = []
    for v in range(len(model.vehicles)):
        index, nodes = model.routing.NextVar(model.routing.Start(v)), []
        index = assignment.Value(index)
        while not model.routing.IsEnd(index):
            nodes.append(model.manager.IndexToNode(index))
            index = assignment.Value(model.routing.NextVar(index))
        routes.append(nodes)
    return routes


def _extract_plan(problem: Problem, model: _Model, assignment: pywrapcp.Assignment) -> Plan:
    stop_at = {k: s.id for s, k in zip(model.stops, model.node_of_stop.values(), strict=True)}
    sequences = {
        vehicle.id: [stop_at[n] for n in nodes]
        for vehicle, nodes in zip(model.vehicles, _routes(model, assignment), strict=True)
    }
    return build_plan(problem, sequences)


def _scaled_hours(problem: Problem, vehicle: Vehicle) -> tuple[int, int]:
    hours = problem.working_hours(vehicle)
    return _up(hours.start), _down(hours.end)


def _up(value: float) -> int:
    return math.ceil(value * SCALE)


def _down(value: float) -> int:
    return math.floor(value * SCALE)
