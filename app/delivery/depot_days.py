"""A shop's own fleet as the planner sees it: which depots serve a point, which days and windows are open,
and each depot-day's plan loaded from the database (cached per process by the plan's version)."""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from app.database import insert_ignoring_conflicts
from app.errors import InvalidInput
from app.extensions import db
from app.models import Depot, Reservation, RoutePlan, Slot, SlotTemplate, VanLoad, Vehicle
from app.models.planning import ACTIVE_STATES
from app.models.types import utcnow
from planning.calendar import holiday_name
from planning.geo import Point, TravelModel, haversine_km
from planning.options import Pricing, SlotWindow
from planning.routing.day_plan import BookedStop, DayPlan, Van, build_day

# Per-process cache of built day plans, keyed by the plan row's version: a derived copy, never shared state.
_CACHE_SIZE = 64
_cache: OrderedDict[tuple, DayPlan] = OrderedDict()
_cache_lock = threading.Lock()


@dataclass(frozen=True)
class Parcel:
    """What is delivered: weight and volume, and the chargeable kg vans carry (volumetric 5 litres per kg)."""

    weight_kg: float
    volume_l: float = 0.0

    @property
    def demand(self) -> int:
        """Whole chargeable kilograms (at least 1)."""
        return max(1, -int(-max(self.weight_kg, self.volume_l / 5.0) // 1))


def require_parcel_fits(depots: list[Depot], parcel: Parcel) -> None:
    """Refuse (InvalidInput naming `parcel`) a parcel heavier than every active van of the shop's depots."""
    largest = max((v.capacity_kg for d in depots for v in d.vehicles if v.active), default=None)
    if largest is not None and parcel.demand > largest:
        message = f"The parcel counts as {parcel.demand} kg; the largest van carries {largest} kg."
        raise InvalidInput(message, errors={"parcel": message})


def travel_model() -> TravelModel:
    """The road model from config."""
    config = current_app.config
    return TravelModel(config["ROUTING_SPEED_KMH"], config["ROUTING_DETOUR_FACTOR"])


def pricing() -> Pricing:
    """Marginal-cost pricing from config."""
    config = current_app.config
    return Pricing(
        per_km=Decimal(config["PRICE_PER_KM"]),
        max_discount=Decimal(config["PRICE_MAX_DISCOUNT"]),
        max_surcharge=Decimal(config["PRICE_MAX_SURCHARGE"]),
    )


def at(depot: Depot, day: date, moment: time) -> datetime:
    """A local time at the depot on a day, aware."""
    return datetime.combine(day, moment, ZoneInfo(depot.timezone))


def local_today(depot: Depot, now: datetime) -> date:
    """The depot's local date at `now`."""
    return now.astimezone(ZoneInfo(depot.timezone)).date()


def shop_depots(shop_id: int) -> list[Depot]:
    """The shop's depots with their zones, vans, windows and closures loaded."""
    return list(
        db.session.scalars(
            select(Depot)
            .where(Depot.shop_id == shop_id)
            .options(
                selectinload(Depot.zones),
                selectinload(Depot.vehicles),
                selectinload(Depot.templates),
                selectinload(Depot.closures),
            )
            .order_by(Depot.id)
        )
    )


def serving_depots(depots: list[Depot], point: Point) -> list[Depot]:
    """The depots with a zone containing the point, nearest first."""
    serving = [
        d for d in depots if any(haversine_km(Point(z.lat, z.lon), point) <= z.radius_km for z in d.zones)
    ]
    return sorted(serving, key=lambda d: haversine_km(Point(d.lat, d.lon), point))


def closed_reason(depot: Depot, day: date) -> str | None:
    """Why the depot does not deliver on a day (closure or public holiday), or None."""
    for closure in depot.closures:
        if closure.day == day:
            return closure.reason
    holiday = holiday_name(day, depot.country)
    return f"public holiday: {holiday}" if holiday else None


def working_vans(depot: Depot, day: date) -> list[Van]:
    """The depot's vans working on a day, with their shifts."""
    weekday = str(day.isoweekday())
    return [
        Van(
            str(v.id), v.capacity_kg, at(depot, day, v.shift_start), at(depot, day, v.shift_end), v.fixed_cost
        )
        for v in depot.vehicles
        if v.active and weekday in v.weekdays
    ]


def templates_on(depot: Depot, day: date) -> list[SlotTemplate]:
    """The depot's slot templates in use on a day."""
    weekday = str(day.isoweekday())
    return [t for t in depot.templates if weekday in t.weekdays]


def slot_window(depot: Depot, template: SlotTemplate, day: date, taken: int = 0) -> SlotWindow:
    """A template's window on a day; orders close at the earlier of the lead time and the depot's cut-off."""
    start, end = at(depot, day, template.start), at(depot, day, template.end)
    cutoff = at(depot, day - timedelta(days=depot.cutoff_days_before), depot.order_cutoff)
    closes = min(start - timedelta(minutes=template.lead_minutes), cutoff)
    return SlotWindow(str(template.id), start, end, template.capacity, taken, template.base_price, closes)


def taken_counts(template_ids: list[int], days: list[date]) -> dict[tuple[int, date], int]:
    """Held + booked per (template, day), for the slots that exist."""
    if not template_ids or not days:
        return {}
    rows = db.session.execute(
        select(Slot.template_id, Slot.day, Slot.held + Slot.booked).where(
            Slot.template_id.in_(template_ids), Slot.day.in_(days)
        )
    )
    return {(template_id, day): taken for template_id, day, taken in rows}


@dataclass(frozen=True)
class PlanRef:
    """Which plan row a depot-day has, at which version: enough to find its prepared copy in the cache."""

    id: int
    version: str


def plan_refs(depot_ids: list[int], days: list[date]) -> dict[tuple[int, date], PlanRef]:
    """The existing plan rows of some depot-days, without their sequences."""
    if not depot_ids or not days:
        return {}
    rows = db.session.execute(
        select(RoutePlan.depot_id, RoutePlan.day, RoutePlan.id, RoutePlan.version).where(
            RoutePlan.depot_id.in_(depot_ids), RoutePlan.day.in_(days)
        )
    )
    return {(depot_id, day): PlanRef(plan_id, version) for depot_id, day, plan_id, version in rows}


def _cache_key(depot: Depot, day: date, ref: PlanRef) -> tuple:
    """The plan version and everything else the prepared day is built from (so a setup change misses)."""
    setup = (depot.opens, depot.closes, depot.timezone, depot.service_seconds, depot.lat, depot.lon)
    weekday = str(day.isoweekday())
    vans = tuple(
        (v.id, v.capacity_kg, v.shift_start, v.shift_end, v.fixed_cost)
        for v in depot.vehicles
        if v.active and weekday in v.weekdays
    )
    return (ref.id, ref.version, day, setup, vans, travel_model())


def _cached(key: tuple) -> DayPlan | None:
    with _cache_lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
        return found


def _remember(key: tuple, built: DayPlan) -> None:
    with _cache_lock:
        _cache[key] = built
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)


def cached_day(depot: Depot, day: date, ref: PlanRef | None) -> DayPlan:
    """The depot-day's plan for checkout: the prepared copy of this version, read from the database if missing."""
    if ref is None:
        return load_day(depot, day, None)
    return _cached(_cache_key(depot, day, ref)) or load_day(depot, day, db.session.get(RoutePlan, ref.id))


def load_day(depot: Depot, day: date, row: RoutePlan | None) -> DayPlan:
    """The depot-day's problem and current plan (from the cache when the plan row's version is known)."""
    key = _cache_key(depot, day, PlanRef(row.id, row.version)) if row is not None else None
    found = _cached(key) if key is not None else None
    if found is not None:
        return found
    hours = (at(depot, day, depot.opens), at(depot, day, depot.closes))
    stops = booked_stops(depot, day) if row is not None else []
    sequences = row.sequences if row is not None else {}
    built = build_day(
        at(depot, day, time(0)),
        Point(depot.lat, depot.lon),
        hours,
        working_vans(depot, day),
        stops,
        sequences,
        travel_model(),
    )
    if key is not None:
        _remember(key, built)
    return built


def booked_stops(depot: Depot, day: date) -> list[BookedStop]:
    """The held and confirmed deliveries of a depot-day."""
    rows = db.session.execute(
        select(
            Reservation.id,
            Reservation.lat,
            Reservation.lon,
            Reservation.demand,
            SlotTemplate.start,
            SlotTemplate.end,
        )
        .join(Slot, Reservation.slot_id == Slot.id)
        .join(SlotTemplate, Slot.template_id == SlotTemplate.id)
        .where(Reservation.depot_id == depot.id, Reservation.day == day, Reservation.state.in_(ACTIVE_STATES))
        .order_by(Reservation.id)
    )
    return [
        BookedStop(
            str(rid),
            Point(lat, lon),
            demand,
            at(depot, day, start),
            at(depot, day, end),
            depot.service_seconds,
        )
        for rid, lat, lon, demand, start, end in rows
    ]


def lock_day(depot: Depot, day: date) -> RoutePlan:
    """Take the depot-day's plan row for a change (created if missing), serialising changes across processes.

    The UPDATE holds the row (PostgreSQL) or the write lock (SQLite) until the caller's transaction ends.
    """
    now = utcnow()
    insert_ignoring_conflicts(
        RoutePlan,
        [
            {
                "depot_id": depot.id,
                "day": day,
                "revision": 0,
                "sequences": {},
                "version": new_version(),
                "changed_at": now,
            }
        ],
    )
    db.session.execute(
        update(RoutePlan)
        .where(RoutePlan.depot_id == depot.id, RoutePlan.day == day)
        .values(revision=RoutePlan.revision + 1, version=new_version(), changed_at=now)
    )
    return db.session.scalars(
        select(RoutePlan)
        .where(RoutePlan.depot_id == depot.id, RoutePlan.day == day)
        .execution_options(populate_existing=True)
    ).one()


def record_change(row: RoutePlan, sequences: dict[str, list[str]], distance_km: float) -> None:
    """Store a locked day's new plan under a new version (cached copies of the old one stop matching)."""
    row.sequences = sequences
    row.distance_km = distance_km
    row.version = new_version()


def ensure_day_counters(depot: Depot, day: date, template: SlotTemplate) -> Slot:
    """The template's slot row for the day and every working van's load row (created if missing)."""
    insert_ignoring_conflicts(Slot, [{"template_id": template.id, "day": day, "capacity": template.capacity}])
    vans = [v for v in depot.vehicles if v.active and str(day.isoweekday()) in v.weekdays]
    insert_ignoring_conflicts(
        VanLoad, [{"vehicle_id": v.id, "day": day, "capacity": v.capacity_kg} for v in vans]
    )
    return db.session.scalars(
        select(Slot)
        .where(Slot.template_id == template.id, Slot.day == day)
        .execution_options(populate_existing=True)
    ).one()


def vehicle_of(row: RoutePlan, stop_id: str) -> int | None:
    """The van whose route holds the stop in the stored plan."""
    for vehicle, stops in row.sequences.items():
        if stop_id in stops:
            return int(vehicle)
    return None


def van_names(depot: Depot) -> dict[str, str]:
    """Vehicle id (as in plans) -> name."""
    return {
        str(v.id): v.name for v in db.session.scalars(select(Vehicle).where(Vehicle.depot_id == depot.id))
    }


def new_version() -> str:
    """A fresh random plan version."""
    return uuid.uuid4().hex
