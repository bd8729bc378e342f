"""`leveranse worker`, `leveranse demo`, `leveranse embedded`: running the service."""

from __future__ import annotations

import json

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from app.config import INSTANCE_DIR
from app.secret_key import use_instance_keys


@click.command("worker")
@click.option(
    "--metrics-port",
    type=int,
    default=None,
    help="Serve this worker's Prometheus metrics here (0: any port).",
)
@click.option("--metrics-host", default="127.0.0.1", show_default=True, help="Address of --metrics-port.")
@with_appcontext
def worker(metrics_port: int | None, metrics_host: str) -> None:
    """Run the background jobs (polling, ...) until interrupted; run as many as you like side by side."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    from app.jobs import schedule_jobs
    from app.metrics import serve_metrics
    from app.process_figures import flush_figures

    app = current_app._get_current_object()
    if app.config["CLOCK"] != "wall":
        click.echo(f"worker: {follow_sandbox_clock(app)}")
    scheduler = schedule_jobs(app, BlockingScheduler())
    if metrics_port is not None:
        bound = serve_metrics(metrics_host, metrics_port)
        click.echo(f"worker: metrics on http://{metrics_host}:{bound}/metrics")
    click.echo(f"worker: {len(scheduler.get_jobs())} jobs scheduled")
    stop_on_signals()
    try:
        scheduler.start()
    finally:
        flush_figures(stopping=True)  # the last figures, and the operations page shows a clean stop


def stop_on_signals() -> None:
    """Stop cleanly on SIGTERM (what process managers send) and on SIGINT, even when the process was started
    with SIGINT ignored (a background job of a non-interactive shell inherits that, and would never stop)."""
    import signal

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, interrupt)


def follow_sandbox_clock(app: Flask) -> str:
    """LEVERANSE_CLOCK=sandbox: run this process on the clock of the sandbox at SANDBOX_URL (tests and
    demos: leases, schedules and predictions then live in the parcels' accelerated time)."""
    from app.models.types import use_clock
    from carriers.sandbox.remote_clock import RemoteClockError, RemoteSandboxClock

    if app.config["CLOCK"] != "sandbox" or not app.config["SANDBOX_URL"]:
        raise click.ClickException("LEVERANSE_CLOCK must be 'wall', or 'sandbox' with LEVERANSE_SANDBOX_URL")
    try:
        clock = RemoteSandboxClock(app.config["SANDBOX_URL"]).start()
    except RemoteClockError as error:
        raise click.ClickException(str(error)) from error
    use_clock(clock.now)
    app.extensions["sandbox_clock"] = clock
    return f"on the sandbox clock of {app.config['SANDBOX_URL']} (x{clock.speed:g}, now {clock.now():%Y-%m-%d %H:%M})"


@click.command("demo")
@click.option("--count", default=None, type=int, help="Shipments to create (default DEMO_SHIPMENTS).")
@with_appcontext
def demo(count: int | None) -> None:
    """Seed the demo shop (once) and print its API key."""
    from app.demo.shop import seed_demo

    shop, plain = seed_demo(count or current_app.config["DEMO_SHIPMENTS"])
    click.echo(json.dumps({"shop_id": shop.id, "api_key": plain, "created": plain is not None}))


@click.command("embedded")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int, help="Web port (0: any free port).")
@click.option("--sandbox-port", default=8085, show_default=True, type=int, help="Sandbox carriers' port.")
@click.option("--smtp-port", default=8025, show_default=True, type=int, help="Local mail sink's port.")
@click.option("--sms-port", default=8030, show_default=True, type=int, help="Local SMS provider's port.")
@with_appcontext
def embedded(host: str, port: int, sandbox_port: int, smtp_port: int, sms_port: int) -> None:
    """Everything in one process: SQLite, sandbox carriers on an accelerated clock, demo shop, jobs, web.

    Every port may be 0 to let the OS pick a free one; the lines printed at start say which.
    """
    from apscheduler.schedulers.background import BackgroundScheduler
    from flask_migrate import upgrade
    from sqlalchemy import select
    from werkzeug.serving import make_server

    from app.demo.fleet import book_demo_order, seed_demo_fleet
    from app.demo.local_services import start_local_channels, start_local_geocoder
    from app.demo.risk_history import seed_generated_model
    from app.demo.shop import seed_demo, seed_demo_staff, stream_demo_shipments
    from app.extensions import db
    from app.jobs import Job, add_job, schedule_jobs
    from app.models import RiskModelRecord
    from app.models.types import use_clock, utcnow
    from app.process_figures import flush_figures
    from carriers.sandbox.server import SandboxServer, SandboxSettings

    app = current_app._get_current_object()
    use_instance_keys(app.config, INSTANCE_DIR)  # sessions and stored secrets survive restarts, no setup
    upgrade()
    register = None
    if not app.config["SANDBOX_URL"]:
        sandbox = SandboxServer(SandboxSettings(port=sandbox_port, speed=app.config["SANDBOX_SPEED"])).start()
        app.config["SANDBOX_URL"] = sandbox.url
        # The whole demo runs on the sandbox's clock, so parcels move and promises fall due in minutes.
        use_clock(sandbox.now)
        register = sandbox.register
        click.echo(f"sandbox carriers on {sandbox.url}, clock x{app.config['SANDBOX_SPEED']:g}")
    elif app.config["CLOCK"] != "wall":
        click.echo(follow_sandbox_clock(app))
    if db.session.scalar(select(RiskModelRecord.id).limit(1)) is None:
        click.echo("training a first risk model on generated history …")
        seed_generated_model(app.config["DEMO_HISTORY_ROWS"], today=utcnow().date())
        db.session.commit()
    start_local_geocoder(app)
    # The demo shop's standing choice, so its claims run to the end by themselves (production: staff decide).
    app.config["CLAIM_AUTO_REMEDY"] = app.config["CLAIM_AUTO_REMEDY"] or "lost=reship"
    shop, plain = seed_demo(app.config["DEMO_SHIPMENTS"], register)
    if plain:
        seed_demo_fleet(shop)
        email, password = seed_demo_staff()
        (INSTANCE_DIR / "demo-staff.txt").write_text(f"{email}\n{password}\n")
        click.echo(f"demo staff login written to {INSTANCE_DIR / 'demo-staff.txt'}")
        key_file = INSTANCE_DIR / "demo-api-key.txt"
        key_file.write_text(plain + "\n")
        click.echo(f"demo shop {shop.id}: API key written to {key_file}")
    for line in start_local_channels(app.config, smtp_port, sms_port):
        click.echo(line)
    scheduler = schedule_jobs(app, BackgroundScheduler())
    if register is not None:
        add_job(
            app, scheduler, Job("demo-orders", lambda: stream_demo_shipments(register), "DEMO_STREAM_SECONDS")
        )
    add_job(app, scheduler, Job("demo-bookings", book_demo_order, "DEMO_BOOKING_INTERVAL_SECONDS"))
    scheduler.start()
    # The embedded mode's own server; production runs `gunicorn wsgi:app` plus `leveranse worker`.
    server = make_server(host, port, app, threaded=True)
    click.echo(
        f"Leveranse on http://{host}:{server.port}/  (API /api/v1, OpenAPI /api/v1/openapi.json, staff /staff/)"
    )
    stop_on_signals()
    try:
        server.serve_forever()
    finally:
        flush_figures(stopping=True)
