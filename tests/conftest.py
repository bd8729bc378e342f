"""Shared fixtures: one migrated database per session, emptied before every test, and the local
stand-ins for outbound channels (an SMTP server, the SMS provider, a shop's webhook receiver)."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import text

from app import create_app
from app.config import TestConfig
from app.extensions import db
from app.models import Shop
from notifications.mail_sandbox import MailSandbox
from notifications.sms_sandbox import SmsSandbox
from notifications.webhook_sandbox import WebhookSandbox
from tests.factories import SMS_ACCOUNT_SID, SMS_AUTH_TOKEN, WEBHOOK_SECRET, make_shop


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
        _forget_caches(_migrated_app)
        yield _migrated_app
        db.session.remove()
    _migrated_app.config.clear()
    _migrated_app.config.update(saved)
    _forget_caches(_migrated_app)


def _forget_caches(app) -> None:
    """Drop what the service caches per process (carrier clients, the risk model and warning policy by
    row id): an emptied database reuses ids, so a cache from an earlier test would look current."""
    for key in [k for k in app.extensions if k.startswith("leveranse_")]:
        del app.extensions[key]


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def shop_key(app) -> tuple[Shop, str]:
    return make_shop()


@pytest.fixture
def auth(shop_key) -> dict[str, str]:
    return {"Authorization": f"Bearer {shop_key[1]}"}


@pytest.fixture
def smtp_server():
    """A real SMTP server on 127.0.0.1 that keeps what it receives (`rcpt_reply` refuses recipients)."""
    with MailSandbox() as server:
        yield server


@pytest.fixture
def sms_provider():
    """The Twilio-style SMS provider stand-in on 127.0.0.1, for SMS_ACCOUNT_SID / SMS_AUTH_TOKEN."""
    with SmsSandbox(SMS_ACCOUNT_SID, SMS_AUTH_TOKEN) as sandbox:
        yield sandbox


@pytest.fixture
def webhook_receiver():
    """A shop's webhook endpoint on 127.0.0.1 that accepts events signed with WEBHOOK_SECRET."""
    with WebhookSandbox([WEBHOOK_SECRET]) as sandbox:
        yield sandbox
