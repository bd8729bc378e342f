"""`leveranse planning ...`: route planning commands for planners and benchmarks."""

from __future__ import annotations

import json
import time

import click

from app.cli import LazyChoice

# No app context: a planner's instance file is all a solve needs.
group = click.Group("planning", help="Route planning.")


def _objectives() -> list[str]:
    from planning.routing.model import Objective

    return [o.value for o in Objective]


@group.command("solve-vrptw")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--time-limit", type=click.FloatRange(min=0.01), default=5.0, show_default=True, help="Seconds."
)
@click.option("--objective", type=LazyChoice(_objectives), default="distance", show_default=True)
def solve_vrptw(file: str, time_limit: float, objective: str) -> None:
    """Solve a Solomon-format VRPTW instance and print the plan as JSON."""
    from planning.routing import NoFeasiblePlan, solve
    from planning.routing.solomon import SolomonFormatError, read_solomon

    try:
        problem = read_solomon(file)
    except SolomonFormatError as error:
        raise click.ClickException(str(error)) from error
    began = time.monotonic()
    try:
        plan = solve(problem, time_limit_s=time_limit, objective=objective)
    except NoFeasiblePlan:
        plan = None
    seconds = round(time.monotonic() - began, 3)
    if plan is None:
        result = {"vehicles": 0, "distance": None, "feasible": False, "routes": [], "seconds": seconds}
    else:
        result = {
            "vehicles": len(plan.routes),
            "distance": plan.distance,
            "feasible": plan.complete,
            "routes": [[int(v.stop) for v in route.visits] for route in plan.routes],
            "seconds": seconds,
        }
    click.echo(json.dumps(result))
