"""The `leveranse` console script."""

from __future__ import annotations

from flask.cli import FlaskGroup

from app import create_app
from app.logs import configure_logging

cli = FlaskGroup(create_app=lambda: create_app(), help="Leveranse: delivery-experience service.")


def main() -> None:
    """Entry point of the console script."""
    configure_logging()
    cli.main(prog_name="leveranse")
