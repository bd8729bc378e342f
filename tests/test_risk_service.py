"""Prediction inside the service: scoring on ingest and over time, the at-risk queue, retraining."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from app.extensions import db
from app.models import RiskModelRecord
from app.risk.model_store import current_model
from app.risk.scoring import rescore
from app.risk.training import retrain_model
from app.tracking.ingest import store_updates
from carriers.model import Status, TrackingEvent, TrackingUpdate
from tests.factories import PASSWORD, make_shipment, make_shop, make_staff

SHIPPED = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


def _scanned(shop, number: str, shipped_at: datetime = SHIPPED, **overrides):
    shipment = make_shipment(
        shop,
        tracking_number=number,
        shipped_at=shipped_at,
        promised_date=(shipped_at + timedelta(days=3)).date(),
        origin_country="NO",
        origin_postcode="0150",
        destination_country="NO",
        destination_postcode="5003",
        **overrides,
    )
    event = TrackingEvent(
        occurred_at=shipped_at + timedelta(hours=2), status=Status.IN_TRANSIT, carrier_code="HANDED_IN"
    )
    store_updates(
        [(shipment, TrackingUpdate("bring", number, Status.IN_TRANSIT, events=(event,)))], source="poll"
    )
    db.session.commit()
    return shipment


def test_fresh_shipment_is_on_track_and_silence_makes_it_stuck_then_lost(app) -> None:
    shop, _ = make_shop()
    shipment = _scanned(shop, "S1")
    seen = [rescore([shipment], now=SHIPPED + timedelta(hours=5))]
    first = (shipment.risk_state, shipment.p_late, shipment.p_lost)
    seen.append(rescore([shipment], now=SHIPPED + timedelta(hours=6)))
    seen.append(rescore([shipment], now=SHIPPED + timedelta(days=3, hours=12)))
    late_state = shipment.risk_state
    seen.append(rescore([shipment], now=SHIPPED + timedelta(days=40)))
    assert first[0] == "on_track"
    assert first[1] < 0.4 and first[2] < 0.1
    assert shipment.eta_p10 <= shipment.eta_p50 <= shipment.eta_p90
    assert shipment.risk_computed_at == SHIPPED + timedelta(days=40)
    assert late_state in {"late", "stuck"}
    assert shipment.risk_state == "lost"
    assert shipment.p_lost >= 0.5
    assert any(reason["key"] == "no_scan_for_hours" for reason in shipment.risk_reasons)
    # Each change of state is reported with the previous state, none when the state stays.
    assert seen[0] == {shipment.id: None} and seen[1] == {}
    assert seen[2] == {shipment.id: "on_track"} and seen[3] == {shipment.id: late_state}


def test_delivered_shipments_leave_the_risk_queue(app) -> None:
    shop, _ = make_shop()
    shipment = _scanned(shop, "S2")
    rescore([shipment], now=SHIPPED + timedelta(days=3, hours=12))
    assert shipment.risk_state in {"late", "stuck"}
    shipment.status = Status.DELIVERED.value
    rescore([shipment], now=SHIPPED + timedelta(days=7))
    assert shipment.risk_state is None


def test_at_risk_endpoint_sorts_by_expected_cost(client, auth, shop_key) -> None:
    shop, _ = shop_key
    cheap = make_shipment(
        shop, tracking_number="C", risk_state="late", p_late=0.9, declared_value=Decimal("100")
    )
    dear = make_shipment(
        shop, tracking_number="D", risk_state="at_risk", p_late=0.5, declared_value=Decimal("900")
    )
    lost = make_shipment(
        shop, tracking_number="L", risk_state="lost", p_late=0.2, p_lost=0.8, declared_value=Decimal("500")
    )
    make_shipment(
        shop, tracking_number="OK", risk_state="on_track", p_late=0.1, declared_value=Decimal("5000")
    )
    other, _ = make_shop("Other")
    make_shipment(other, tracking_number="X", risk_state="late", p_late=0.99, declared_value=Decimal("9999"))
    response = client.get("/api/v1/shipments/at-risk", headers=auth)
    assert response.status_code == 200
    assert [item["id"] for item in response.json["items"]] == [dear.id, lost.id, cheap.id]
    assert response.json["total"] == 3


def test_shipment_resource_carries_the_prediction(client, auth, shop_key) -> None:
    shop, _ = shop_key
    shipment = _scanned(shop, "S3")
    rescore([shipment], now=SHIPPED + timedelta(hours=5))
    db.session.commit()
    body = client.get(f"/api/v1/shipments/{shipment.id}", headers=auth).json
    assert set(body["eta"]) == {"p10", "p50", "p90"}
    assert body["risk_state"] == "on_track"
    assert 0 <= body["p_late"] <= 1 and 0 <= body["p_lost"] <= 1
    assert isinstance(body["reasons"], list)
    assert body["computed_at"].startswith("2026-11-16T14:00")


def test_retraining_waits_for_enough_history_then_versions_a_model(app) -> None:
    shop, _ = make_shop()
    app.config["RISK_MIN_TRAINING_SHIPMENTS"] = 40
    assert retrain_model(now=datetime(2026, 11, 23, tzinfo=UTC)) is None
    for index in range(60):
        shipped = SHIPPED - timedelta(days=index % 30, hours=index)
        make_shipment(
            shop,
            tracking_number=f"H{index}",
            status="delivered",
            shipped_at=shipped,
            promised_date=(shipped + timedelta(days=2)).date(),
            delivered_at=shipped + timedelta(days=1 + index % 3),
            origin_country="NO",
            origin_postcode="0150",
            destination_country="NO",
            destination_postcode="5003",
        )
    prior = current_model()
    record = retrain_model(now=datetime(2026, 11, 23, tzinfo=UTC))
    assert record is not None and record.n_train == 60 and record.source == "history"
    assert db.session.scalars(select(RiskModelRecord)).all() == [record]
    assert current_model() is not prior
    assert current_model().n_train == 60


def test_recent_slowness_moves_predictions_before_any_retraining(app) -> None:
    """A week of parcels still travelling on a lane makes the next parcel's ETA later."""
    from app.tracking.updates import rescore_active_shipments

    shop, _ = make_shop()
    now = SHIPPED + timedelta(days=9)
    probe = _scanned(shop, "PROBE", shipped_at=now - timedelta(hours=3))
    rescore([probe], now=now)
    calm_p50 = probe.eta_p50
    for index in range(40):
        shipped = now - timedelta(days=2 + index % 6, hours=index)
        make_shipment(
            shop,
            tracking_number=f"SLOW{index}",
            status="in_transit",
            shipped_at=shipped,
            promised_date=(shipped + timedelta(days=1)).date(),
            origin_country="NO",
            origin_postcode="0150",
            destination_country="NO",
            destination_postcode="5003",
        )
    rescore_active_shipments(now=now)
    db.session.refresh(probe)
    assert probe.eta_p50 > calm_p50


