"""Solomon reader, independent plan checker and insertion scan of the routing core."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planning.routing.feasibility import check_plan
from planning.routing.insertion import Insertion, best_insertion, best_insertions
from planning.routing.model import (
    Depot,
    Plan,
    Problem,
    Stop,
    TimeWindow,
    Vehicle,
    Visit,
    build_plan,
    euclidean_matrix,
    schedule_route,
)
from planning.routing.solomon import SolomonFormatError, parse_solomon, read_solomon

SOLOMON = Path(__file__).resolve().parents[1] / ".." / "shared" / "planning" / "solomon"
TINY_SOLOMON = """TINY

VEHICLE
NUMBER     CAPACITY
  2         15

CUSTOMER
CUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE   TIME

    0      0         0          0          0       100          0
    1      3         4          4          0        50          1
    2      6         8          5         10        60          2
"""


DAY = TimeWindow(0, 100)
B_WINDOW = TimeWindow(10, 60)


def make_problem(*, capacity: int = 10, hours: TimeWindow = DAY, window_b: TimeWindow = B_WINDOW) -> Problem:
    """Depot at the origin, stop A 5 away, stop B 5 further on the same line; one vehicle."""
    stops = (
        Stop("A", 1, 4, TimeWindow(0, 50), 1.0),
        Stop("B", 2, 5, window_b, 2.0),
    )
    matrix = euclidean_matrix([(0, 0), (3, 4), (6, 8)])
    return Problem((Depot("D", 0, hours),), (Vehicle("v1", "D", capacity, hours),), stops, matrix, matrix)


def test_parse_solomon_reads_depot_fleet_and_customers() -> None:
    problem = parse_solomon(TINY_SOLOMON)
    assert problem.depots == (Depot("0", 0, TimeWindow(0, 100)),)
    assert problem.vehicles == (
        Vehicle("v1", "0", 15, TimeWindow(0, 100)),
        Vehicle("v2", "0", 15, TimeWindow(0, 100)),
    )
    assert problem.stops == (
        Stop("1", 1, 4, TimeWindow(0, 50), 1.0),
        Stop("2", 2, 5, TimeWindow(10, 60), 2.0),
    )
    assert problem.distances == ((0.0, 5.0, 10.0), (5.0, 0.0, 5.0), (10.0, 5.0, 0.0))
    assert problem.durations == problem.distances


@pytest.mark.parametrize(
    "text",
    ["", "TINY\nVEHICLE\nNUMBER CAPACITY\n 2 15\n", TINY_SOLOMON.replace("    2      6", "    5      6")],
)
def test_parse_solomon_rejects_malformed_text(text: str) -> None:
    with pytest.raises(SolomonFormatError):
        parse_solomon(text)


def test_read_solomon_c101_from_shared() -> None:
    if not SOLOMON.is_dir():
        pytest.skip("../shared is not present")
    problem = read_solomon(SOLOMON / "C101.txt")
    assert (len(problem.vehicles), problem.vehicles[0].capacity, len(problem.stops)) == (25, 200, 100)
    assert problem.depots[0].hours == TimeWindow(0, 1236)
    assert problem.stops[0] == Stop("1", 1, 10, TimeWindow(912, 967), 90.0)


def test_schedule_and_checker_accept_a_feasible_plan() -> None:
    problem = make_problem()
    plan = build_plan(problem, {"v1": ["A", "B"]})
    assert plan.routes[0].visits == (Visit("A", 5.0, 5.0), Visit("B", 11.0, 11.0))
    assert (plan.routes[0].return_time, plan.distance, plan.routes[0].load) == (23.0, 20.0, 9)
    assert check_plan(problem, plan) == []


@pytest.mark.parametrize(
    ("problem", "expected"),
    [
        (make_problem(capacity=8), ["vehicle v1 carries 9, over its capacity 8"]),
        (make_problem(window_b=TimeWindow(0, 10)), ["vehicle v1 starts stop B late: 11.0 > 10"]),
        (make_problem(hours=TimeWindow(0, 20)), ["vehicle v1 returns at 23.0, after 20"]),
    ],
)
def test_checker_reports_capacity_lateness_and_depot_closing(problem: Problem, expected: list[str]) -> None:
    assert check_plan(problem, build_plan(problem, {"v1": ["A", "B"]})) == expected


def test_checker_reports_missing_duplicate_and_unknown_stops() -> None:
    problem = make_problem(capacity=20)
    vehicle = problem.vehicles[0]
    only_a = Plan((schedule_route(problem, vehicle, ["A"]),))
    assert check_plan(problem, only_a) == ["stop B is missing"]
    twice = Plan((schedule_route(problem, vehicle, ["A", "B", "A"]),))
    assert check_plan(problem, twice) == ["stop A appears 2 times"]
    ghost = Plan(only_a.routes, unassigned=("B", "Z"))
    assert check_plan(problem, ghost) == ["unknown stop Z"]


def test_checker_does_not_trust_recorded_times() -> None:
    problem = make_problem()
    route = build_plan(problem, {"v1": ["A", "B"]}).routes[0]
    early = dataclasses.replace(route, visits=(Visit("A", 2.0, 2.0), route.visits[1]))
    assert check_plan(problem, Plan((early,))) == ["vehicle v1 reaches stop A at 2.0, before 5.0"]
    short = dataclasses.replace(route, distance=10.0, return_time=20.0)
    assert check_plan(problem, Plan((short,))) == [
        "vehicle v1 claims return at 20.0, but cannot be back before 23.0",
        "vehicle v1 claims distance 10.0, actual 20.0",
    ]


def test_best_insertion_finds_cheapest_feasible_place() -> None:
    problem = make_problem(capacity=20)
    plan = build_plan(problem, {"v1": ["A", "B"]})
    # C lies just off the depot-B line: cheapest after B, on the way home.
    matrix = euclidean_matrix([(0, 0), (3, 4), (6, 8), (5, 6)])
    problem = dataclasses.replace(problem, durations=matrix, distances=matrix)
    stop = Stop("C", 3, 1, TimeWindow(0, 100), 0.5)
    found = best_insertion(problem, plan, stop)
    detour = pytest.approx(5**0.5 + 61**0.5 - 10)
    assert found == Insertion("v1", 2, detour, pytest.approx(13 + 5**0.5))
    # Too late for the route (it must be back by 100 with A and B served), or too early for it to get there.
    late, early, wide = best_insertions(
        problem, plan, stop, [TimeWindow(99, 100), TimeWindow(0, 1), TimeWindow(20, 30)]
    )
    assert (late, early) == (None, None)
    assert wide == Insertion("v1", 2, detour, 20)


def _brute_force(problem: Problem, plan: Plan, stop: Stop) -> float | None:
    """Cheapest marginal cost over every (vehicle, position), judged by the independent checker."""
    extended = dataclasses.replace(problem, stops=(*problem.stops, stop))
    sequences = {r.vehicle: [v.stop for v in r.visits] for r in plan.routes}
    costs = []
    for vehicle in problem.vehicles:
        route = sequences.get(vehicle.id, [])
        for k in range(len(route) + 1):
            candidate = build_plan(extended, {**sequences, vehicle.id: [*route[:k], stop.id, *route[k:]]})
            if not check_plan(extended, candidate):
                opening = vehicle.fixed_cost if not route else 0.0
                costs.append(candidate.distance - plan.distance + opening)
    return min(costs, default=None)


@st.composite
def insertion_cases(draw: st.DrawFn) -> tuple[Problem, Plan, Stop]:
    """A random small problem, a random feasible plan for part of it, and a new stop."""
    n = draw(st.integers(1, 6))
    points = draw(st.lists(st.tuples(st.integers(0, 20), st.integers(0, 20)), min_size=n + 2, max_size=n + 2))
    matrix = euclidean_matrix(points)

    def window() -> TimeWindow:
        start = draw(st.integers(0, 60))
        return TimeWindow(start, start + draw(st.integers(0, 40)))

    stops = [
        Stop(f"s{i}", i + 1, draw(st.integers(0, 5)), window(), draw(st.integers(0, 15)))
        for i in range(n + 1)
    ]
    depot = Depot("D", 0, TimeWindow(0, draw(st.integers(60, 120))))
    vehicles = tuple(
        # Few distinct shifts and costs, so that two idle vehicles are often interchangeable.
        Vehicle(
            f"v{k}",
            "D",
            draw(st.sampled_from([6, 12])),
            TimeWindow(draw(st.sampled_from([0, 20])), 200),
            draw(st.sampled_from([0.0, 3.0])),
        )
        for k in range(2)
    )
    problem = Problem((depot,), vehicles, tuple(stops[:n]), matrix, matrix)
    sequences: dict[str, list[str]] = {"v0": [], "v1": []}
    for i in draw(st.permutations(range(n))):
        route = sequences[draw(st.sampled_from(["v0", "v1"]))]
        route.insert(draw(st.integers(0, len(route))), f"s{i}")
        if check_plan(problem, build_plan(problem, sequences)):
            route.remove(f"s{i}")
    return problem, build_plan(problem, sequences), stops[n]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(insertion_cases())
def test_best_insertion_agrees_with_brute_force(case: tuple[Problem, Plan, Stop]) -> None:
    problem, plan, stop = case
    expected = _brute_force(problem, plan, stop)
    found = best_insertion(problem, plan, stop)
    if expected is None:
        assert found is None
    else:
        assert found is not None and found.cost == pytest.approx(expected)
        assert best_insertions(problem, plan, stop, [TimeWindow(-1, -1), stop.window]) == [None, found]
