"""Re-optimisation: a changed day is re-solved after the debounce, kept only if better and still current."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from app.demo_fleet import create_fleet
from app.extensions import db
from app.fleet import Parcel, record_change
from app.models import Role, RoutePlan, Shop, StaffUser, VanLoad
from app.models.types import utcnow
from app.replan import replan_due_days, solve_day, store_solution, take_lease
from app.reservations import hold_slot
from planning.calendar import holiday_name
from planning.geo import Point

OSLO = ZoneInfo("Europe/Oslo")
# Alternately west and east of the centre, so visiting them in this order zig-zags across the city.
ZIGZAG = [Point(59.92, 10.66 + (0.16 if k % 2 else 0.0) + 0.004 * k) for k in range(8)]


@pytest.fixture
def day_with_zigzag(app, shop_key):
    app.config["REPLAN_TIME_LIMIT_SECONDS"] = 0.5
    depot = create_fleet(db.session.get(Shop, shop_key[0].id), vans=2, windows=((time(8), time(20)),))
    db.session.commit()
    day = datetime.now(OSLO).date() + timedelta(days=2)
    while holiday_name(day, "NO"):
        day += timedelta(days=1)
    now = utcnow()
    ids = [
        str(hold_slot(depot.shop_id, depot.templates[0].id, day, point, Parcel(2.0), now=now).id)
        for point in ZIGZAG
    ]
    row = db.session.scalar(select(RoutePlan))
    van, other = (str(v.id) for v in depot.vehicles)
    record_change(row, {van: ids}, 0.0)  # a poor plan: everything on one van, in zig-zag order
    db.session.execute(update(VanLoad).where(VanLoad.vehicle_id == int(van)).values(load=16))
    db.session.execute(update(VanLoad).where(VanLoad.vehicle_id == int(other)).values(load=0))
    db.session.commit()
    return row.id, ids, depot


def test_a_quiet_changed_day_gets_a_shorter_plan(app, day_with_zigzag) -> None:
    plan_id, ids, depot = day_with_zigzag
    assert replan_due_days(utcnow()) == 0  # bookings changed less than the debounce period ago
    before = solve_day(plan_id, 0.01).day.plan.distance
    row = db.session.get(RoutePlan, plan_id)
    revision = row.revision

    assert replan_due_days(utcnow() + timedelta(seconds=6)) == 1
    db.session.commit()
    row = db.session.get(RoutePlan, plan_id)
    assert (row.revision, row.optimised_revision, row.lease_until) == (revision, revision, None)
    assert sorted(s for seq in row.sequences.values() for s in seq) == sorted(ids)
    assert row.distance_km < before - 5.0
    assert row.optimised_saving_km == pytest.approx(before - row.distance_km)
    loads = {v.vehicle_id: v.load for v in db.session.scalars(select(VanLoad))}
    assert loads == {int(v): 2 * len(seq) for v, seq in row.sequences.items()} | {
        v.id: 0 for v in depot.vehicles if str(v.id) not in row.sequences
    }
    assert replan_due_days(utcnow() + timedelta(seconds=6)) == 0  # nothing changed since


def test_a_result_for_a_day_that_changed_meanwhile_is_discarded(app, day_with_zigzag) -> None:
    plan_id, ids, depot = day_with_zigzag
    now = utcnow()
    assert take_lease(plan_id, now, 60)
    db.session.commit()
    assert not take_lease(plan_id, now, 60)  # a second worker does not get the day
    db.session.rollback()
    solved = solve_day(plan_id, 0.3)
    assert solved.better is not None
    row = db.session.get(RoutePlan, plan_id)
    hold_slot(depot.shop_id, depot.templates[0].id, row.day, Point(59.93, 10.75), Parcel(1.0), now=now)
    db.session.commit()
    assert store_solution(solved, utcnow()) is False
    db.session.commit()
    row = db.session.get(RoutePlan, plan_id)
    assert row.lease_until is None and row.optimised_revision != row.revision
    assert len(next(iter(row.sequences.values()))) >= 8


def test_staff_see_each_days_routes(client, day_with_zigzag) -> None:
    plan_id, ids, depot = day_with_zigzag
    user = StaffUser(email="planner@shop.test", role=Role.VIEWER.value)
    user.set_password("correct horse battery")
    db.session.add(user)
    db.session.commit()
    assert client.get(f"/staff/routes/{plan_id}").status_code == 302  # login first
    client.post("/staff/login", data={"email": "planner@shop.test", "password": "correct horse battery"})
    listing = client.get("/staff/routes/").get_data(as_text=True)
    assert f"/staff/routes/{plan_id}" in listing and "Oslo Alnabru" in listing
    page = client.get(f"/staff/routes/{plan_id}").get_data(as_text=True)
    assert page.count("<h2>Van 1</h2>") == 1 and "Van 2" not in page
    coordinates = [f"{p.lat:.5f}, {p.lon:.5f}" for p in ZIGZAG]
    assert [page.index(c) for c in coordinates] == sorted(page.index(c) for c in coordinates)
    assert client.get("/staff/routes/999999").status_code == 404
