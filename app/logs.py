"""Process-wide logging, set up by the entry points (console script, WSGI module), never by the factory."""

from __future__ import annotations

import logging

from app.config import Config


def configure_logging(level: str = Config.LOG_LEVEL) -> None:
    """One format for every process; Alembic's plugin chatter kept quiet."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
