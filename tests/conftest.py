"""Shared fixtures: one migrated database per session, emptied before every test."""

from __future__ import annotations

import os
from datetime import date, datetime

import pytest
from sqlalchemy import text

from app import create_app
from app.config import TestConfig
from app.extensions import db
from app.models import ApiKey, Shipment, Shop


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    """PostgreSQL when LEVERANSE_TEST_DATABASE_URL is set, else a SQLite file."""
    url = os.environ.get("LEVERANSE_TEST_DATABASE_URL")
    return url or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def _migrated_app(database_url):
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url)
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        db.create_all()  # tests/test_migrations.py proves the migrations build this same schema
        db.session.remove()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def app(_migrated_app):
    """The app with an empty database; config changes are undone after the test."""
    saved = dict(_migrated_app.config)
    with _migrated_app.app_context():
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
        db.session.commit()
        _migrated_app.extensions.pop("leveranse_carriers", None)
        yield _migrated_app
        db.session.remove()
    _migrated_app.config.clear()
    _migrated_app.config.update(saved)
    _migrated_app.extensions.pop("leveranse_carriers", None)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def make_shop(name: str = "Test shop") -> tuple[Shop, str]:
    """A shop and its plain API key."""
    shop = Shop(name=name)
    db.session.add(shop)
    _, plain = ApiKey.issue(shop, "test")
    db.session.commit()
    return shop, plain


def make_shipment(shop: Shop, **overrides) -> Shipment:
    """A committed shipment with sensible defaults."""
    values = {
        "carrier": "bring",
        "tracking_number": "70438101015432113",
        "status": "pending",
        "poll_failures": 0,
        "promised_date": date(2026, 11, 25),
        "shipped_at": datetime.fromisoformat("2026-11-23T10:00:00+00:00"),
    }
    values.update(overrides)
    shipment = Shipment(shop_id=shop.id, **values)
    db.session.add(shipment)
    db.session.commit()
    return shipment


@pytest.fixture
def shop_key(app) -> tuple[Shop, str]:
    return make_shop()


@pytest.fixture
def auth(shop_key) -> dict[str, str]:
    return {"Authorization": f"Bearer {shop_key[1]}"}
