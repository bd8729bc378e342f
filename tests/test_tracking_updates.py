"""The one path of tracking updates: store → status → rescore → messages (fresh prediction) → next poll."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import Notification, WebhookEndpoint
from app.notify.triggers import queue_tracking_changes
from app.risk.queue import at_risk_query
from app.tracking.updates import PollHint, process_no_update, process_updates
from app.web.tracking import progress_steps
from carriers.model import Status, TrackingEvent, TrackingUpdate
from planning.prediction import RiskState
from tests.factories import make_shipment, make_shop

SCAN = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)


def _update(*events: TrackingEvent) -> TrackingUpdate:
    return TrackingUpdate(
        carrier="bring", tracking_number="70438101015432113", status=events[-1].status, events=events
    )


def _event(at: datetime, status: Status, code: str) -> TrackingEvent:
    return TrackingEvent(occurred_at=at, status=status, carrier_code=code, description=code, location="OSLO")


def _customer_shipment(**overrides):
    shop, _ = make_shop()
    db.session.add(
        WebhookEndpoint(shop_id=shop.id, url="https://shop.example/hooks", secret="s", event_types=[])
    )
    values = {
        "customer_email": "kari@example.no",
        "customer_timezone": "Europe/Oslo",
        "created_at": SCAN - timedelta(days=2),
    }
    return make_shipment(shop, **(values | overrides))


def _event_details(trigger: str) -> dict:
    row = db.session.scalar(
        select(Notification).where(Notification.channel == "webhook", Notification.trigger == trigger)
    )
    return json.loads(row.body_text)["data"]["details"]


def test_status_messages_carry_the_prediction_made_from_the_same_update(app) -> None:
    shipment = _customer_shipment(status=Status.IN_TRANSIT)
    assert shipment.eta_p10 is None
    handed_in = _event(SCAN - timedelta(days=1), Status.IN_TRANSIT, "HANDED_IN")
    out = _event(SCAN, Status.OUT_FOR_DELIVERY, "TRANSPORT_TO_RECIPIENT")
    process_updates([(shipment, _update(handed_in, out))], source="poll", now=SCAN + timedelta(minutes=5))
    db.session.commit()
    assert shipment.eta_p10 is not None
    details = _event_details("out_for_delivery")
    assert details["eta_start"] == shipment.eta_p10.isoformat().replace("+00:00", "Z")
    assert details["eta_end"] == shipment.eta_p90.isoformat().replace("+00:00", "Z")


def test_a_delay_alert_does_not_supersede_an_unsent_shipped_message(app) -> None:
    shipment = _customer_shipment(status=Status.IN_TRANSIT)
    shipment.eta_p10, shipment.eta_p90 = SCAN + timedelta(days=2), SCAN + timedelta(days=3)
    shipment.last_event_at = SCAN
    shipment.risk_state, shipment.p_late = RiskState.AT_RISK, 0.9
    queue_tracking_changes(
        shipment, previous_status=Status.PENDING, previous_risk_state=RiskState.ON_TRACK, now=SCAN
    )
    db.session.commit()
    states = dict(
        db.session.execute(
            select(Notification.trigger, Notification.state).where(Notification.channel == "email")
        ).all()
    )
    assert states == {"shipped": "pending", "predicted_delay": "pending"}


def test_a_newer_status_still_supersedes_an_unsent_delay_alert(app) -> None:
    shipment = _customer_shipment(status=Status.IN_TRANSIT, last_event_at=SCAN)
    shipment.eta_p10, shipment.eta_p90 = SCAN + timedelta(days=2), SCAN + timedelta(days=3)
    shipment.risk_state, shipment.p_late = RiskState.LATE, 0.95
    queue_tracking_changes(shipment, previous_status=None, previous_risk_state=RiskState.ON_TRACK, now=SCAN)
    delivered = _event(SCAN + timedelta(days=1), Status.DELIVERED, "DELIVERED")
    process_updates([(shipment, _update(delivered))], source="poll", now=SCAN + timedelta(days=1))
    db.session.commit()
    states = dict(
        db.session.execute(
            select(Notification.trigger, Notification.state).where(Notification.channel == "email")
        ).all()
    )
    assert states == {"predicted_delay": "superseded", "delivered": "pending"}


def test_expiry_goes_through_the_path_and_leaves_the_at_risk_queue(app) -> None:
    last_scan = SCAN - timedelta(days=40)
    shipment = _customer_shipment(
        status=Status.IN_TRANSIT, last_event_at=last_scan, created_at=last_scan - timedelta(days=1)
    )
    shipment.risk_state = RiskState.LOST
    shipment.p_lost = 0.9
    db.session.commit()
    assert db.session.scalars(at_risk_query()).all() == [shipment]

    process_no_update([shipment], PollHint(not_found=True), now=SCAN)
    db.session.commit()
    assert shipment.status == Status.EXPIRED
    assert shipment.risk_state is None
    assert db.session.scalars(at_risk_query()).all() == []


def test_an_update_that_brings_no_news_after_the_limit_expires_the_shipment(app) -> None:
    old = _event(SCAN - timedelta(days=40), Status.IN_TRANSIT, "HANDED_IN")
    shipment = _customer_shipment(status=Status.IN_TRANSIT, created_at=old.occurred_at)
    process_updates([(shipment, _update(old))], source="poll", now=SCAN)
    db.session.commit()
    assert (shipment.status, shipment.risk_state) == (Status.EXPIRED, None)


def test_finished_shipments_never_show_in_the_at_risk_queue_even_with_a_stale_state(app) -> None:
    shipment = _customer_shipment(status=Status.DELIVERED)
    shipment.risk_state = RiskState.LATE
    db.session.commit()
    assert db.session.scalars(at_risk_query()).all() == []


def test_returned_and_expired_parcels_show_no_progress_bar_instead_of_registered() -> None:
    for status in (Status.RETURNING, Status.RETURNED, Status.CANCELLED, Status.EXPIRED):
        assert progress_steps(status) is None
    steps = progress_steps(Status.OUT_FOR_DELIVERY)
    assert [step["state"] for step in steps] == ["done", "done", "current", "todo"]
