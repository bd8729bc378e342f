"""`leveranse worker`, `leveranse demo`, `leveranse embedded`: running the service."""

from __future__ import annotations

import json

import click
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade

from app.config import INSTANCE_DIR
from app.demo import seed_demo
from app.worker import schedule_jobs


@click.command("worker")
@with_appcontext
def worker() -> None:
    """Run the background jobs (polling, ...) until interrupted; run as many as you like side by side."""
    app = current_app._get_current_object()
    scheduler = schedule_jobs(app, BlockingScheduler())
    click.echo(f"worker: {len(scheduler.get_jobs())} jobs scheduled")
    scheduler.start()


@click.command("demo")
@click.option("--count", default=None, type=int, help="Shipments to create (default DEMO_SHIPMENTS).")
@with_appcontext
def demo(count: int | None) -> None:
    """Seed the demo shop (once) and print its API key."""
    shop, plain = seed_demo(count or current_app.config["DEMO_SHIPMENTS"])
    click.echo(json.dumps({"shop_id": shop.id, "api_key": plain, "created": plain is not None}))


@click.command("embedded")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--sandbox-port", default=8085, show_default=True, type=int)
@with_appcontext
def embedded(host: str, port: int, sandbox_port: int) -> None:
    """Everything in one process: SQLite, sandbox carriers, scheduler, demo shop, web."""
    from carriers.sandbox.server import SandboxServer, SandboxSettings

    app = current_app._get_current_object()
    upgrade()
    if not app.config["SANDBOX_URL"]:
        sandbox = SandboxServer(SandboxSettings(port=sandbox_port, speed=app.config["SANDBOX_SPEED"]))
        sandbox.start()
        app.config["SANDBOX_URL"] = sandbox.url
        click.echo(f"sandbox carriers on {sandbox.url} (speed x{app.config['SANDBOX_SPEED']:g})")
    shop, plain = seed_demo(app.config["DEMO_SHIPMENTS"])
    if plain:
        key_file = INSTANCE_DIR / "demo-api-key.txt"
        key_file.write_text(plain + "\n")
        click.echo(f"demo shop {shop.id}: API key written to {key_file}")
    schedule_jobs(app, BackgroundScheduler()).start()
    click.echo(f"Leveranse on http://{host}:{port}/  (API: /api/v1, OpenAPI: /api/v1/openapi.json)")
    app.run(host=host, port=port, threaded=True, use_reloader=False)
