"""The shop API: keys, registration (single, bulk, idempotent), reads, filters, problem details."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import Shipment
from carriers.numbers import make_tracking_number
from tests.factories import make_shipment, make_shop

BODY = {
    "carrier": "bring",
    "tracking_number": "7043 8101 0154 32113",
    "order_ref": "A-1",
    "customer": {"name": "Kari", "email": "kari@example.test", "language": "nb", "timezone": "Europe/Oslo"},
    "destination": {"country": "NO", "postcode": "5003"},
    "promised_date": "2026-11-26",
    "declared_value": 499.0,
    "currency": "NOK",
}


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Shipment))


def test_requests_without_a_valid_key_are_refused(client) -> None:
    for headers in ({}, {"Authorization": "Bearer lv_nope"}):
        response = client.get("/api/v1/shipments", headers=headers)
        assert response.status_code == 401
        assert response.mimetype == "application/problem+json"
        assert response.json["title"] == "Unauthorized"


def test_register_then_register_again_returns_the_same_shipment(client, auth) -> None:
    first = client.post("/api/v1/shipments", json=BODY, headers=auth)
    again = client.post("/api/v1/shipments", json=BODY, headers=auth)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json["id"] == again.json["id"]
    assert first.json["tracking_number"] == "70438101015432113"
    assert first.json["status"] == "pending"
    assert first.json["events"] == []
    assert first.json["freshness"]["last_checked_at"] is None
    assert _count() == 1


def test_idempotency_key_replays_and_rejects_a_different_body(client, auth) -> None:
    headers = {**auth, "Idempotency-Key": "order-A-1"}
    first = client.post("/api/v1/shipments", json=BODY, headers=headers)
    replay = client.post("/api/v1/shipments", json=BODY, headers=headers)
    assert replay.status_code == 201
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json == first.json
    other = client.post("/api/v1/shipments", json={**BODY, "order_ref": "B"}, headers=headers)
    assert other.status_code == 422
    assert other.json["type"].endswith("idempotency-key-reused")


def test_invalid_input_names_the_field_and_writes_nothing(client, auth) -> None:
    bad = {**BODY, "customer": {"email": "not-an-email"}, "promised_date": "tomorrow"}
    response = client.post("/api/v1/shipments", json=bad, headers=auth)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert set(response.json["errors"]) == {"customer", "promised_date"}
    assert "customer" in response.json["detail"]
    assert _count() == 0


def test_malformed_json_is_a_problem_not_a_crash(client, auth) -> None:
    response = client.post(
        "/api/v1/shipments", data="{not json", headers={**auth, "Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"


def test_carrier_is_detected_from_the_number_when_omitted(client, auth) -> None:
    number = make_tracking_number("ups", 7)
    response = client.post("/api/v1/shipments", json={"tracking_number": number}, headers=auth)
    assert response.status_code == 201
    assert response.json["carrier"] == "ups"


def test_undetectable_carrier_is_a_422_naming_carrier(client, auth) -> None:
    response = client.post("/api/v1/shipments", json={"tracking_number": "HELLO-WORLD"}, headers=auth)
    assert response.status_code == 422
    assert list(response.json["errors"]) == ["carrier"]


def test_bulk_is_all_or_nothing(client, auth) -> None:
    good = {"carrier": "gls", "tracking_number": make_tracking_number("gls", 1)}
    bad = {"carrier": "nope", "tracking_number": "123456"}
    response = client.post("/api/v1/shipments/bulk", json={"shipments": [good, bad]}, headers=auth)
    assert response.status_code == 422
    assert "shipments" in response.json["errors"]
    assert _count() == 0
    items = [good, {"carrier": "fedex", "tracking_number": make_tracking_number("fedex", 2)}, good]
    response = client.post("/api/v1/shipments/bulk", json={"shipments": items}, headers=auth)
    assert response.status_code == 200
    assert (response.json["created"], response.json["existing"]) == (2, 1)
    assert response.json["items"][0]["id"] == response.json["items"][2]["id"]
    assert _count() == 2


def test_get_list_filter_and_delete(client, auth, shop_key) -> None:
    shop, _ = shop_key
    delivered = make_shipment(shop, tracking_number="A1", status="delivered")
    make_shipment(shop, tracking_number="A2", status="in_transit")
    other_shop, _ = make_shop("Other")
    foreign = make_shipment(other_shop, tracking_number="A3")

    listing = client.get("/api/v1/shipments?status=delivered", headers=auth)
    assert listing.status_code == 200
    assert [item["tracking_number"] for item in listing.json["items"]] == ["A1"]
    assert listing.json["total"] == 1
    assert client.get("/api/v1/shipments?status=bogus", headers=auth).status_code == 422

    assert client.get(f"/api/v1/shipments/{foreign.id}", headers=auth).status_code == 404
    detail = client.get(f"/api/v1/shipments/{delivered.id}", headers=auth)
    assert detail.json["status"] == "delivered"

    assert client.delete(f"/api/v1/shipments/{delivered.id}", headers=auth).status_code == 204
    assert client.get(f"/api/v1/shipments/{delivered.id}", headers=auth).status_code == 404
    assert client.get("/api/v1/shipments", headers=auth).json["total"] == 1
    db.session.expire_all()
    assert db.session.get(Shipment, delivered.id).next_poll_at is None


def test_openapi_document_describes_the_api(client) -> None:
    spec = client.get("/api/v1/openapi.json").json
    assert spec["info"]["title"] == "Leveranse API"
    assert "/api/v1/shipments" in spec["paths"]
    assert "/api/v1/shipments/bulk" in spec["paths"]
    assert "bearerAuth" in spec["components"]["securitySchemes"]


def test_phone_numbers_are_normalised_or_rejected(client, auth) -> None:
    body = {**BODY, "customer": {"phone": "412 34 567"}}
    response = client.post("/api/v1/shipments", json=body, headers=auth)
    assert response.status_code == 201
    shipment = db.session.get(Shipment, response.json["id"])
    assert shipment.customer_phone == "+4741234567"
    bad = client.post(
        "/api/v1/shipments",
        json={**BODY, "tracking_number": "70438101015432999", "customer": {"phone": "12345"}},
        headers=auth,
    )
    assert bad.status_code == 422
    assert "customer" in bad.json["errors"]
    assert _count() == 1
