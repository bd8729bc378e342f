"""The `leveranse` console script imports only what the command run needs: help builds no app."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from flask.cli import FlaskGroup, ScriptInfo

from app.cli import LazyChoice
from app.cli.main import cli

REPO = Path(__file__).resolve().parents[1]
FIXTURE = REPO / "tests" / "fixtures" / "carriers" / "bring" / "in_transit_customs.json"
# Prints which modules the command loaded, whether it exits or not.
PROBE = (
    "import json, sys\n"
    "from app.cli.main import main\n"
    "try:\n"
    "    main()\n"
    "finally:\n"
    "    print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n"
)
# Modules the service needs to run; no help page nor offline parse should load them.
HEAVY = (
    "sklearn",
    "ortools",
    "numpy",
    "sqlalchemy",
    "flask_sqlalchemy",
    "flask_migrate",
    "alembic",
    "flask_smorest",
    "flask_limiter",
    "apscheduler",
    "app.models",
    "app.extensions",
    "app.api",
    "app.web",
    "planning",
    "carriers.sandbox",
)


def _run(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess, list[str]]:
    """Run `leveranse ARGS` in a fresh interpreter; return the process and the heavy modules it loaded."""
    env = os.environ | {"LEVERANSE_INSTANCE_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    modules = json.loads(result.stderr.splitlines()[-1])
    heavy = [m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY)]
    return result, heavy


@pytest.mark.parametrize(
    "args", [["--help"], ["staff", "--help"], ["risk", "--help"], ["planning", "--help"]]
)
def test_help_imports_nothing_heavy(tmp_path, args) -> None:
    result, heavy = _run(tmp_path, *args)
    assert result.returncode == 0, result.stderr
    assert "Commands:" in result.stdout
    assert heavy == []


def test_carriers_parse_imports_only_the_parsers(tmp_path) -> None:
    result, heavy = _run(tmp_path, "carriers", "parse", "bring", str(FIXTURE))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)[0]["tracking_number"]
    assert heavy == []


def test_help_lists_what_flask_lists_with_the_app_built(app) -> None:
    """The listing made without the app equals FlaskGroup's, which builds it (names and short help)."""
    flask_group = FlaskGroup(create_app=lambda: app, help=cli.help)
    runner = CliRunner()
    ours = runner.invoke(cli, ["--help"], obj=ScriptInfo(create_app=lambda: app), prog_name="leveranse")
    flasks = runner.invoke(
        flask_group, ["--help"], obj=ScriptInfo(create_app=lambda: app), prog_name="leveranse"
    )
    assert ours.exit_code == 0, ours.output
    assert ours.output == flasks.output


def test_lazy_choice_loads_its_values_on_first_use() -> None:
    loads = []

    def load() -> list[str]:
        loads.append("loaded")
        return ["parcel", "marketplace"]

    @click.command()
    @click.option("--mode", type=LazyChoice(load), default="parcel", show_default=True)
    def command(mode: str) -> None:
        click.echo(mode)

    assert loads == []
    runner = CliRunner()
    assert "--mode [parcel|marketplace]  [default: parcel]" in runner.invoke(command, ["--help"]).output
    assert runner.invoke(command, ["--mode", "marketplace"]).output == "marketplace\n"
    wrong = runner.invoke(command, ["--mode", "pigeon"])
    assert wrong.exit_code == 2
    assert "'pigeon' is not one of 'parcel', 'marketplace'" in wrong.output
    assert loads == ["loaded"]
