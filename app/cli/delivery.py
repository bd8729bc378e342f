"""`leveranse delivery ...`: own-fleet set-up and the planning jobs, by hand."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup

group = AppGroup("delivery", help="Own-fleet delivery options: fleet set-up, holds, re-optimisation.")


@group.command("create-fleet")
@click.argument("shop_id", type=int)
@click.option("--vans", default=4, show_default=True, type=click.IntRange(min=1))
@click.option("--van-capacity-kg", default=400, show_default=True, type=click.IntRange(min=1))
@click.option("--slot-capacity", default=20, show_default=True, type=click.IntRange(min=1))
def create_fleet_command(shop_id: int, vans: int, van_capacity_kg: int, slot_capacity: int) -> None:
    """Give a shop an Oslo depot with vans, a zone, 2-hour slots 08-20 and two carrier services."""
    from app.demo.fleet import create_fleet
    from app.extensions import db
    from app.models import Shop

    shop = db.session.get(Shop, shop_id)
    if shop is None:
        raise click.ClickException(f"no shop {shop_id}")
    depot = create_fleet(shop, vans=vans, capacity_kg=van_capacity_kg, slot_capacity=slot_capacity)
    db.session.commit()
    click.echo(json.dumps({"depot_id": depot.id, "vans": vans, "templates": [t.id for t in depot.templates]}))


@group.command("replan")
def replan_command() -> None:
    """Re-solve every day whose bookings changed (what the worker does periodically)."""
    from app.delivery.replan import replan_due_days

    click.echo(json.dumps({"improved_days": replan_due_days()}))


@group.command("expire-holds")
def expire_holds_command() -> None:
    """Release holds past their TTL (what the worker does periodically)."""
    from app.delivery.reservations import expire_holds

    click.echo(json.dumps({"expired": expire_holds()}))
