"""Hostile input answers 4xx, never 500: huge ids and pages, dates near year 1 or 9999, NUL bytes and lone
surrogates, deeply nested JSON; and one out-of-range row never stops a scoring batch (issue 11)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from app.extensions import db
from app.models.types import utcnow
from app.tracking.ingest import store_updates
from app.tracking.updates import rescore_active_shipments
from carriers.model import Status, TrackingEvent, TrackingUpdate
from tests.factories import PASSWORD, make_shipment, make_staff

NUMBER = "70438101015432113"


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    return response.get_json()


def _shipment(**fields) -> dict:
    return {"tracking_number": NUMBER, "carrier": "bring", **fields}


@pytest.mark.parametrize(
    "shipped_at",
    [
        "9999-12-31T00:00:00+00:00",
        "9999-12-31T23:00:00-05:00",
        "0001-01-01T00:00:00+05:00",
        "1970-01-01T00:00:00Z",
    ],
)
def test_shipped_at_outside_sane_years_is_refused_naming_the_field(client, auth, shipped_at) -> None:
    problem = _problem(
        client.post("/api/v1/shipments", json=_shipment(shipped_at=shipped_at), headers=auth), 422
    )
    assert set(problem["errors"]) == {"shipped_at"}


def test_shipped_at_may_be_a_few_days_ahead_but_not_a_month(client, auth) -> None:
    month = (utcnow() + timedelta(days=30)).isoformat()
    problem = _problem(client.post("/api/v1/shipments", json=_shipment(shipped_at=month), headers=auth), 422)
    assert "future" in problem["errors"]["shipped_at"][0]
    tomorrow = (utcnow() + timedelta(days=1)).isoformat()
    assert (
        client.post("/api/v1/shipments", json=_shipment(shipped_at=tomorrow), headers=auth).status_code == 201
    )


def test_promised_date_in_year_9999_is_refused(client, auth) -> None:
    problem = _problem(
        client.post("/api/v1/shipments", json=_shipment(promised_date="9999-12-31"), headers=auth), 422
    )
    assert set(problem["errors"]) == {"promised_date"}


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00%2B05:00", "9999-12-31T23:59:59-05:00"])
@pytest.mark.parametrize("path", ["/api/v1/shipments?updated_since=", "/api/v1/claims?opened_since="])
def test_query_times_near_year_1_or_9999_are_refused(client, auth, path, value) -> None:
    problem = _problem(client.get(path + value, headers=auth), 422)
    assert len(problem["errors"]) == 1


def test_order_time_near_year_9999_is_refused(client, auth) -> None:
    body = {"order_time": "9999-12-31T23:59:59-05:00", "coordinates": {"lat": 59.9, "lon": 10.7}}
    problem = _problem(client.post("/api/v1/delivery-options", json=body, headers=auth), 422)
    assert "order_time" in problem["errors"]


def test_a_shipment_whose_dates_overflow_never_stops_the_scoring_batch(app, shop_key) -> None:
    shop, _ = shop_key
    # Stored before the API bounded dates: the job and pushed updates must still work around it.
    broken = make_shipment(shop, tracking_number="BROKEN1", shipped_at=datetime(9999, 12, 31, tzinfo=UTC))
    broken.promised_date = None
    healthy = make_shipment(shop, tracking_number=NUMBER, shipped_at=utcnow() - timedelta(hours=5))
    db.session.commit()

    rescore_active_shipments()

    assert healthy.risk_computed_at is not None
    assert broken.risk_computed_at is None
    event = TrackingEvent(occurred_at=utcnow(), status=Status.IN_TRANSIT, carrier_code="HANDED_IN")
    store_updates(
        [(broken, TrackingUpdate("bring", "BROKEN1", Status.IN_TRANSIT, events=(event,)))], source="webhook"
    )
    db.session.commit()
    assert broken.status == Status.IN_TRANSIT.value


@pytest.mark.parametrize("number", ["2147483648", "9223372036854775808", "99999999999999999999", "0"])
@pytest.mark.parametrize(
    "template",
    [
        "/api/v1/shipments/{}",
        "/api/v1/depots/{}",
        "/api/v1/depots/1/vans/{}",
        "/api/v1/carrier-services/{}",
        "/api/v1/webhook-endpoints/{}/deliveries",
        "/api/v1/shipments/{}/notification-preferences",
    ],
)
def test_ids_beyond_an_integer_column_are_not_found(client, auth, template, number) -> None:
    _problem(client.get(template.format(number), headers=auth), 404)


def test_staff_pages_with_huge_ids_are_not_found(client) -> None:
    for path in ("/staff/shipments/9223372036854775808", "/staff/outbox/9223372036854775808"):
        assert client.get(path).status_code == 404


@pytest.mark.parametrize(
    "path",
    ["/api/v1/shipments", "/api/v1/claims", "/api/v1/reservations", "/api/v1/webhook-endpoints/1/deliveries"],
)
def test_huge_page_numbers_are_refused(client, auth, path) -> None:
    problem = _problem(client.get(f"{path}?page=99999999999999999999", headers=auth), 422)
    assert set(problem["errors"]) == {"page"}


def test_huge_template_id_is_refused_naming_it(client, auth) -> None:
    body = {
        "template_id": 2**63,
        "date": "2026-12-10",
        "coordinates": {"lat": 59.9, "lon": 10.7},
        "parcel": {"weight_kg": 1},
    }
    problem = _problem(client.post("/api/v1/reservations", json=body, headers=auth), 422)
    assert "template_id" in problem["errors"]


def test_staff_outbox_survives_huge_page_and_shop_filters(client) -> None:
    make_staff()
    client.post("/staff/login", data={"email": "ops@shop.test", "password": PASSWORD})
    for query in ("page=99999999999999999999", "shop=99999999999999999999", "shop=%C2%B2"):
        assert client.get(f"/staff/outbox/?{query}").status_code == 200, query


@pytest.mark.parametrize("bad", ["\x00", "\ud800"], ids=["nul", "lone-surrogate"])
def test_unstorable_characters_in_json_are_refused_naming_the_field(client, auth, bad) -> None:
    body = _shipment(customer={"name": f"Kari{bad}"})
    # ensure_ascii: the body carries the escape, as an attacker's would
    data = json.dumps(body)
    response = client.post("/api/v1/shipments", data=data, content_type="application/json", headers=auth)
    assert _problem(response, 422)["errors"] == {
        "customer.name": ["Contains a NUL character or a lone surrogate."]
    }


def test_nul_in_query_and_path_never_reaches_the_database(client, auth) -> None:
    problem = _problem(client.get("/api/v1/shipments?order_ref=x%00", headers=auth), 422)
    assert set(problem["errors"]) == {"order_ref"}
    _problem(client.get("/api/v1/claims/CLM%00", headers=auth), 404)
    _problem(client.get("/api/v1/reservations/R%00", headers=auth), 404)


def test_nul_in_the_tracking_form_gets_the_friendly_error(client) -> None:
    form = {"tracking_number": f"{NUMBER}\x00", "postcode": "0150"}
    response = client.post("/track", data=form, headers={"Accept": "text/html"})
    assert response.status_code == 422
    assert response.mimetype == "text/html"
    assert "cannot be used" in response.get_data(as_text=True)


@pytest.mark.parametrize("depth", [2000, 40])
def test_deeply_nested_json_is_a_bad_request(client, auth, depth) -> None:
    data = "[" * depth + "]" * depth
    response = client.post("/api/v1/shipments", data=data, content_type="application/json", headers=auth)
    assert "nests more than" in _problem(response, 400)["detail"]


def test_ordinary_nesting_and_text_still_work(client, auth) -> None:
    body = _shipment(customer={"name": "Kåre Ødegård 😀"}, destination={"postcode": "0150", "country": "NO"})
    assert client.post("/api/v1/shipments", json=body, headers=auth).status_code == 201
