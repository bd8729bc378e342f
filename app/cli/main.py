"""The `leveranse` console script."""

from __future__ import annotations

import click
from flask.cli import FlaskGroup, ScriptInfo

from app import create_app
from app.cli import COMMANDS, load_command
from app.logs import configure_logging
from app.secret_key import MissingSecretKey, require_secret_key

# Commands that serve nobody's session or link: they run without LEVERANSE_SECRET_KEY (the embedded mode
# keeps its own key in the instance directory). Every other command, `run` and `worker` first, needs one.
KEYLESS_COMMANDS = frozenset({"embedded", "sandbox", "carriers", "planning", "risk", "db", "routes"})
HELP_OPTIONS = frozenset({"--help", "-h"})
# Commands of Flask plugins (Flask-Limiter) and of the app's extensions (Flask-Migrate, flask-smorest),
# with their short help: listed without importing them or building the app, which only running one does.
OTHER_COMMANDS = {
    "db": "Perform database migrations.",
    "limiter": "Flask-Limiter maintenance & utility commands",
    "openapi": "OpenAPI commands.",
}


class ServiceGroup(FlaskGroup):
    """FlaskGroup that builds the app only to run a command that needs it, and refuses to run a service
    command without a real secret key."""

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        """Our commands by importing their module; built-in, plugin and app commands as Flask finds them."""
        if name in COMMANDS:
            return load_command(name)
        return super().get_command(ctx, name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command's name, without loading plugins or building the app."""
        return sorted({*self.commands, *COMMANDS, *OTHER_COMMANDS})

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list as click writes it, with stand-ins carrying the help of OTHER_COMMANDS."""
        listed = [(name, self._listed_command(ctx, name)) for name in self.list_commands(ctx)]
        commands = [(name, command) for name, command in listed if command is not None and not command.hidden]
        if commands:
            limit = formatter.width - 6 - max(len(name) for name, _ in commands)
            with formatter.section("Commands"):
                formatter.write_dl([(name, command.get_short_help_str(limit)) for name, command in commands])

    def _listed_command(self, ctx: click.Context, name: str) -> click.Command | None:
        # Not get_command: Flask's loads the plugins first, even for its built-in commands.
        if name in OTHER_COMMANDS:
            return click.Command(name, help=OTHER_COMMANDS[name])
        return load_command(name) if name in COMMANDS else self.commands.get(name)

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
