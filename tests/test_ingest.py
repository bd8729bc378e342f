"""Ingest is idempotent, order-independent, and never marks a parcel delivered by mistake."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import func, select

from app.extensions import db
from app.models import TrackingEvent as EventRow
from app.tracking.ingest import IngestResult, event_content_hash, select_update, store_updates
from carriers.model import Reason, Status, TrackingEvent, TrackingUpdate
from tests.factories import make_shipment, make_shop

OSLO = timezone(timedelta(hours=1))


def _event(hour: int, status: Status, code: str, **extra) -> TrackingEvent:
    return TrackingEvent(
        occurred_at=datetime(2026, 11, 23, hour, 0, tzinfo=OSLO),
        status=status,
        carrier_code=code,
        description=f"{code} text",
        location="OSLO",
        **extra,
    )


HANDED_IN = _event(8, Status.IN_TRANSIT, "HANDED_IN")
TERMINAL = _event(12, Status.IN_TRANSIT, "TERMINAL")
OUT = _event(14, Status.OUT_FOR_DELIVERY, "TRANSPORT_TO_RECIPIENT")
DELIVERED = _event(16, Status.DELIVERED, "DELIVERED")


def _update(status: Status, *events: TrackingEvent, **extra) -> TrackingUpdate:
    return TrackingUpdate(
        carrier="bring", tracking_number="70438101015432113", status=status, events=events, **extra
    )


def apply_update(shipment, update: TrackingUpdate, *, source: str) -> IngestResult:
    return store_updates([(shipment, update)], source=source)[0]


def _event_count() -> int:
    return db.session.scalar(select(func.count()).select_from(EventRow))


def test_same_update_twice_stores_events_once(app) -> None:
    shop, _ = make_shop()
    shipment = make_shipment(shop)
    update = _update(Status.OUT_FOR_DELIVERY, HANDED_IN, TERMINAL, OUT)
    first = apply_update(shipment, update, source="poll")
    second = apply_update(shipment, update, source="poll")
    db.session.commit()
    assert (first.new_events, first.status_changed, first.previous_status) == (3, True, "pending")
    assert (second.new_events, second.status_changed) == (0, False)
    assert _event_count() == 3
    assert shipment.status == "out_for_delivery"
    assert shipment.last_event_at == datetime(2026, 11, 23, 13, 0, tzinfo=UTC)


def test_event_times_keep_their_local_offset(app) -> None:
    shop, _ = make_shop()
    shipment = make_shipment(shop)
    apply_update(shipment, _update(Status.IN_TRANSIT, HANDED_IN), source="poll")
    db.session.commit()
    row = db.session.scalar(select(EventRow))
    assert row.occurred_at == datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
    assert row.utc_offset_minutes == 60
    assert (row.carrier_code, row.source, row.content_hash) == (
        "HANDED_IN",
        "poll",
        event_content_hash(HANDED_IN),
    )


def test_an_older_update_arriving_late_does_not_move_status_back(app) -> None:
    shop, _ = make_shop()
    shipment = make_shipment(shop)
    apply_update(shipment, _update(Status.OUT_FOR_DELIVERY, HANDED_IN, OUT), source="webhook")
    outcome = apply_update(shipment, _update(Status.IN_TRANSIT, HANDED_IN, TERMINAL), source="poll")
    db.session.commit()
    assert outcome.new_events == 1
    assert shipment.status == "out_for_delivery"
    assert _event_count() == 3


def test_summary_saying_delivered_without_a_delivered_scan_is_not_believed(app) -> None:
    shop, _ = make_shop()
    shipment = make_shipment(shop)
    apply_update(shipment, _update(Status.DELIVERED, HANDED_IN, TERMINAL), source="webhook")
    assert shipment.status == "pending"
    assert shipment.delivered_at is None


def test_unknown_status_keeps_the_known_one(app) -> None:
    shop, _ = make_shop()
    shipment = make_shipment(shop)
    apply_update(shipment, _update(Status.IN_TRANSIT, HANDED_IN), source="poll")
    apply_update(
        shipment, _update(Status.UNKNOWN, HANDED_IN, _event(13, Status.UNKNOWN, "XYZ")), source="poll"
    )
    assert shipment.status == "in_transit"
    assert _event_count() == 2


def test_delivered_then_moved_reopens_the_shipment(app) -> None:
    shop, _ = make_shop()
    shipment = make_shipment(shop)
    apply_update(shipment, _update(Status.DELIVERED, HANDED_IN, DELIVERED), source="poll")
    assert shipment.status == "delivered"
    assert shipment.delivered_at == datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
    moved = _event(18, Status.EXCEPTION, "DEVIATION", reason=Reason.ADDRESS_PROBLEM)
    apply_update(
        shipment,
        _update(Status.EXCEPTION, HANDED_IN, DELIVERED, moved, reason=Reason.ADDRESS_PROBLEM),
        source="poll",
    )
    assert (shipment.status, shipment.reason, shipment.delivered_at) == ("exception", "address_problem", None)


def test_status_change_is_reported_once(app) -> None:
    shop, _ = make_shop()
    shipment = make_shipment(shop)
    first = apply_update(shipment, _update(Status.IN_TRANSIT, HANDED_IN), source="poll")
    second = apply_update(shipment, _update(Status.IN_TRANSIT, HANDED_IN, TERMINAL), source="poll")
    assert (first.status_changed, first.previous_status) == (True, "pending")
    assert (second.status_changed, second.new_events) == (False, 1)


def test_several_shipments_behind_one_number_follow_carrier_ref_or_the_most_recent(app) -> None:
    shop, _ = make_shop()
    shipment = make_shipment(shop)
    old = _update(Status.DELIVERED, DELIVERED, carrier_ref="A")
    new = _update(Status.IN_TRANSIT, _event(20, Status.IN_TRANSIT, "TERMINAL"), carrier_ref="B")
    assert select_update(shipment, [old, new]) is new
    shipment.carrier_ref = "A"
    assert select_update(shipment, [old, new]) is old
    assert select_update(shipment, []) is None
