"""Triggers write outbox rows in the ingest transaction, once per meaningful change, latest first."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import (
    CustomerPreference,
    Notification,
    ShopNotificationSettings,
    Unsubscribe,
    WebhookEndpoint,
)
from app.models.types import utcnow
from app.notify.enqueue import Change, queue_change
from app.notify.time_triggers import scan_time_triggers
from app.notify.triggers import queue_tracking_changes
from app.tracking.updates import process_updates
from carriers.model import Reason, Status, TrackingEvent, TrackingUpdate
from notifications.model import Trigger
from notifications.render import LANGUAGES
from tests.factories import make_shipment, make_shop

REGISTERED = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
CUSTOMER = {
    "customer_name": "Kari Nordmann",
    "customer_email": "kari@example.no",
    "customer_language": "nb",
    "customer_timezone": "Europe/Oslo",
    "created_at": REGISTERED,
}


def _event(hour: int, status: Status, code: str, **extra) -> TrackingEvent:
    return TrackingEvent(
        occurred_at=datetime(2026, 11, 23, hour, 0, tzinfo=UTC),
        status=status,
        carrier_code=code,
        description=code,
        location="OSLO",
        **extra,
    )


HANDED_IN = _event(8, Status.IN_TRANSIT, "HANDED_IN")
OUT = _event(10, Status.OUT_FOR_DELIVERY, "OUT")
FAILED = _event(11, Status.FAILED_ATTEMPT, "NOT_HOME")
DELIVERED = _event(12, Status.DELIVERED, "DELIVERED")


def _update(status: Status, *events: TrackingEvent, **extra) -> TrackingUpdate:
    return TrackingUpdate(
        carrier="bring", tracking_number="70438101015432113", status=status, events=events, **extra
    )


def _rows() -> list[tuple[str, str, str]]:
    found = db.session.scalars(select(Notification).order_by(Notification.id))
    return [(row.dedupe_key, row.channel, row.state) for row in found]


@pytest.fixture
def shipment(app):
    shop, _ = make_shop("Fjellsport")
    return make_shipment(shop, **CUSTOMER)


def test_status_change_writes_one_row_in_the_ingest_transaction(shipment) -> None:
    process_updates([(shipment, _update(Status.IN_TRANSIT, HANDED_IN))], source="poll")
    db.session.rollback()
    assert _rows() == []

    process_updates([(shipment, _update(Status.IN_TRANSIT, HANDED_IN))], source="poll")
    process_updates([(shipment, _update(Status.IN_TRANSIT, HANDED_IN))], source="poll")
    db.session.commit()
    key = f"s{shipment.id}:shipped:1:email"
    assert _rows() == [(key, "email", "pending")]
    row = db.session.scalar(select(Notification))
    assert (row.recipient, row.language, row.trigger) == ("kari@example.no", "nb", "shipped")
    assert row.subject == "Bestillingen din fra Fjellsport er på vei"
    assert row.unsubscribe_url.startswith("https://track.example.test/u/")
    assert "https://track.example.test/t/" in row.body_text


def test_a_backlog_collapses_to_the_latest_status(shipment) -> None:
    for update in (
        _update(Status.IN_TRANSIT, HANDED_IN),
        _update(Status.OUT_FOR_DELIVERY, HANDED_IN, OUT),
        _update(Status.FAILED_ATTEMPT, HANDED_IN, OUT, FAILED),
        _update(Status.DELIVERED, HANDED_IN, OUT, FAILED, DELIVERED),
    ):
        # On the day of the scans: the wall clock would make the parcel late (and warned) by now.
        process_updates([(shipment, update)], source="webhook", now=datetime(2026, 11, 23, 12, 5, tzinfo=UTC))
    db.session.commit()
    s = f"s{shipment.id}"
    assert _rows() == [
        (f"{s}:shipped:1:email", "email", "superseded"),
        (f"{s}:out_for_delivery:2026-11-23:email", "email", "superseded"),
        (f"{s}:failed_attempt:2026-11-23T11:00:00+00:00:email", "email", "superseded"),
        (f"{s}:delivered:1:email", "email", "pending"),
    ]


def test_nothing_for_a_shipment_registered_after_delivery(app) -> None:
    shop, _ = make_shop()
    late = make_shipment(shop, **{**CUSTOMER, "created_at": datetime(2026, 11, 24, 9, 0, tzinfo=UTC)})
    process_updates([(late, _update(Status.DELIVERED, HANDED_IN, DELIVERED))], source="poll")
    db.session.commit()
    assert late.status == "delivered"
    assert _rows() == []


def test_quiet_hours_delay_non_urgent_messages_to_the_morning(shipment) -> None:
    evening = datetime(2026, 11, 23, 22, 30, tzinfo=UTC)  # 23:30 in Oslo
    queue_change(shipment, Change(Trigger.SHIPPED, "1", {}), now=evening)
    queue_change(shipment, Change(Trigger.OUT_FOR_DELIVERY, "2026-11-23", {}), now=evening)
    db.session.commit()
    due = {
        row.trigger: row.next_attempt_at
        for row in db.session.scalars(select(Notification).where(Notification.state == "pending"))
    }
    assert due == {"out_for_delivery": evening}
    shipped = db.session.scalar(select(Notification).where(Notification.trigger == "shipped"))
    assert (shipped.state, shipped.next_attempt_at) == (
        "superseded",
        datetime(2026, 11, 24, 7, 0, tzinfo=UTC),  # 08:00 in Oslo
    )


def test_channels_preferences_unsubscribes_and_invalid_numbers(app) -> None:
    shop, _ = make_shop()
    db.session.add(
        ShopNotificationSettings(
            shop_id=shop.id,
            triggers=["shipped", "delivered"],
            channels=["email", "sms"],
            quiet_start=time(0, 0),
            quiet_end=time(0, 0),
            urgent_triggers=[],
        )
    )
    good = make_shipment(shop, **CUSTOMER, customer_phone="+47 912 34 567", destination_country="NO")
    bad = make_shipment(shop, **CUSTOMER, tracking_number="70438101015432114", customer_phone="12")
    quiet = make_shipment(shop, **CUSTOMER, tracking_number="70438101015432115", customer_phone="91234567")
    db.session.add(CustomerPreference(shipment_id=quiet.id, channels=[]))
    db.session.add(Unsubscribe(shop_id=shop.id, channel="email", address="kari@example.no", source="link"))
    db.session.commit()
    for shipment in (good, bad, quiet):
        queue_change(shipment, Change(Trigger.SHIPPED, "1", {}))
        queue_change(shipment, Change(Trigger.FAILED_ATTEMPT, "x", {"attempted_at": REGISTERED}))
    db.session.commit()
    rows = db.session.scalars(select(Notification).order_by(Notification.id)).all()
    assert [(r.shipment_id, r.channel, r.recipient, r.state) for r in rows] == [
        (good.id, "sms", "+4791234567", "pending"),
        (bad.id, "sms", "12", "dead"),
    ]
    assert rows[0].body_html is None and rows[0].subject is None
    assert "phone number '12'" in rows[1].last_error


def test_webhook_rows_carry_a_signed_ready_event(shipment) -> None:
    endpoint = WebhookEndpoint(
        shop_id=shipment.shop_id, url="https://shop.example/hooks", secret="whsec_a", event_types=[]
    )
    other = WebhookEndpoint(
        shop_id=shipment.shop_id,
        url="https://shop.example/claims",
        secret="whsec_b",
        event_types=["claim.opened"],
    )
    db.session.add_all([endpoint, other])
    db.session.commit()
    process_updates([(shipment, _update(Status.IN_TRANSIT, HANDED_IN))], source="poll")
    db.session.commit()
    hook = db.session.scalar(select(Notification).where(Notification.channel == "webhook"))
    assert (hook.endpoint_id, hook.event_type, hook.recipient) == (
        endpoint.id,
        "shipment.shipped",
        "https://shop.example/hooks",
    )
    assert hook.dedupe_key == f"s{shipment.id}:shipped:1:webhook:{endpoint.id}"
    assert hook.event_id.startswith("evt_") and len(hook.event_id) == 36
    assert f'"id":"{hook.event_id}"' in hook.body_text
    assert '"status":"in_transit","tracking_number":"70438101015432113"' in hook.body_text
    assert db.session.scalar(select(Notification).where(Notification.endpoint_id == other.id)) is None


def test_risk_states_trigger_predicted_delay_once_and_stuck(shipment) -> None:
    shipment.status = "in_transit"
    shipment.eta_p10 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    shipment.eta_p90 = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
    shipment.last_event_at = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    shipment.p_late = 0.9  # confident enough for the default warning policy (p_late ≥ 0.8)
    for previous, state in (("on_track", "at_risk"), ("at_risk", "late"), ("late", "stuck")):
        shipment.risk_state = state
        queue_tracking_changes(shipment, previous_status=None, previous_risk_state=previous, now=utcnow())
    db.session.commit()
    s = f"s{shipment.id}"
    assert _rows() == [
        (f"{s}:predicted_delay:2026-11-27:email", "email", "superseded"),
        (f"{s}:stuck:2026-11-23T08:00:00+00:00:email", "email", "pending"),
    ]


def test_disabled_trigger_writes_nothing(app) -> None:
    shop, _ = make_shop()
    db.session.add(
        ShopNotificationSettings(
            shop_id=shop.id,
            triggers=["delivered"],
            channels=["email"],
            quiet_start=time(21),
            quiet_end=time(8),
            urgent_triggers=[],
        )
    )
    shipment = make_shipment(shop, **CUSTOMER)
    process_updates([(shipment, _update(Status.IN_TRANSIT, HANDED_IN))], source="poll")
    db.session.commit()
    assert _rows() == []


def test_time_triggers_arriving_soon_pickup_reminder_and_survey(app) -> None:
    shop, _ = make_shop()
    db.session.add(
        ShopNotificationSettings(
            shop_id=shop.id,
            triggers=[t.value for t in Trigger],
            channels=["email"],
            quiet_start=time(0),
            quiet_end=time(0),
            urgent_triggers=[],
            survey_url="https://shop.example/survey?n={tracking_number}",
            survey_delay_hours=24,
            pickup_reminder_hours=48,
        )
    )
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    arriving = make_shipment(
        shop,
        **CUSTOMER,
        tracking_number="1111",
        status="out_for_delivery",
        eta_p10=now + timedelta(minutes=30),
        eta_p90=now + timedelta(minutes=90),
    )
    waiting = make_shipment(
        shop,
        **CUSTOMER,
        tracking_number="2222",
        status="available_for_pickup",
        status_changed_at=now - timedelta(hours=49),
    )
    db.session.add(
        __import__("app.models", fromlist=["TrackingEvent"]).TrackingEvent(
            shipment_id=waiting.id,
            occurred_at=now - timedelta(hours=49),
            status="available_for_pickup",
            carrier_code="PICKUP",
            location="Coop Extra Grünerløkka",
            source="poll",
            content_hash="h1",
        )
    )
    delivered = make_shipment(
        shop, **CUSTOMER, tracking_number="3333", status="delivered", delivered_at=now - timedelta(hours=30)
    )
    fresh = make_shipment(
        shop, **CUSTOMER, tracking_number="4444", status="delivered", delivered_at=now - timedelta(hours=2)
    )
    db.session.commit()
    assert scan_time_triggers(now) == 3
    assert scan_time_triggers(now) == 0
    rows = {row.shipment_id: row for row in db.session.scalars(select(Notification))}
    assert sorted((r.shipment_id, r.trigger) for r in rows.values()) == [
        (arriving.id, "arriving_soon"),
        (waiting.id, "pickup_reminder"),
        (delivered.id, "delivery_survey"),
    ]
    assert fresh.id not in rows
    assert "Coop Extra Grünerløkka" in rows[waiting.id].body_text
    assert "https://shop.example/survey?n=3333" in rows[delivered.id].body_text


CLAIM_DETAILS = {
    Trigger.CLAIM_OPENED: {"claim_reference": "CL-1", "claim_reason": "damaged"},
    Trigger.CLAIM_UPDATED: {"claim_reference": "CL-1", "claim_state": "submitted"},
    Trigger.CLAIM_RESOLVED: {"claim_reference": "CL-1", "claim_resolution": "refund"},
}
DETAILS = {
    Trigger.SHIPPED: {},
    Trigger.OUT_FOR_DELIVERY: {},
    Trigger.ARRIVING_SOON: {"eta_start": REGISTERED, "eta_end": REGISTERED + timedelta(hours=2)},
    Trigger.DELIVERED: {"delivered_at": REGISTERED},
    Trigger.AVAILABLE_FOR_PICKUP: {"pickup_point": "Kiwi Majorstuen"},
    Trigger.PICKUP_REMINDER: {"pickup_point": "Kiwi Majorstuen", "pickup_deadline": REGISTERED},
    Trigger.FAILED_ATTEMPT: {"attempted_at": REGISTERED},
    Trigger.EXCEPTION: {"reason": Reason.CUSTOMS.value},
    Trigger.PREDICTED_DELAY: {"eta_start": date(2026, 11, 27), "eta_end": date(2026, 11, 28)},
    Trigger.STUCK: {"last_event_at": REGISTERED},
    Trigger.BACK_ON_TRACK: {"eta_start": date(2026, 11, 24), "eta_end": date(2026, 11, 25)},
    Trigger.DELIVERY_SURVEY: {"survey_url": "https://shop.example/survey"},
    Trigger.CASE_REPLY: {"case_reply": "It arrives tomorrow."},
    **CLAIM_DETAILS,
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_trigger_renders_in_every_language(app, language: str) -> None:
    assert set(DETAILS) == set(Trigger)
    shop, _ = make_shop()
    shipment = make_shipment(shop, **{**CUSTOMER, "customer_language": language})
    for trigger, details in DETAILS.items():
        assert queue_change(shipment, Change(trigger, "1", details)) == 1
    db.session.commit()
    rows = db.session.scalars(select(Notification)).all()
    assert sorted(row.trigger for row in rows) == sorted(t.value for t in Trigger)
    for row in rows:
        assert row.language == language
        assert row.subject and "70438101015432113" in row.body_text + row.subject
        assert row.unsubscribe_url in row.body_html
