"""`shipment.first_scan_at` (the time-to-first-scan figure's column) is kept by ingest, by events added
through the ORM and, for the shipments already there, by the migration that added it; that migration
also encrypts the TOTP secrets stored as plaintext before it."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta, timezone

import pyotp
from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from app import create_app
from app.admin.encryption import decrypt, is_encrypted
from app.config import TestConfig
from app.extensions import db
from app.models import TrackingEvent as EventRow
from app.tracking.ingest import event_content_hash, store_updates
from carriers.model import Status, TrackingEvent, TrackingUpdate
from tests.factories import add_event, make_shipment, make_shop

OSLO = timezone(timedelta(hours=1))
BEFORE, REVISION = "1d977cfa0ca4", "a3c9e5f17b42"


def _event(hour: int, status: Status, code: str) -> TrackingEvent:
    return TrackingEvent(
        occurred_at=datetime(2026, 11, 23, hour, 0, tzinfo=OSLO),
        status=status,
        carrier_code=code,
        description=code,
        location="OSLO",
    )


def _ingest(shipment, *events: TrackingEvent) -> None:
    update = TrackingUpdate(
        carrier="bring", tracking_number=shipment.tracking_number, status=events[-1].status, events=events
    )
    store_updates([(shipment, update)], source="poll")
    db.session.commit()


def test_ingest_keeps_the_earliest_scan_and_skips_electronic_notices(app) -> None:
    shop, _ = make_shop()
    shipment = make_shipment(shop)
    _ingest(shipment, _event(7, Status.INFO_RECEIVED, "EDI"))
    assert shipment.first_scan_at is None  # a notice is not a scan
    _ingest(shipment, _event(12, Status.IN_TRANSIT, "TERMINAL"))
    assert shipment.first_scan_at == datetime(2026, 11, 23, 11, 0, tzinfo=UTC)
    _ingest(shipment, _event(9, Status.IN_TRANSIT, "HANDED_IN"), _event(14, Status.OUT_FOR_DELIVERY, "OUT"))
    assert shipment.first_scan_at == datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # a late-arriving earlier scan
    _ingest(shipment, _event(15, Status.DELIVERED, "DELIVERED"))
    db.session.expire_all()
    assert shipment.first_scan_at == datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def test_an_event_already_stored_keeps_the_status_it_was_stored_with(app) -> None:
    shop, _ = make_shop()
    shipment = make_shipment(shop)
    early = _event(6, Status.IN_TRANSIT, "PRE")
    # stored earlier as a notice (an older mapping); the same scan mapped anew is not a new event
    db.session.execute(
        EventRow.__table__.insert(),
        {
            "shipment_id": shipment.id,
            "occurred_at": early.occurred_at,
            "status": Status.INFO_RECEIVED.value,
            "carrier_code": "PRE",
            "description": "PRE",
            "location": "OSLO",
            "informational": False,
            "tz_assumed": False,
            "source": "poll",
            "content_hash": event_content_hash(early),
            "received_at": datetime(2026, 11, 23, tzinfo=UTC),
        },
    )
    _ingest(shipment, early, _event(10, Status.IN_TRANSIT, "TERMINAL"))
    assert shipment.first_scan_at == datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_events_added_through_the_orm_move_it_too(app) -> None:
    shop, _ = make_shop()
    shipment = make_shipment(shop)
    add_event(shipment, datetime(2026, 11, 23, 8, tzinfo=UTC), "info_received")
    add_event(shipment, datetime(2026, 11, 23, 12, tzinfo=UTC), "in_transit")
    add_event(shipment, datetime(2026, 11, 23, 10, tzinfo=UTC), "exception")
    add_event(shipment, datetime(2026, 11, 23, 16, tzinfo=UTC), "delivered")
    db.session.refresh(shipment)
    assert shipment.first_scan_at == datetime(2026, 11, 23, 10, tzinfo=UTC)


def _scratch_url(tmp_path) -> str:
    url = os.environ.get("LEVERANSE_TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_path / 'backfill.db'}"
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS backfill_check CASCADE"))
        connection.execute(text("CREATE SCHEMA backfill_check"))
    engine.dispose()
    return url + ("&" if "?" in url else "?") + "options=-csearch_path%3Dbackfill_check"


def test_the_migration_backfills_first_scans_and_encrypts_totp_secrets(tmp_path) -> None:
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=_scratch_url(tmp_path))
    secret = pyotp.random_base32()
    now = "2026-11-23 00:00:00"
    with app.app_context():
        upgrade(revision=BEFORE)
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO shop (id, name, default_language, default_timezone, created_at) "
                    "VALUES (1, 'Fjord', 'nb', 'Europe/Oslo', :now)"
                ),
                {"now": now},
            )
            for number in (1, 2, 3):
                connection.execute(
                    text(
                        "INSERT INTO shipment (id, shop_id, carrier, tracking_number, status, poll_failures, "
                        "created_at, updated_at, link_token) VALUES (:n, 1, 'bring', :t, 'in_transit', 0, "
                        ":now, :now, :t)"
                    ),
                    {"n": number, "t": f"T{number}", "now": now},
                )
            events = [
                (1, "2026-11-23 07:00:00", "info_received"),
                (1, "2026-11-23 12:00:00", "in_transit"),
                (1, "2026-11-23 09:30:00", "in_transit"),
                (2, "2026-11-23 07:00:00", "info_received"),
            ]
            for n, (shipment_id, moment, status) in enumerate(events):
                connection.execute(
                    text(
                        "INSERT INTO tracking_event (shipment_id, occurred_at, status, carrier_code, "
                        "description, location, informational, tz_assumed, source, content_hash, received_at) "
                        "VALUES (:s, :at, :status, 'X', '', '', false, false, 'poll', :hash, :at)"
                    ),
                    {"s": shipment_id, "at": moment, "status": status, "hash": str(n)},
                )
            connection.execute(
                text(
                    "INSERT INTO staff_user (id, email, password_hash, role, created_at, totp_secret) "
                    "VALUES (1, 'a@shop.test', '-', 'admin', :now, :secret)"
                ),
                {"now": now, "secret": secret},
            )
        upgrade(revision=REVISION)
        with db.engine.connect() as connection:
            first = dict(connection.execute(text("SELECT id, first_scan_at FROM shipment")).all())
            stored = connection.scalar(text("SELECT totp_secret FROM staff_user"))
        db.engine.dispose()
    assert str(first[1])[:19] == "2026-11-23 09:30:00" and first[2] is None and first[3] is None
    assert stored != secret and is_encrypted(stored)
    assert decrypt(stored, TestConfig.CREDENTIALS_KEY, "TOTP secret") == secret
