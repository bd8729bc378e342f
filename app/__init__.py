"""Leveranse: the Flask application factory."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask

from app.config import Config

MIGRATIONS_DIR = str(Path(__file__).parent / "migrations")


def create_app(config_class: type = Config, **overrides) -> Flask:
    """Load config, bind extensions, register blueprints and CLI commands (nothing else)."""
    app = Flask(__name__)
    app.config.from_object(config_class)
    app.config.update(overrides)
    logging.basicConfig(
        level=app.config["LOG_LEVEL"], format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)

    from app import database  # noqa: F401  (engine pragmas)
    from app.extensions import api, csrf, db, limiter, login_manager, migrate

    _ensure_sqlite_folder(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR)
    api.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "staff_auth.login"

    from app import models  # noqa: F401  (tables must be known to Alembic)
    from app.api import errors, notifications, shipments
    from app.web import health, outbox, staff, staff_auth, unsubscribe, webhooks

    api.register_blueprint(shipments.bp)
    csrf.exempt(shipments.bp)
    api.register_blueprint(notifications.bp)
    csrf.exempt(notifications.bp)
    csrf.exempt(unsubscribe.bp)  # RFC 8058 one-click POSTs come from mail providers; the token authorises
    from app.api import delivery, fleet
    from app.web import routes

    api.register_blueprint(delivery.bp)
    csrf.exempt(delivery.bp)
    api.register_blueprint(fleet.bp)
    csrf.exempt(fleet.bp)
    app.register_blueprint(routes.bp)
    csrf.exempt(webhooks.bp)
    errors.register(app)
    for blueprint in (health.bp, webhooks.bp, staff_auth.bp, staff.bp, outbox.bp, unsubscribe.bp):
        app.register_blueprint(blueprint)

    from app.extensions import babel
    from app.web import tracking

    babel.init_app(app, locale_selector=tracking.select_locale, timezone_selector=tracking.select_timezone)
    app.register_blueprint(tracking.bp)

    from app.notify import connect_signals

    connect_signals()

    from app.cli import register_commands

    register_commands(app)
    return app


def _ensure_sqlite_folder(app: Flask) -> None:
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite:///") and uri != "sqlite:///:memory:":
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
