"""A shop's own fleet for the demo, tests and benchmarks, and a stream of demo bookings."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select

from app.delivery.depot_days import Parcel, local_today, templates_on
from app.delivery.geocoding import locate
from app.delivery.reservations import confirm, hold_slot
from app.demo.shop import DEMO_SHOP_NAME
from app.errors import DomainError
from app.extensions import db
from app.models import CarrierService, DeliveryZone, Depot, Reservation, Shop, SlotTemplate, Vehicle
from app.models.types import utcnow
from planning.geo import Point
from planning.geo_sandbox import Gazetteer

ALNABRU = Point(59.9326, 10.8420)  # the freight terminal east of Oslo
OSLO_CENTRE = Point(59.9139, 10.7522)
TWO_HOUR_WINDOWS = tuple((time(h), time(h + 2)) for h in range(8, 20, 2))


def create_fleet(
    shop: Shop,
    *,
    vans: int = 4,
    capacity_kg: int = 400,
    slot_capacity: int = 20,
    base_price: Decimal = Decimal("99"),
    lead_minutes: int = 240,
    windows: tuple[tuple[time, time], ...] = TWO_HOUR_WINDOWS,
    zone_radius_km: float = 15.0,
) -> Depot:
    """An Oslo depot with `vans` vans (07–21), a zone around the city and slot templates (flushed)."""
    depot = Depot(
        shop_id=shop.id,
        name="Oslo Alnabru",
        lat=ALNABRU.lat,
        lon=ALNABRU.lon,
        country="NO",
        postcode="0668",
        timezone="Europe/Oslo",
        opens=time(7),
        closes=time(21),
        order_cutoff=time(22),
        cutoff_days_before=1,
        service_seconds=180,
    )
    db.session.add(depot)
    db.session.flush()
    for k in range(vans):
        db.session.add(
            Vehicle(
                depot_id=depot.id,
                name=f"Van {k + 1}",
                capacity_kg=capacity_kg,
                shift_start=time(7),
                shift_end=time(21),
                fixed_cost=5.0,
            )
        )
    db.session.add(
        DeliveryZone(
            depot_id=depot.id, name="Oslo", lat=OSLO_CENTRE.lat, lon=OSLO_CENTRE.lon, radius_km=zone_radius_km
        )
    )
    for start, end in windows:
        db.session.add(
            SlotTemplate(
                depot_id=depot.id,
                start=start,
                end=end,
                capacity=slot_capacity,
                base_price=base_price,
                currency="NOK",
                lead_minutes=lead_minutes,
            )
        )
    for carrier, service, label, price, cutoff, days in (
        ("bring", "standard", "Bring Home Delivery", Decimal("79"), time(15), 1),
        ("postnord", "parcel", "PostNord MyPack", Decimal("59"), time(14), 2),
    ):
        db.session.add(
            CarrierService(
                shop_id=shop.id,
                depot_id=depot.id,
                carrier=carrier,
                service=service,
                label=label,
                price=price,
                currency="NOK",
                cutoff=cutoff,
                transit_days=days,
            )
        )
    db.session.flush()
    db.session.refresh(depot)
    return depot


def seed_demo_fleet(shop: Shop, *, bookings_per_day: int = 30, days: int = 3, seed: int = 7) -> Depot:
    """The demo shop's fleet and some bookings for the next days, created once (commits).

    Addresses are geocoded, so the geocoder (the local gazetteer in the embedded mode) must be running.
    """
    existing = db.session.scalar(select(Depot).where(Depot.shop_id == shop.id))
    if existing is not None:
        return existing
    depot = create_fleet(shop)
    db.session.commit()
    rng, now = random.Random(seed), utcnow()
    first = local_today(depot, now) + timedelta(days=1)
    for k in range(days):
        seed_bookings(depot, first + timedelta(days=k), bookings_per_day, rng=rng, now=now)
    return depot


def seed_bookings(depot: Depot, day: date, count: int, *, rng: random.Random, now: datetime) -> int:
    """Book up to `count` confirmed random deliveries on a day, one transaction each; returns how many."""
    made = 0
    for _ in range(3 * count):
        if made == count:
            break
        if book_random_order(depot, rng, now=now, days=[day], confirm_share=1.0) is not None:
            made += 1
        db.session.commit()
    return made


def book_random_order(
    depot: Depot, rng: random.Random, *, now: datetime, days: list[date], confirm_share: float = 0.8
) -> Reservation | None:
    """Hold a random Oslo address in a random open window of one of `days`, confirming most holds.

    Returns None when that window cannot take it (full, closed, no route): a real checkout would too.
    """
    address = rng.choice(Gazetteer().addresses("Oslo", 400, seed="demo-stream"))
    place = locate(address)
    day = rng.choice(days)
    templates = templates_on(depot, day)
    if place is None or not templates:
        return None
    template = rng.choice(templates)
    parcel = Parcel(round(rng.uniform(0.5, 12.0), 1), round(rng.uniform(1.0, 40.0), 1))
    try:
        reservation = hold_slot(
            depot.shop_id, template.id, day, place.point, parcel, now=now, address=place.label
        )
    except DomainError:
        db.session.rollback()
        return None
    if rng.random() < confirm_share:
        confirm(reservation, now=now, shipment_id=None, order_ref=f"DEMO-{reservation.id}")
    return reservation


def book_demo_order() -> int:
    """Job for the embedded demo: one booking for the demo fleet's next days (returns bookings made)."""
    depot = db.session.scalar(
        select(Depot).join(Shop, Depot.shop_id == Shop.id).where(Shop.name == DEMO_SHOP_NAME).limit(1)
    )
    if depot is None:
        return 0
    now = utcnow()
    first = local_today(depot, now) + timedelta(days=1)
    made = book_random_order(
        depot, random.Random(), now=now, days=[first + timedelta(days=k) for k in range(3)]
    )
    db.session.commit()
    return int(made is not None)
