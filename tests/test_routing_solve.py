"""OR-Tools solve and the `planning solve-vrptw` command (short time limits, few solves)."""

from __future__ import annotations

import json
import math
import random
import time
from pathlib import Path

import pytest
from flask import Flask

from app.cli.planning import group
from planning.routing import NoFeasiblePlan, StrategyProbe, probe_strategy, solve
from planning.routing.feasibility import check_plan
from planning.routing.model import Depot, Problem, Stop, TimeWindow, Vehicle, euclidean_matrix
from planning.routing.solomon import parse_solomon

C101 = Path(__file__).resolve().parents[1] / ".." / "shared" / "planning" / "solomon" / "C101.txt"
HEADER = (
    "GEN\n\nVEHICLE\nNUMBER     CAPACITY\n  {number}         {capacity}\n\n"
    "CUSTOMER\nCUST NO. X Y DEMAND READY DUE SERVICE\n\n"
)


def generated_solomon(customers: int, seed: int = 7) -> str:
    """A random Solomon-format instance with loose windows, for machines without ../shared."""
    rng = random.Random(seed)
    rows = ["0 50 50 0 0 1000 0"]
    for n in range(1, customers + 1):
        ready = rng.randrange(0, 600)
        rows.append(
            f"{n} {rng.randrange(100)} {rng.randrange(100)} {rng.randrange(1, 20)} {ready} {ready + 200} 10"
        )
    return HEADER.format(number=10, capacity=100) + "\n".join(rows) + "\n"


def small_instance() -> str:
    """The first 25 customers of C101 when ../shared is present, else a generated instance."""
    if not C101.is_file():
        return generated_solomon(25)
    return "\n".join(line for line in C101.read_text().splitlines() if _within_25(line.split()))


def _within_25(words: list[str]) -> bool:
    return len(words) != 7 or not words[0].isdigit() or int(words[0]) <= 25


def test_solve_returns_a_checked_complete_plan_within_the_limit() -> None:
    problem = parse_solomon(small_instance())
    began = time.monotonic()
    plan = solve(problem, time_limit_s=1.0)
    assert time.monotonic() - began < 1.3
    assert check_plan(problem, plan) == []
    assert plan.complete
    assert sorted(v.stop for r in plan.routes for v in r.visits) == sorted(s.id for s in problem.stops)
    if C101.is_file():
        assert len(plan.routes) == 3
        assert plan.distance == pytest.approx(191.81, abs=0.01)


def test_solve_respects_the_time_limit_on_100_stops() -> None:
    problem = parse_solomon(C101.read_text() if C101.is_file() else generated_solomon(100))
    began = time.monotonic()
    plan = solve(problem, time_limit_s=0.5)
    assert time.monotonic() - began < 0.8
    assert check_plan(problem, plan) == []


def test_solve_says_so_when_the_budget_allows_nothing() -> None:
    with pytest.raises(NoFeasiblePlan):
        solve(parse_solomon(small_instance()), time_limit_s=0.001)


def two_depot_problem() -> Problem:
    """Two depots with one fixed-cost van each, a stop too heavy for any van and one nobody can reach."""
    points = [(0, 0), (100, 0), (5, 0), (10, 0), (95, 0), (90, 0), (50, 0), (50, 1)]
    day = TimeWindow(0, 500)
    depots = (Depot("west", 0, day), Depot("east", 1, TimeWindow(0, 400)))
    vehicles = (Vehicle("w1", "west", 10, day, 30.0), Vehicle("e1", "east", 10, TimeWindow(50, 500), 30.0))
    stops = (
        Stop("a", 2, 3, TimeWindow(0, 100), 5),
        Stop("b", 3, 3, TimeWindow(0, 100), 5),
        Stop("c", 4, 3, TimeWindow(100, 200), 5),
        Stop("d", 5, 3, TimeWindow(100, 200), 5),
        Stop("heavy", 6, 11, day, 5),
        Stop("too-early", 7, 1, TimeWindow(0, 10), 5),
    )
    matrix = euclidean_matrix(points)
    return Problem(depots, vehicles, stops, matrix, matrix)


def test_solve_leaves_unservable_stops_unassigned_and_uses_each_depot() -> None:
    problem = two_depot_problem()
    plan = solve(problem, time_limit_s=0.5)
    assert check_plan(problem, plan) == []
    assert sorted(plan.unassigned) == ["heavy", "too-early"]
    # The stops lie on a line, so either order of each pair is equally short.
    assert {r.vehicle: sorted(v.stop for v in r.visits) for r in plan.routes} == {
        "w1": ["a", "b"],
        "e1": ["c", "d"],
    }
    assert plan.distance == pytest.approx(40.0)


def test_solve_improves_on_an_initial_plan_and_never_returns_worse() -> None:
    problem = parse_solomon(generated_solomon(15))
    first = solve(problem, time_limit_s=0.3)
    again = solve(problem, time_limit_s=0.3, initial_plan=first)
    assert check_plan(problem, again) == []
    assert again.distance <= first.distance + 1e-9


def test_vehicles_objective_uses_no_more_vehicles_than_distance() -> None:
    problem = parse_solomon(generated_solomon(25, seed=3))
    by_distance = solve(problem, time_limit_s=0.5, objective="distance")
    by_vehicles = solve(problem, time_limit_s=0.5, objective="vehicles")
    assert check_plan(problem, by_vehicles) == []
    assert len(by_vehicles.routes) <= len(by_distance.routes)
    assert len(by_vehicles.routes) == math.ceil(sum(s.demand for s in problem.stops) / 100)


def test_probe_strategy_reports_ortools_alone_on_the_strict_model() -> None:
    problem = parse_solomon(small_instance())
    probe = probe_strategy(problem, "PARALLEL_CHEAPEST_INSERTION", time_limit_s=0.3)
    assert probe.plan is not None and check_plan(problem, probe.plan) == []
    assert probe.first_solution_s is not None and 0 < probe.first_solution_s < 0.3
    # Every stop is mandatory, and one is too heavy for any van: there is no plan at all.
    assert probe_strategy(two_depot_problem(), "PATH_CHEAPEST_ARC", time_limit_s=0.3) == StrategyProbe(
        None, None
    )
    with pytest.raises(ValueError):
        probe_strategy(problem, "NO_SUCH_STRATEGY", time_limit_s=0.1)


def run_cli(*args: str):
    app = Flask(__name__)
    app.cli.add_command(group)
    return app.test_cli_runner().invoke(args=["planning", "solve-vrptw", *args])


def test_cli_prints_plan_json(tmp_path: Path) -> None:
    instance = tmp_path / "tiny.txt"
    instance.write_text(
        HEADER.format(number=2, capacity=15) + "0 0 0 0 0 100 0\n1 3 4 4 0 8 1\n2 6 8 5 10 60 2\n"
    )
    result = run_cli(str(instance), "--time-limit", "0.5")
    assert result.exit_code == 0, result.output
    output = json.loads(result.output)
    assert set(output) == {"vehicles", "distance", "feasible", "routes", "seconds"}
    assert {k: output[k] for k in ("vehicles", "distance", "feasible", "routes")} == {
        "vehicles": 1,
        "distance": 20.0,
        "feasible": True,
        "routes": [[1, 2]],
    }
    assert 0 < output["seconds"] < 0.8


def test_cli_rejects_a_malformed_file(tmp_path: Path) -> None:
    instance = tmp_path / "bad.txt"
    instance.write_text("not an instance\n")
    result = run_cli(str(instance))
    assert result.exit_code == 1
    assert "not a Solomon instance" in result.output
