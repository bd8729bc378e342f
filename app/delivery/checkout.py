"""Delivery options at checkout: own-fleet slots for the next days and carrier services, with reasons.

Never runs the solver: a slot is offered when the stop can be inserted into the day's current plan,
which takes milliseconds; re-optimisation happens in the worker (app/replan.py).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.delivery.depot_days import (
    Parcel,
    cached_day,
    closed_reason,
    local_today,
    plan_refs,
    pricing,
    require_parcel_fits,
    serving_depots,
    shop_depots,
    slot_window,
    taken_counts,
    templates_on,
    working_vans,
)
from app.delivery.geocoding import locate
from app.errors import InvalidInput, Unavailable
from app.extensions import db
from app.models import CarrierService, Depot
from app.risk.scoring import current_model
from planning import carrier_options
from planning.carrier_options import CarrierOffer
from planning.geo import Address, GeocodingError, Point
from planning.options import Explanation, SlotOffer, Why, offer_slots, refuse_all
from planning.prediction.data import Place
from planning.routing.day_plan import BookedStop

# Carrier offers per lane and minute, per process: predicting costs ~10 ms and is the same for neighbours.
_CARRIER_CACHE_SIZE = 512
_carrier_cache: OrderedDict[tuple, tuple] = OrderedDict()
_carrier_lock = threading.Lock()


@dataclass(frozen=True)
class Located:
    """Where the delivery goes, and how we know."""

    point: Point
    label: str
    source: str  # "given" or "geocoded"
    country: str
    postcode: str


@dataclass(frozen=True)
class DayOptions:
    """One depot-day's windows and whether each is offered."""

    depot: Depot
    day: date
    offers: list[SlotOffer]


@dataclass(frozen=True)
class CheckoutOptions:
    """Everything the checkout can offer for one address and parcel."""

    located: Located
    days: list[DayOptions]
    carriers: list[CarrierOffer]
    notes: list[Explanation]


def place_delivery(address: Address | None, coordinates: dict | None) -> Located:
    """Coordinates pass straight through; an address is geocoded (InvalidInput on `address` if not found)."""
    if coordinates is not None:
        point = Point(coordinates["lat"], coordinates["lon"])
        country, postcode = coordinates.get("country", ""), coordinates.get("postcode", "")
        return Located(point, f"{point.lat:.6f}, {point.lon:.6f}", "given", country, postcode)
    try:
        place = locate(address)
    except GeocodingError as error:
        raise Unavailable(
            "The address could not be looked up now; try again.",
            kind="geocoder",
            title="Geocoder unavailable",
        ) from error
    if place is None:
        message = f"We could not find '{address.text()}'. Check the street, postcode and city."
        raise InvalidInput(message, errors={"address": message})
    return Located(place.point, place.label, "geocoded", address.country.upper(), address.postcode)


def delivery_options(
    shop_id: int, located: Located, parcel: Parcel, order_time: datetime, days: int
) -> CheckoutOptions:
    """Own-fleet slots of the nearest serving depot for `days` days from the order, and carrier services."""
    owned = shop_depots(shop_id)
    require_parcel_fits(owned, parcel)
    notes: list[Explanation] = []
    depots = serving_depots(owned, located.point)
    day_options = _depot_days(depots[0], located, parcel, order_time, days) if depots else []
    if not depots:
        notes.append(Explanation(Why.OUTSIDE_ZONE, "none of the shop's own-fleet zones covers this address"))
    return CheckoutOptions(located, day_options, _carriers(shop_id, located, order_time), notes)


def _depot_days(
    depot: Depot, located: Located, parcel: Parcel, order_time: datetime, count: int
) -> list[DayOptions]:
    first = local_today(depot, order_time)
    days = [first + timedelta(days=k) for k in range(count)]
    taken = taken_counts([t.id for t in depot.templates], days)
    refs = plan_refs([depot.id], days)
    prices = pricing()
    found = []
    for day in days:
        windows = [slot_window(depot, t, day, taken.get((t.id, day), 0)) for t in templates_on(depot, day)]
        vans = working_vans(depot, day)
        closed = closed_reason(depot, day)
        if closed:
            offers = refuse_all(windows, Why.NOT_WORKING, f"no deliveries on {day}: {closed}")
        elif not vans:
            offers = refuse_all(windows, Why.NOT_WORKING, f"no van works on {day}")
        elif parcel.demand > max(v.capacity for v in vans):
            offers = refuse_all(
                windows, Why.TOO_HEAVY, f"the parcel ({parcel.demand} kg) exceeds every van on {day}"
            )
        else:
            plan = cached_day(depot, day, refs.get((depot.id, day)))
            stop = BookedStop(
                "new", located.point, parcel.demand, order_time, order_time, depot.service_seconds
            )
            offers = offer_slots(plan, stop, windows, order_time, prices)
        found.append(DayOptions(depot, day, offers))
    return found


def _carriers(shop_id: int, located: Located, order_time: datetime) -> list[CarrierOffer]:
    services = db.session.scalars(
        select(CarrierService)
        .where(CarrierService.shop_id == shop_id)
        .options(joinedload(CarrierService.depot))
        .order_by(CarrierService.id)
    ).all()
    offers = []
    model = current_model()
    # Whole minutes (cut-offs are whole minutes) and ~10 km (a parcel network's transit times do not
    # change within that): one prediction serves every checkout of the area in that minute.
    minute = order_time.replace(second=0, microsecond=0)
    lat, lon = round(located.point.lat, 1), round(located.point.lon, 1)
    for depot_id in dict.fromkeys(s.depot_id for s in services):
        mine = [s for s in services if s.depot_id == depot_id]
        depot = mine[0].depot
        origin = Place(depot.country, depot.postcode, depot.lat, depot.lon)
        destination = Place(located.country or depot.country, located.postcode, lat, lon)
        specs = tuple(
            carrier_options.CarrierService(
                s.carrier, s.service, s.label, s.price, s.currency, s.cutoff, s.transit_days
            )
            for s in mine
        )
        key = (id(model), specs, origin, destination, minute, depot.timezone)
        with _carrier_lock:
            cached = _carrier_cache.get(key)
        if cached is None or cached[0] is not model:
            found = carrier_options.offer_carriers(
                specs, origin, destination, minute, ZoneInfo(depot.timezone), model.predict_many
            )
            cached = (model, found)
            with _carrier_lock:
                _carrier_cache[key] = cached
                while len(_carrier_cache) > _CARRIER_CACHE_SIZE:
                    _carrier_cache.popitem(last=False)
        offers += cached[1]
    return offers
