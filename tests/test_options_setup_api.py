"""Configuring the own fleet through the API: CRUD, field-naming validation, and guards for booked days."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from planning.calendar import holiday_name
from tests.factories import make_shop

OSLO = ZoneInfo("Europe/Oslo")
DEPOT = {"name": "Bergen Kokstad", "lat": 60.29, "lon": 5.26, "country": "NO", "timezone": "Europe/Oslo"}
VAN = {"name": "Van A", "capacity_kg": 300, "shift_start": "08:00", "shift_end": "16:00", "fixed_cost": 5}
WINDOW = {"start": "10:00", "end": "12:00", "capacity": 2, "base_price": "89.00", "lead_minutes": 120}
ADDRESS = {"lat": 60.33, "lon": 5.30}


def open_day():
    """A working day at least two days ahead."""
    day = datetime.now(OSLO).date() + timedelta(days=2)
    while holiday_name(day, "NO"):
        day += timedelta(days=1)
    return day


@pytest.fixture
def depot(client, auth) -> str:
    """A configured depot: one van, one zone, one window; returns its URL."""
    created = client.post("/api/v1/depots", json=DEPOT, headers=auth)
    assert created.status_code == 201, created.get_json()
    url = f"/api/v1/depots/{created.get_json()['id']}"
    assert client.post(f"{url}/vehicles", json=VAN, headers=auth).status_code == 201
    zone = {"name": "Bergen", "lat": 60.39, "lon": 5.32, "radius_km": 15}
    assert client.post(f"{url}/zones", json=zone, headers=auth).status_code == 201
    assert client.post(f"{url}/slot-templates", json=WINDOW, headers=auth).status_code == 201
    return url


def offers(client, auth, day, explain: bool = False) -> list[dict]:
    body = {
        "coordinates": ADDRESS,
        "parcel": {"weight_kg": 3},
        "order_time": datetime.combine(day - timedelta(days=1), time(9), OSLO).isoformat(),
        "days": 2,
    }
    response = client.post(
        f"/api/v1/delivery-options{'?explain=1' if explain else ''}", json=body, headers=auth
    )
    assert response.status_code == 200, response.get_json()
    return [s for s in response.get_json()["slots"] if s["date"] == day.isoformat()]


def hold(client, auth, depot_url: str, day) -> dict:
    template_id = client.get(f"{depot_url}/slot-templates", headers=auth).get_json()[0]["id"]
    body = {
        "template_id": template_id,
        "date": day.isoformat(),
        "coordinates": ADDRESS,
        "parcel": {"weight_kg": 3},
    }
    response = client.post("/api/v1/reservations", json=body, headers=auth)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_a_fleet_configured_through_the_api_is_offered_at_checkout(client, auth, depot) -> None:
    depot_id = int(depot.rsplit("/", 1)[1])
    assert client.get(depot, headers=auth).get_json() == {
        "id": depot_id,
        **DEPOT,
        "postcode": "",
        "opens": "07:00:00",
        "closes": "21:00:00",
        "order_cutoff": "22:00:00",
        "cutoff_days_before": 1,
        "service_seconds": 180,
    }
    [van] = client.get(f"{depot}/vehicles", headers=auth).get_json()
    assert van == {
        **VAN,
        "id": van["id"],
        "depot_id": depot_id,
        "shift_start": "08:00:00",
        "shift_end": "16:00:00",
        "fixed_cost": 5.0,
        "weekdays": "1234567",
        "active": True,
    }
    service = {
        "depot_id": depot_id,
        "carrier": "bring",
        "service": "standard",
        "label": "Bring",
        "price": "79.00",
    }
    created = client.post("/api/v1/carrier-services", json=service, headers=auth)
    assert created.status_code == 201
    assert created.get_json() | {"id": 0} == {
        **service,
        "id": 0,
        "currency": "NOK",
        "cutoff": "15:00:00",
        "transit_days": 1,
    }

    day = open_day()
    [slot] = offers(client, auth, day)
    assert (slot["start"], slot["end"], slot["remaining"], slot["depot"]) == (
        datetime.combine(day, time(10), OSLO).isoformat(),
        datetime.combine(day, time(12), OSLO).isoformat(),
        2,
        "Bergen Kokstad",
    )

    changed = client.patch(
        f"{depot}/slot-templates/{slot['template_id']}", json={"base_price": "49.50"}, headers=auth
    )
    assert changed.status_code == 200 and changed.get_json()["base_price"] == "49.50"
    closed = client.post(
        f"{depot}/closures", json={"day": day.isoformat(), "reason": "inventory"}, headers=auth
    )
    assert closed.status_code == 201
    [refused] = offers(client, auth, day, explain=True)
    assert (refused["offered"], refused["reasons"]) == (
        False,
        [{"code": "not_working", "text": f"no deliveries on {day}: inventory"}],
    )
    assert client.delete(f"{depot}/closures/{closed.get_json()['id']}", headers=auth).status_code == 204
    assert offers(client, auth, day)[0]["offered"] is True


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("", {**DEPOT, "timezone": "Europe/Atlantis"}, "timezone"),
        ("", {**DEPOT, "lat": 95}, "lat"),
        ("", {**DEPOT, "country": "XX"}, "country"),
        ("", {**DEPOT, "opens": "18:00", "closes": "08:00"}, "closes"),
        ("/{id}/vehicles", {**VAN, "capacity_kg": 0}, "capacity_kg"),
        ("/{id}/vehicles", {**VAN, "shift_end": "07:00"}, "shift_end"),
        ("/{id}/vehicles", {**VAN, "weekdays": "118"}, "weekdays"),
        ("/{id}/zones", {"name": "Z", "lat": 60, "lon": 5, "radius_km": 0}, "radius_km"),
        ("/{id}/slot-templates", {**WINDOW, "capacity": 0}, "capacity"),
        ("/{id}/slot-templates", {**WINDOW, "start": "15:00", "end": "17:00"}, "end"),
        ("/{id}/slot-templates", {**WINDOW, "start": "12:00", "end": "10:00"}, "end"),
        ("/{id}/slot-templates", {**WINDOW, "currency": "kr"}, "currency"),
        ("/{id}/closures", {"day": "2020-01-01"}, "day"),
    ],
)
def test_bad_configuration_is_a_422_naming_the_field(client, auth, depot, path, body, field) -> None:
    response = client.post(
        "/api/v1/depots" + path.format(id=depot.rsplit("/", 1)[1]), json=body, headers=auth
    )
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert field in response.get_json()["errors"]


def test_a_window_outside_every_shift_names_its_times(client, auth, depot) -> None:
    response = client.post(
        f"{depot}/slot-templates", json={**WINDOW, "start": "15:00", "end": "17:00"}, headers=auth
    )
    assert response.get_json()["errors"] == {
        "start": ["The window 15:00-17:00 is not inside any active van's shift on ISO weekday 1."],
        "end": ["The window 15:00-17:00 is not inside any active van's shift on ISO weekday 1."],
    }
    [van] = client.get(f"{depot}/vehicles", headers=auth).get_json()
    shorter = client.patch(f"{depot}/vehicles/{van['id']}", json={"shift_end": "11:00"}, headers=auth)
    assert shorter.status_code == 422 and list(shorter.get_json()["errors"]) == ["shift_end"]
    retired = client.delete(f"{depot}/vehicles/{van['id']}", headers=auth)
    assert retired.status_code == 409 and list(retired.get_json()["errors"]) == ["vehicle"]


def test_booked_deliveries_guard_what_they_depend_on(client, auth, depot) -> None:
    day = open_day()
    hold(client, auth, depot, day)
    hold(client, auth, depot, day)
    [van] = client.get(f"{depot}/vehicles", headers=auth).get_json()
    [window] = client.get(f"{depot}/slot-templates", headers=auth).get_json()
    item = f"{depot}/slot-templates/{window['id']}"

    for url, body, field in [
        (f"{depot}/vehicles/{van['id']}", {"shift_start": "09:00"}, "shift_start"),
        (item, {"capacity": 1}, "capacity"),
        (item, {"start": "10:30"}, "start"),
        (depot, {"lat": 60.0}, "lat"),
    ]:
        response = client.patch(url, json=body, headers=auth)
        assert (response.status_code, list(response.get_json()["errors"])) == (409, [field])
    closure = client.post(f"{depot}/closures", json={"day": day.isoformat()}, headers=auth)
    assert closure.status_code == 409
    assert closure.get_json()["errors"] == {"day": [f"2 deliveries are booked on {day}; release them first."]}
    assert client.delete(item, headers=auth).status_code == 409
    assert client.delete(depot, headers=auth).status_code == 409

    raised = client.patch(item, json={"capacity": 4, "lead_minutes": 60}, headers=auth)
    assert raised.status_code == 200
    assert [s["remaining"] for s in offers(client, auth, day)] == [2]
    renamed = client.patch(f"{depot}/vehicles/{van['id']}", json={"name": "Van B"}, headers=auth)
    assert renamed.get_json()["name"] == "Van B"


def test_another_shops_configuration_is_invisible(client, auth, depot) -> None:
    _, other_key = make_shop("Other shop")
    other = {"Authorization": f"Bearer {other_key}"}
    assert client.get(depot, headers=other).status_code == 404
    assert client.get(f"{depot}/vehicles", headers=other).status_code == 404
    assert client.get("/api/v1/depots", headers=other).get_json() == []
    service = {
        "depot_id": int(depot.rsplit("/", 1)[1]),
        "carrier": "ups",
        "service": "x",
        "label": "x",
        "price": "1",
    }
    response = client.post("/api/v1/carrier-services", json=service, headers=other)
    assert (response.status_code, list(response.get_json()["errors"])) == (422, ["depot_id"])


def test_an_unused_depot_is_deleted_with_everything_under_it(client, auth, depot) -> None:
    assert client.delete(depot, headers=auth).status_code == 204
    assert client.get(depot, headers=auth).status_code == 404
    assert client.get("/api/v1/depots", headers=auth).get_json() == []


def test_times_with_a_utc_offset_are_refused_not_stored_without_it(client, auth) -> None:
    for field in ("opens", "order_cutoff"):
        response = client.post("/api/v1/depots", json={**DEPOT, field: "07:00+05:00"}, headers=auth)
        assert response.status_code == 422
        assert field in response.get_json()["errors"]
    assert client.get("/api/v1/depots", headers=auth).get_json() == []
