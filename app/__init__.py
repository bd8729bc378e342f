"""Leveranse: the Flask application factory."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from app.config import Config

MIGRATIONS_DIR = str(Path(__file__).parent / "migrations")


def create_app(config_class: type = Config, **overrides) -> Flask:
    """Load config, bind extensions, register blueprints and CLI commands (nothing else)."""
    app = Flask(__name__)
    app.config.from_object(config_class)
    app.config.update(overrides)

    from app import (
        database,  # noqa: F401  (engine pragmas)
        input_guard,
        models,  # noqa: F401  (tables must be known to Alembic)
        security_headers,
    )
    from app.extensions import api, babel, csrf, db, limiter, login_manager, migrate
    from app.web import tracking

    input_guard.register(app)  # before any blueprint: its `int` converter bounds every route's ids
    _ensure_sqlite_folder(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR)
    api.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "staff_auth.login"
    babel.init_app(app, locale_selector=tracking.select_locale, timezone_selector=tracking.select_timezone)

    from app.api import errors
    from app.blueprints import API_BLUEPRINTS, CSRF_EXEMPT_WEB_BLUEPRINTS, WEB_BLUEPRINTS

    for blueprint in API_BLUEPRINTS:
        api.register_blueprint(blueprint)
        csrf.exempt(blueprint)  # API keys authenticate, not cookies
    for blueprint in WEB_BLUEPRINTS:
        app.register_blueprint(blueprint)
    for blueprint in CSRF_EXEMPT_WEB_BLUEPRINTS:
        csrf.exempt(blueprint)
    errors.register(app)
    security_headers.register(app)

    from app.cli import register_commands

    register_commands(app)
    return app


def _ensure_sqlite_folder(app: Flask) -> None:
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite:///") and uri != "sqlite:///:memory:":
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