def test_the_deadline_is_the_end_of_the_promised_day_in_the_customers_zone(app) -> None:
    shop, _ = make_shop()
    promised = (SHIPPED + timedelta(days=3)).date()
    # 18:00 UTC on the promised day: after midnight in Bangkok, still the promised day in Oslo (the shop's).
    now = datetime.combine(promised, datetime.min.time(), UTC) + timedelta(hours=18)
    bangkok = _scanned(shop, "TZ1", customer_timezone="Asia/Bangkok")
    oslo = _scanned(shop, "TZ2")
    rescore([bangkok, oslo], now=now)
    assert (bangkok.risk_state, bangkok.p_late) == ("late", 1.0)
    assert bangkok.risk_reasons[0]["key"] == "past_promised_day"
    assert oslo.risk_state != "late" and oslo.p_late < 1.0


def test_reasons_carry_machine_keys_and_text_in_the_api_and_on_the_staff_page(client, auth, shop_key) -> None:
    shop, _ = shop_key
    reason = {"key": "customs_hold", "text": "customs hold", "params": {}}
    keyed = make_shipment(shop, tracking_number="K1", risk_state="at_risk", p_late=0.7, risk_reasons=[reason])
    # Shipments scored before reasons had keys still read.
    legacy = make_shipment(
        shop, tracking_number="K2", risk_state="late", p_late=1.0, risk_reasons=["old text"]
    )
    db.session.commit()
    assert client.get(f"/api/v1/shipments/{keyed.id}", headers=auth).json["reasons"] == [reason]
    old = client.get(f"/api/v1/shipments/{legacy.id}", headers=auth).json["reasons"]
    assert old == [{"key": None, "text": "old text", "params": {}}]
    make_staff()
    client.post("/staff/login", data={"email": "ops@shop.test", "password": PASSWORD})
    page = client.get("/staff/").get_data(as_text=True)
    assert "customs hold" in page and "old text" in page and "customs_hold" not in page
    detail = client.get(f"/staff/shipments/{keyed.id}").get_data(as_text=True)
    assert "<li>customs hold</li>" in detail


def test_the_rescoring_job_skips_rows_another_worker_holds_instead_of_waiting(app) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks with SKIP LOCKED are PostgreSQL's; SQLite has one writer at a time")
    from app.tracking.updates import rescore_active_shipments

    shop, _ = make_shop()
    held = _scanned(shop, "H1")
    free = _scanned(shop, "H2")
    with db.engine.connect() as other_worker:
        other_worker.execute(text("SELECT id FROM shipment WHERE id = :id FOR UPDATE"), {"id": held.id})
        rescore_active_shipments(now=SHIPPED + timedelta(hours=5))
        other_worker.rollback()
    db.session.expire_all()
    assert db.session.get(type(held), free.id).risk_computed_at is not None
    assert db.session.get(type(held), held.id).risk_computed_at is None


def test_a_polled_parcel_is_scored_as_of_its_last_check_a_pushed_one_as_of_now(app) -> None:
    shop, _ = make_shop()
    checked = SHIPPED + timedelta(hours=6)
    later = SHIPPED + timedelta(days=2, hours=20)  # long after: a silence that is only ours
    polled = _scanned(shop, "P1", last_checked_at=checked, next_poll_at=later)
    reference = _scanned(shop, "P2")
    rescore([reference], now=checked)
    rescore([polled], now=later)
    assert polled.risk_computed_at == checked
    assert (polled.p_late, polled.risk_state) == (reference.p_late, reference.risk_state)
    assert later <= polled.eta_p10 <= polled.eta_p50 <= polled.eta_p90  # never an arrival in the past
    pushed = _scanned(shop, "P3", last_checked_at=checked, next_poll_at=None)
    rescore([pushed], now=later)
    assert pushed.risk_computed_at == later
    assert pushed.p_late > polled.p_late
