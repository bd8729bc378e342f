"""CLI command groups, registered on the app (the `leveranse` console script is a FlaskGroup)."""

from __future__ import annotations

from flask import Flask


def register_commands(app: Flask) -> None:
    """Attach every command group."""
    from app.cli import carriers, delivery, planning, risk, sandbox, service, shops

    for module in (carriers, delivery, planning, risk, sandbox, shops):
        app.cli.add_command(module.group)
    app.cli.add_command(shops.staff_group)
    for command in (service.worker, service.demo, service.embedded):
        app.cli.add_command(command)
