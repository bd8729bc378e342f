"""`leveranse delivery ...`: fleet set-up and the planning jobs from the command line."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from app.cli.delivery import group
from app.extensions import db
from app.models import SlotTemplate, Vehicle


def test_create_fleet_then_run_the_jobs(app, shop_key) -> None:
    app.cli.add_command(group)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["delivery", "create-fleet", str(shop_key[0].id), "--vans", "3"])
    assert result.exit_code == 0, result.output
    created = json.loads(result.output)
    assert created["vans"] == 3 and len(created["templates"]) == 6
    assert db.session.scalar(select(func.count()).select_from(Vehicle)) == 3
    assert db.session.scalar(select(func.count()).select_from(SlotTemplate)) == 6
    assert json.loads(runner.invoke(args=["delivery", "replan"]).output) == {"improved_days": 0}
    assert json.loads(runner.invoke(args=["delivery", "expire-holds"]).output) == {"expired": 0}
    missing = runner.invoke(args=["delivery", "create-fleet", "999999"])
    assert missing.exit_code != 0 and "no shop 999999" in missing.output
