"""Routing benchmark: Solomon gaps at a time limit, and insertion-check latency on a 100-stop plan.

Run: python bench/routing.py [--time-limit 5] [--solomon DIR] [--compare-first-solution]
Instances run one after another on one worker; figures are printed, nothing is asserted.
--compare-first-solution also runs OR-Tools alone on the strict model (every stop mandatory, no drop
penalty) with each first-solution strategy then guided local search, at the same time limit.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ortools.constraint_solver import routing_enums_pb2  # noqa: E402

from planning import routing  # noqa: E402
from planning.routing.feasibility import check_plan  # noqa: E402
from planning.routing.insertion import best_insertion, best_insertions  # noqa: E402
from planning.routing.model import Plan, Problem, TimeWindow, build_plan  # noqa: E402
from planning.routing.solomon import read_solomon  # noqa: E402

INSTANCES = ("C101", "C201", "R101", "R201", "RC101", "RC201")
STRATEGIES = ("PATH_CHEAPEST_ARC", "PARALLEL_CHEAPEST_INSERTION", "LOCAL_CHEAPEST_INSERTION", "SAVINGS")


def read_bks(folder: Path) -> dict[str, float]:
    """Best-known distances for the distance-only objective, by instance name."""
    with (folder / "bks.csv").open() as handle:
        return {
            r["instance"]: float(r["distance"])
            for r in csv.DictReader(handle)
            if r["objective"] == "distance only"
        }


def bench_quality(folder: Path, time_limit: float) -> tuple[Problem, Plan]:
    """Solve each instance with the distance objective; print distance, vehicles, gap to BKS, feasibility."""
    bks = read_bks(folder)
    print("instance vehicles   distance        bks   gap % feasible seconds")
    gaps, plans = [], {}
    for name in INSTANCES:
        problem = read_solomon(folder / f"{name}.txt")
        began = time.monotonic()
        plan = routing.solve(problem, time_limit_s=time_limit)
        seconds = time.monotonic() - began
        feasible = plan.complete and not check_plan(problem, plan)
        gap = 100 * (plan.distance - bks[name]) / bks[name]
        gaps.append(gap)
        plans[name] = (problem, plan)
        print(
            f"{name:8} {len(plan.routes):8d} {plan.distance:10.2f} {bks[name]:10.2f} {gap:7.2f} "
            f"{feasible!s:>8} {seconds:7.2f}",
            flush=True,
        )
    print(f"mean gap: {statistics.mean(gaps):.2f} %\n")
    return plans["R101"]


def bench_first_solutions(folder: Path, time_limit: float) -> None:
    """OR-Tools alone on the strict model, per first-solution strategy: when it first found a plan, and
    its gap at the time limit (or that it found none)."""
    bks = read_bks(folder)
    print(f"OR-Tools alone, strict model, {time_limit} s: seconds to first solution / gap % at the limit")
    print(f"{'instance':8} " + " ".join(f"{s:>28}" for s in STRATEGIES))
    for name in INSTANCES:
        problem = read_solomon(folder / f"{name}.txt")
        cells = []
        for strategy in STRATEGIES:
            probe = routing.probe_strategy(problem, strategy, time_limit_s=time_limit)
            if probe.first_solution_s is None:
                cells.append("no solution")
            elif probe.plan is None or not probe.plan.complete:
                cells.append("rejected by the checker")
            else:
                gap = 100 * (probe.plan.distance - bks[name]) / bks[name]
                cells.append(f"{probe.first_solution_s:.2f} s / {gap:.2f} %")
        print(f"{name:8} " + " ".join(f"{c:>28}" for c in cells), flush=True)
    print()


def _without(plan: Plan, stop_id: str, problem: Problem) -> Plan:
    """The plan with one stop taken out of its route (times recomputed)."""
    sequences = {r.vehicle: [v.stop for v in r.visits if v.stop != stop_id] for r in plan.routes}
    rest = dataclasses.replace(problem, stops=tuple(s for s in problem.stops if s.id != stop_id))
    return build_plan(rest, sequences)


def _solver_insertion(problem: Problem, plan: Plan) -> None:
    """The same question asked of OR-Tools: a model with the current routes, the new stop unperformed."""
    # Private helpers on purpose: this is the per-request cost an OR-Tools answer would pay.
    model = routing._build_model(problem, routing.Objective.DISTANCE)
    parameters = routing._parameters(1.0)
    parameters.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GREEDY_DESCENT
    model.routing.CloseModelWithParameters(parameters)
    model.routing.SolveFromAssignmentWithParameters(routing._read_plan(model, plan), parameters)


def _solver_model(problem: Problem) -> None:
    """Only build and close the OR-Tools model: the least any OR-Tools answer costs per request."""
    routing._build_model(problem, routing.Objective.DISTANCE).routing.CloseModel()


def bench_insertion(problem: Problem, plan: Plan) -> None:
    """Time best_insertion for each stop of a 100-stop plan taken out, against an OR-Tools model."""
    ours, windowed, solver, model_only = [], [], [], []
    hours = problem.depots[0].hours
    width = (hours.end - hours.start) / 5
    windows = [TimeWindow(hours.start + k * width, hours.start + (k + 1) * width) for k in range(5)]
    for stop in problem.stops:
        reduced = _without(plan, stop.id, problem)
        began = time.perf_counter()
        best_insertion(problem, reduced, stop)
        ours.append(time.perf_counter() - began)
        began = time.perf_counter()
        best_insertions(problem, reduced, stop, windows)
        windowed.append(time.perf_counter() - began)
        if len(solver) < 10:
            began = time.perf_counter()
            _solver_insertion(problem, Plan(reduced.routes, (stop.id,)))
            solver.append(time.perf_counter() - began)
            began = time.perf_counter()
            _solver_model(problem)
            model_only.append(time.perf_counter() - began)
    print(f"insertion check on a {len(problem.stops)}-stop plan ({len(plan.routes)} routes):")
    print(f"  pure-Python scan:                 median {1000 * statistics.median(ours):.2f} ms")
    print(f"  pure-Python scan, 5 windows:      median {1000 * statistics.median(windowed):.2f} ms")
    print(f"  OR-Tools model build only:        median {1000 * statistics.median(model_only):.2f} ms")
    print(f"  OR-Tools model + insertion search: median {1000 * statistics.median(solver):.2f} ms")


def main() -> None:
    """Parse arguments and run both benchmarks."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--time-limit", type=float, default=5.0)
    parser.add_argument(
        "--solomon", type=Path, default=Path(__file__).resolve().parents[2] / "shared/planning/solomon"
    )
    parser.add_argument("--compare-first-solution", action="store_true")
    args = parser.parse_args()
    if args.compare_first_solution:
        bench_first_solutions(args.solomon, args.time_limit)
    problem, plan = bench_quality(args.solomon, args.time_limit)
    bench_insertion(problem, plan)


if __name__ == "__main__":
    main()
