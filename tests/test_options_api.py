"""`POST /api/v1/delivery-options`: geocoded or given places, priced slots, reasons, carriers, bad input."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app.demo.fleet import create_fleet
from app.extensions import db
from app.models import GeocodeCache, Shop
from planning.calendar import holiday_name
from planning.geo_sandbox import GeocoderSandbox

OSLO = ZoneInfo("Europe/Oslo")
STORGATA = {"street": "Storgata 12", "postcode": "0150", "city": "Oslo", "country": "NO"}


@pytest.fixture(scope="module")
def gazetteer():
    with GeocoderSandbox() as server:
        yield server


@pytest.fixture
def fleet(app, shop_key, gazetteer):
    app.config["GEOCODER_URL"] = gazetteer.url
    shop = db.session.get(Shop, shop_key[0].id)
    depot = create_fleet(shop, vans=2, slot_capacity=3)
    db.session.commit()
    return depot


def order_day() -> date:
    """A day at least two days ahead whose next day is a working day (no public holiday)."""
    day = datetime.now(OSLO).date() + timedelta(days=2)
    while holiday_name(day + timedelta(days=1), "NO"):
        day += timedelta(days=1)
    return day


def options(client, auth, body: dict, explain: bool = False):
    return client.post(f"/api/v1/delivery-options{'?explain=1' if explain else ''}", json=body, headers=auth)


def test_geocoded_address_gets_next_day_slots_and_carriers(client, auth, fleet, gazetteer) -> None:
    day = order_day()
    order_time = datetime.combine(day, time(9), OSLO)
    body = {
        "address": STORGATA,
        "parcel": {"weight_kg": 2.5},
        "order_time": order_time.isoformat(),
        "days": 2,
    }
    response = options(client, auth, body)
    assert response.status_code == 200
    data = response.get_json()
    assert data["location"] == {
        "lat": 59.908906,
        "lon": 10.658924,
        "label": "Storgata 12, 0150 Oslo, NO",
        "source": "geocoded",
    }
    nxt = day + timedelta(days=1)
    # The order day closed at 22:00 the day before; the next day is open, each slot needing a van of its own.
    assert [(s["date"], s["start"], s["price"], s["green"], s["remaining"]) for s in data["slots"]] == [
        (nxt.isoformat(), datetime.combine(nxt, time(h), OSLO).isoformat(), "159.00", False, 3)
        for h in (8, 10, 12, 14, 16, 18)
    ]
    assert "reasons" not in data["slots"][0]
    assert [(c["carrier"], c["service"], c["price"]) for c in data["carriers"]] == [
        ("bring", "standard", "79.00"),
        ("postnord", "parcel", "59.00"),
    ]
    assert all(0.0 <= c["p_on_time"] <= 1.0 and c["earliest"] <= c["latest"] for c in data["carriers"])
    assert data["notes"] == []

    asked = gazetteer.requests
    assert options(client, auth, body).status_code == 200
    assert gazetteer.requests == asked  # the second checkout of this address is answered from the cache
    assert db.session.scalar(select(func.count()).select_from(GeocodeCache)) == 1


def test_explain_lists_refused_slots_with_reasons(client, auth, fleet) -> None:
    day = order_day()
    body = {
        "coordinates": {"lat": 59.92, "lon": 10.75},
        "parcel": {"weight_kg": 1, "volume_l": 30},
        "order_time": datetime.combine(day, time(9), OSLO).isoformat(),
        "days": 2,
    }
    data = options(client, auth, body, explain=True).get_json()
    assert data["location"]["source"] == "given"
    assert len(data["slots"]) == 12
    first = data["slots"][0]
    closed_at = datetime.combine(day - timedelta(days=1), time(22), OSLO)
    assert (first["offered"], first["price"], first["reasons"]) == (
        False,
        None,
        [
            {
                "code": "closed",
                "text": f"orders for this window closed at {closed_at}",
            }
        ],
    )
    offered = data["slots"][6]
    assert offered["offered"] is True
    assert [r["code"] for r in offered["reasons"]] == ["fits", "detour"]
    assert data["carriers"][0]["reasons"][0].startswith("handed to bring at ")


def test_outside_every_zone_offers_carriers_only(client, auth, fleet) -> None:
    body = {
        "coordinates": {"lat": 60.39, "lon": 5.32, "country": "NO", "postcode": "5003"},
        "parcel": {"weight_kg": 1},
    }
    data = options(client, auth, body).get_json()
    assert data["slots"] == []
    assert data["notes"] == [
        {"code": "outside_zone", "text": "none of the shop's own-fleet zones covers this address"}
    ]
    assert len(data["carriers"]) == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"address": {**STORGATA, "street": "Nowhere Lane 1"}, "parcel": {"weight_kg": 1}}, "address"),
        (
            {"address": STORGATA, "coordinates": {"lat": 59.9, "lon": 10.7}, "parcel": {"weight_kg": 1}},
            "address",
        ),
        ({"coordinates": {"lat": 59.9, "lon": 10.7}}, "parcel"),
        ({"coordinates": {"lat": 59.9, "lon": 10.7}, "parcel": {"weight_kg": 900}}, "parcel"),
        ({"coordinates": {"lat": 59.9, "lon": 10.7}, "parcel": {"weight_kg": 1, "volume_l": 5000}}, "parcel"),
        ({"coordinates": {"lat": 91, "lon": 10.7}, "parcel": {"weight_kg": 1}}, "coordinates"),
        (
            {
                "coordinates": {"lat": 59.9, "lon": 10.7},
                "parcel": {"weight_kg": 1},
                "order_time": "2020-01-01T10:00:00Z",
            },
            "order_time",
        ),
        ({"coordinates": {"lat": 59.9, "lon": 10.7}, "parcel": {"weight_kg": 1}, "days": 60}, "days"),
        ({"coordinates": {"lat": 59.9, "lon": 10.7}, "parcel": {"weight_kg": 0}}, "parcel"),
    ],
)
def test_bad_input_is_a_problem_naming_the_field(client, auth, fleet, body, field) -> None:
    response = options(client, auth, body)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert field in response.get_json()["errors"]


def test_malformed_json_is_a_client_error(client, auth, fleet) -> None:
    response = client.post(
        "/api/v1/delivery-options", data="{not json", headers={**auth, "Content-Type": "application/json"}
    )
    assert response.status_code in (400, 422)
    assert response.mimetype == "application/problem+json"


def test_a_down_geocoder_is_a_503(client, auth, fleet, app) -> None:
    app.config["GEOCODER_URL"] = "http://127.0.0.1:9"
    body = {"address": {**STORGATA, "street": "Kirkegata 3"}, "parcel": {"weight_kg": 1}}
    response = options(client, auth, body)
    assert response.status_code == 503
    assert response.get_json()["type"].endswith("/geocoder")
