"""CLI command groups, registered on the app and found by name by the `leveranse` console script.

Command modules import only click, Flask and light modules at module level; what a command needs is
imported inside it, so listing the commands imports nothing heavy and running one only what it uses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cached_property
from importlib import import_module

import click
from flask import Flask

# Each command by name, as "module:attribute": imported on first use.
COMMANDS = {
    "carriers": "app.cli.carriers:group",
    "delivery": "app.cli.delivery:group",
    "planning": "app.cli.planning:group",
    "risk": "app.cli.risk:group",
    "sandbox": "app.cli.sandbox:group",
    "shops": "app.cli.shops:group",
    "staff": "app.cli.shops:staff_group",
    "worker": "app.cli.service:worker",
    "demo": "app.cli.service:demo",
    "embedded": "app.cli.service:embedded",
}


def load_command(name: str) -> click.Command:
    """Import the command registered as `name`."""
    module, attribute = COMMANDS[name].split(":")
    return getattr(import_module(module), attribute)


def register_commands(app: Flask) -> None:
    """Attach every command group."""
    for name in COMMANDS:
        app.cli.add_command(load_command(name), name)


class LazyChoice(click.Choice):
    """A click.Choice whose values `load` returns on first use (help, parsing), not when the command is
    defined: they often come from modules too heavy to import just to list commands."""

    def __init__(self, load: Callable[[], Iterable[str]]) -> None:
        # Not Choice.__init__, which would read the values at once.
        self.case_sensitive = True
        self._load = load

    @cached_property
    def choices(self) -> tuple[str, ...]:
        """The values, loaded once."""
        return tuple(self._load())
