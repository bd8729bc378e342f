"""Ruin-and-recreate improvement (planning.routing.lns) and the route slack summary it shares."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planning.routing.feasibility import check_plan
from planning.routing.insertion import route_slack
from planning.routing.lns import improve
from planning.routing.model import (
    Depot,
    Plan,
    Problem,
    Stop,
    TimeWindow,
    Vehicle,
    build_plan,
    euclidean_matrix,
)

DAY = TimeWindow(0, 100)


def line_problem(vehicles: int = 5, capacity: int = 100) -> Problem:
    """Depot at 0 and five stops at x = 1..5 on a line, wide windows, one unit of service each."""
    matrix = euclidean_matrix([(x, 0) for x in range(6)])
    stops = tuple(Stop(f"s{x}", x, 10, DAY, 1.0) for x in range(1, 6))
    fleet = tuple(Vehicle(f"v{k}", "D", capacity, DAY) for k in range(vehicles))
    return Problem((Depot("D", 0, DAY),), fleet, stops, matrix, matrix)


def test_route_slack_gives_leaving_times_and_latest_starts() -> None:
    problem = line_problem()
    stops = [problem.stops[0], problem.stops[2]]
    windows = [TimeWindow(5, 20), TimeWindow(0, 30)]
    stops = [Stop(s.id, s.location, s.demand, w, 2.0) for s, w in zip(stops, windows, strict=True)]
    leave, latest = route_slack([0, 1, 3, 0], stops, TimeWindow(0, 40), problem.durations)
    # Leave the depot at 0, wait at s1 until 5, serve 2; reach s3 at 9, serve 2.
    assert leave == [0, 7.0, 11.0]
    # Back by 40: s3 must start by min(30, 40 - 3 - 2) = 30, s1 by min(20, 30 - 2 - 2) = 20.
    assert latest == [20, 30, 40]
    assert route_slack([0, 1, 3, 0], stops, TimeWindow(0, 12), problem.durations) is None


def test_improve_merges_single_stop_routes_into_the_shortest_tour() -> None:
    problem = line_problem()
    start = build_plan(problem, {f"v{k}": [f"s{k + 1}"] for k in range(5)})
    assert start.distance == pytest.approx(30.0)
    began = time.monotonic()
    plan = improve(problem, start, vehicle_costs=[0.0] * 5, deadline=began + 0.3)
    assert time.monotonic() - began < 0.4
    assert check_plan(problem, plan) == []
    assert plan.distance == pytest.approx(10.0)
    assert [sorted(v.stop for v in r.visits) for r in plan.routes] == [["s1", "s2", "s3", "s4", "s5"]]


def test_improve_serves_stops_the_start_left_out() -> None:
    problem = line_problem()
    start = build_plan(problem, {"v0": ["s1", "s2"]})
    assert start.unassigned == ("s3", "s4", "s5")
    plan = improve(problem, start, vehicle_costs=[0.0] * 5, deadline=time.monotonic() + 0.1)
    assert check_plan(problem, plan) == []
    assert plan.complete


def test_improve_returns_an_infeasible_start_untouched() -> None:
    problem = line_problem(capacity=15)
    start = build_plan(problem, {"v0": ["s1", "s2"], "v1": ["s3"], "v2": ["s4"], "v3": ["s5"]})
    assert check_plan(problem, start) == ["vehicle v0 carries 20, over its capacity 15"]
    assert improve(problem, start, vehicle_costs=[0.0] * 5, deadline=time.monotonic() + 0.1) is start


def test_improve_with_vehicle_costs_uses_fewer_vehicles() -> None:
    # Capacity 20 forces at least three routes; a vehicle cost above any distance saving wants exactly three.
    problem = line_problem(capacity=20)
    start = build_plan(problem, {f"v{k}": [f"s{k + 1}"] for k in range(5)})
    plan = improve(problem, start, vehicle_costs=[1000.0] * 5, deadline=time.monotonic() + 0.3)
    assert check_plan(problem, plan) == []
    assert len(plan.routes) == 3


@st.composite
def start_plans(draw: st.DrawFn) -> tuple[Problem, Plan]:
    """A random small problem with tight-ish windows and a feasible start plan (some stops unserved)."""
    n = draw(st.integers(2, 8))
    points = draw(st.lists(st.tuples(st.integers(0, 30), st.integers(0, 30)), min_size=n + 1, max_size=n + 1))
    matrix = euclidean_matrix(points)
    stops = []
    for i in range(n):
        ready = draw(st.integers(0, 80))
        stops.append(Stop(f"s{i}", i + 1, draw(st.integers(1, 6)), TimeWindow(ready, ready + 30), 5.0))
    fleet = tuple(Vehicle(f"v{k}", "D", 10, TimeWindow(0, 150), k * 5.0) for k in range(3))
    problem = Problem((Depot("D", 0, TimeWindow(0, 150)),), fleet, tuple(stops), matrix, matrix)
    sequences: dict[str, list[str]] = {v.id: [] for v in fleet}
    for i in draw(st.permutations(range(n))):
        route = sequences[draw(st.sampled_from(sorted(sequences)))]
        route.append(f"s{i}")
        if check_plan(problem, build_plan(problem, sequences)):
            route.pop()
    return problem, build_plan(problem, sequences)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(start_plans())
def test_improve_never_returns_an_infeasible_or_worse_plan(case: tuple[Problem, Plan]) -> None:
    problem, start = case
    costs = [v.fixed_cost for v in problem.vehicles]
    plan = improve(problem, start, vehicle_costs=costs, deadline=time.monotonic() + 0.01)
    assert check_plan(problem, plan) == []
    assert len(plan.unassigned) <= len(start.unassigned)
    fixed = {v.id: v.fixed_cost for v in problem.vehicles}

    def cost(p: Plan) -> float:
        return p.distance + sum(fixed[r.vehicle] for r in p.routes)

    if len(plan.unassigned) == len(start.unassigned):
        assert cost(plan) <= cost(start) + 1e-9
