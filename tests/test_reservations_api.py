"""Slot holds: hold, confirm, release, expiry, and no overbooking under real concurrency."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.delivery.reservations import expire_holds
from app.demo.fleet import create_fleet
from app.extensions import db
from app.models import Reservation, RoutePlan, Shop, Slot, VanLoad
from app.models.types import utcnow
from planning.calendar import holiday_name
from tests.factories import make_shipment, make_shop

OSLO = ZoneInfo("Europe/Oslo")
NEAR = {"lat": 59.92, "lon": 10.75}


@dataclass(frozen=True)
class Fleet:
    template_id: int  # the 10:00-12:00 window
    van_ids: list[int]


@pytest.fixture
def depot(app, shop_key) -> Fleet:
    depot = create_fleet(db.session.get(Shop, shop_key[0].id), vans=2, slot_capacity=5)
    db.session.commit()
    return Fleet(depot.templates[1].id, [v.id for v in depot.vehicles])


def delivery_day():
    day = datetime.now(OSLO).date() + timedelta(days=2)
    while holiday_name(day, "NO"):
        day += timedelta(days=1)
    return day


def hold_body(depot: Fleet, **overrides) -> dict:
    body = {
        "template_id": depot.template_id,
        "date": delivery_day().isoformat(),
        "coordinates": NEAR,
        "parcel": {"weight_kg": 4.2},
    }
    body.update(overrides)
    return body


def counters(depot: Fleet) -> tuple[int, int, list[int], dict]:
    db.session.commit()  # end the read transaction: see what the requests committed
    slot = db.session.scalar(select(Slot).where(Slot.template_id == depot.template_id))
    loads = [v.load for v in db.session.scalars(select(VanLoad).order_by(VanLoad.vehicle_id))]
    plan = db.session.scalar(select(RoutePlan))
    return slot.held, slot.booked, loads, plan.sequences


def test_hold_confirm_and_release(client, auth, depot, shop_key) -> None:
    before = utcnow()
    response = client.post("/api/v1/reservations", json=hold_body(depot, order_ref="A-1"), headers=auth)
    assert response.status_code == 201
    held = response.get_json()
    day = delivery_day()
    assert (held["state"], held["date"], held["start"], held["end"], held["order_ref"]) == (
        "held",
        day.isoformat(),
        datetime.combine(day, time(10), OSLO).isoformat(),
        datetime.combine(day, time(12), OSLO).isoformat(),
        "A-1",
    )
    expires = datetime.fromisoformat(held["expires_at"])
    assert before + timedelta(seconds=900) <= expires <= utcnow() + timedelta(seconds=900)
    reservation_id = db.session.scalar(select(Reservation.id))
    assert counters(depot) == (1, 0, [5, 0], {str(depot.van_ids[0]): [str(reservation_id)]})

    shipment = make_shipment(shop_key[0])
    confirmed = client.post(
        f"/api/v1/reservations/{held['id']}/confirm", json={"shipment_id": shipment.id}, headers=auth
    )
    assert confirmed.status_code == 200
    assert (confirmed.get_json()["state"], confirmed.get_json()["shipment_id"]) == ("confirmed", shipment.id)
    assert counters(depot)[:3] == (0, 1, [5, 0])
    again = client.post(f"/api/v1/reservations/{held['id']}/confirm", json={}, headers=auth)
    assert again.status_code == 200 and counters(depot)[:2] == (0, 1)

    assert client.delete(f"/api/v1/reservations/{held['id']}", headers=auth).status_code == 204
    assert client.get(f"/api/v1/reservations/{held['id']}", headers=auth).get_json()["state"] == "released"
    assert counters(depot) == (0, 0, [0, 0], {})


def test_expired_holds_are_released_by_the_job_and_cannot_be_confirmed(client, auth, depot) -> None:
    held = client.post("/api/v1/reservations", json=hold_body(depot), headers=auth).get_json()
    assert expire_holds(utcnow()) == 0
    assert expire_holds(utcnow() + timedelta(seconds=901)) == 1
    assert counters(depot) == (0, 0, [0, 0], {})
    response = client.post(f"/api/v1/reservations/{held['id']}/confirm", json={}, headers=auth)
    assert response.status_code == 409
    assert client.get(f"/api/v1/reservations/{held['id']}", headers=auth).get_json()["state"] == "expired"


def test_idempotent_retry_returns_the_same_hold(client, auth, depot) -> None:
    headers = {**auth, "Idempotency-Key": "checkout-42"}
    first = client.post("/api/v1/reservations", json=hold_body(depot), headers=headers)
    second = client.post("/api/v1/reservations", json=hold_body(depot), headers=headers)
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.get_json()["id"] == second.get_json()["id"]
    assert counters(depot)[0] == 1


@pytest.mark.parametrize(
    ("overrides", "status", "field"),
    [
        ({"date": "2020-01-01"}, 422, "date"),
        ({"template_id": 999999}, 422, "template_id"),
        ({"coordinates": {"lat": 60.39, "lon": 5.32}}, 422, "coordinates"),
        ({"parcel": {"weight_kg": 401}}, 422, "parcel"),
        ({"date": "not-a-date"}, 422, "date"),
        ({"date": "2099-01-01"}, 422, "date"),  # beyond the days checkout offers
    ],
)
def test_bad_holds_name_the_field_and_hold_nothing(client, auth, depot, overrides, status, field) -> None:
    response = client.post("/api/v1/reservations", json=hold_body(depot, **overrides), headers=auth)
    assert response.status_code == status
    assert field in response.get_json()["errors"]
    assert db.session.scalar(select(Reservation.id)) is None


def test_a_full_slot_is_a_409(client, auth, depot) -> None:
    for _ in range(5):
        assert client.post("/api/v1/reservations", json=hold_body(depot), headers=auth).status_code == 201
    response = client.post("/api/v1/reservations", json=hold_body(depot), headers=auth)
    assert response.status_code == 409
    assert response.get_json()["reason"] == "full"


def test_fifty_concurrent_checkouts_never_overbook_a_slot_of_five(app, auth, depot) -> None:
    body = hold_body(depot)
    barrier = threading.Barrier(50)
    statuses: list[int] = []
    ids: list[str] = []
    lock = threading.Lock()

    def checkout() -> None:
        client = app.test_client()
        barrier.wait()
        response = client.post("/api/v1/reservations", json=body, headers=auth)
        confirmed = None
        if response.status_code == 201:
            confirmed = client.post(
                f"/api/v1/reservations/{response.get_json()['id']}/confirm", json={}, headers=auth
            )
        with lock:
            statuses.append(response.status_code)
            if confirmed is not None and confirmed.status_code == 200:
                ids.append(response.get_json()["id"])

    threads = [threading.Thread(target=checkout) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201] * 5 + [409] * 45
    assert len(ids) == 5
    held, booked, loads, sequences = counters(depot)
    assert (held, booked, sum(loads)) == (0, 5, 25)
    assert sorted(s for seq in sequences.values() for s in seq) == sorted(
        str(r.id) for r in db.session.scalars(select(Reservation).where(Reservation.state == "confirmed"))
    )


def test_reservations_are_listed_by_state_and_day(client, auth, depot, shop_key) -> None:
    first = client.post("/api/v1/reservations", json=hold_body(depot, order_ref="A"), headers=auth).get_json()
    second = client.post(
        "/api/v1/reservations", json=hold_body(depot, order_ref="B"), headers=auth
    ).get_json()
    client.post(f"/api/v1/reservations/{first['id']}/confirm", json={}, headers=auth)
    later = (delivery_day() + timedelta(days=1)).isoformat()

    def listed(query: str) -> tuple[list[tuple[str, str]], int]:
        response = client.get(f"/api/v1/reservations{query}", headers=auth)
        assert response.status_code == 200
        page = response.get_json()
        return [(r["order_ref"], r["state"]) for r in page["items"]], page["total"]

    assert listed("") == ([("B", "held"), ("A", "confirmed")], 2)
    assert listed("?state=confirmed") == ([("A", "confirmed")], 1)
    assert listed(f"?date={delivery_day().isoformat()}&state=held") == ([("B", "held")], 1)
    assert listed(f"?date={later}") == ([], 0)
    assert listed("?per_page=1&page=2") == ([("A", "confirmed")], 2)
    assert client.get("/api/v1/reservations?state=lost", headers=auth).get_json()["errors"] == {
        "state": ["Must be one of: held, confirmed, released, expired."]
    }
    _, other_key = make_shop("Other shop")
    other = client.get("/api/v1/reservations", headers={"Authorization": f"Bearer {other_key}"})
    assert (other.get_json()["items"], second["state"]) == ([], "held")
