"""`leveranse planning ...`: route planning commands for planners and benchmarks."""

from __future__ import annotations

import json
import time

import click
from flask.cli import AppGroup

from planning.routing import NoFeasiblePlan, solve
from planning.routing.model import Objective
from planning.routing.solomon import SolomonFormatError, read_solomon

group = AppGroup("planning", help="Route planning.")


@group.command("solve-vrptw")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--time-limit", type=click.FloatRange(min=0.01), default=5.0, show_default=True, help="Seconds."
)
@click.option(
    "--objective", type=click.Choice([o.value for o in Objective]), default="distance", show_default=True
)
def solve_vrptw(file: str, time_limit: float, objective: str) -> None:
    """Solve a Solomon-format VRPTW instance and print the plan as JSON."""
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
