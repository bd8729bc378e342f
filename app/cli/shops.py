"""`leveranse shops …` and `leveranse staff …`: tenants, API keys, staff users."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from app.cli import LazyChoice

group = AppGroup("shops", help="Shops and API keys.")


@group.command("create")
@click.argument("name")
@click.option("--language", default="en", show_default=True)
@click.option("--timezone", "timezone_name", default="Europe/Oslo", show_default=True)
def create_shop(name: str, language: str, timezone_name: str) -> None:
    """Create a shop and print its first API key (shown once)."""
    from app.extensions import db
    from app.models import ApiKey, Shop

    shop = Shop(name=name, default_language=language, default_timezone=timezone_name)
    db.session.add(shop)
    _, plain = ApiKey.issue(shop, "default")
    db.session.commit()
    click.echo(json.dumps({"shop_id": shop.id, "api_key": plain}))


@group.command("add-key")
@click.argument("shop_id", type=int)
@click.option("--name", default="key", show_default=True)
def add_key(shop_id: int, name: str) -> None:
    """Issue another API key for a shop (for rotation)."""
    from app.extensions import db
    from app.models import ApiKey, Shop

    shop = db.session.get(Shop, shop_id)
    if shop is None:
        raise click.ClickException(f"No shop {shop_id}.")
    _, plain = ApiKey.issue(shop, name)
    db.session.commit()
    click.echo(json.dumps({"shop_id": shop.id, "api_key": plain}))


staff_group = AppGroup("staff", help="Staff users of the dashboard.")


def _roles() -> list[str]:
    from app.models import Role

    return [r.value for r in Role]


@staff_group.command("create")
@click.argument("email")
@click.option("--role", type=LazyChoice(_roles), default="viewer", show_default=True)
@click.option(
    "--shop",
    "shop_id",
    type=int,
    default=None,
    help="The shop whose data the user sees; without it, every shop's (the service operator's staff).",
)
@click.password_option(envvar="LEVERANSE_STAFF_PASSWORD")
def create_staff(email: str, role: str, shop_id: int | None, password: str) -> None:
    """Create a staff user (the password is asked for, or read from LEVERANSE_STAFF_PASSWORD)."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Shop, StaffUser

    if len(password) < 10:
        raise click.ClickException("Use at least 10 characters.")
    if shop_id is not None and db.session.get(Shop, shop_id) is None:
        raise click.ClickException(f"No shop {shop_id}.")
    if db.session.scalar(select(StaffUser).where(StaffUser.email == email.lower())):
        raise click.ClickException(f"{email} exists already.")
    user = StaffUser(email=email.lower(), role=role, shop_id=shop_id)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    click.echo(json.dumps({"staff_id": user.id, "email": user.email, "role": role, "shop_id": shop_id}))
