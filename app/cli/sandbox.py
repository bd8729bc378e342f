"""`leveranse sandbox`: run the sandbox carrier APIs in the foreground."""

from __future__ import annotations

import json
import time

import click
from flask.cli import AppGroup, ScriptInfo


@click.group(
    "sandbox", cls=AppGroup, invoke_without_command=True, help="Serve the sandbox carrier APIs on loopback."
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8085, show_default=True, type=int, help="0 picks a free port.")
@click.option(
    "--speed",
    default=None,
    type=float,
    help="Sandbox seconds per real second.  [default: LEVERANSE_SANDBOX_SPEED]",
)
@click.option("--duration", default=0.0, type=float, help="Stop after this many seconds (0: until Ctrl-C).")
def group(host: str, port: int, speed: float | None, duration: float) -> None:
    """Start the sandbox, print its base URLs as JSON, serve until interrupted."""
    from carriers.sandbox import SandboxServer, SandboxSettings

    if speed is None:
        # The same setting `embedded` runs its sandbox at; workers follow it with LEVERANSE_CLOCK=sandbox.
        speed = click.get_current_context().ensure_object(ScriptInfo).load_app().config["SANDBOX_SPEED"]
    server = SandboxServer(SandboxSettings(host=host, port=port, speed=speed)).start()
    click.echo(json.dumps({"url": server.url, "speed": speed, "base_urls": server.base_urls()}, indent=2))
    try:
        if duration > 0:
            time.sleep(duration)
        else:
            _wait_forever()
    except KeyboardInterrupt:
        click.echo("stopping", err=True)
    finally:
        server.stop()


def _wait_forever() -> None:
    while True:
        time.sleep(3600)
