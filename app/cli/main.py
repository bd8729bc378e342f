"""The `leveranse` console script."""

from __future__ import annotations

import click
from flask.cli import FlaskGroup, ScriptInfo

from app import create_app
from app.logs import configure_logging
from app.secret_key import MissingSecretKey, require_secret_key

# Commands that serve nobody's session or link: they run without LEVERANSE_SECRET_KEY (the embedded mode
# keeps its own key in the instance directory). Every other command, `run` and `worker` first, needs one.
KEYLESS_COMMANDS = frozenset({"embedded", "sandbox", "carriers", "planning", "risk", "db", "routes"})
HELP_OPTIONS = frozenset({"--help", "-h"})


class ServiceGroup(FlaskGroup):
    """FlaskGroup that refuses to run a service command without a real secret key."""

    def resolve_command(self, ctx: click.Context, args: list[str]):
        """Resolve as usual, then check the key unless the command is keyless or only asked for help."""
        name, command, rest = super().resolve_command(ctx, args)
        if name not in KEYLESS_COMMANDS and not ctx.resilient_parsing and not HELP_OPTIONS & set(rest):
            try:
                require_secret_key(ctx.ensure_object(ScriptInfo).load_app().config)
            except MissingSecretKey as error:
                raise click.ClickException(str(error)) from error
        return name, command, rest


cli = ServiceGroup(create_app=lambda: create_app(), help="Leveranse: delivery-experience service.")


def main() -> None:
    """Entry point of the console script."""
    configure_logging()
    cli.main(prog_name="leveranse")
