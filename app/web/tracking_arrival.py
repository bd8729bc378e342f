"""When and where the parcel arrives, for the tracking page: the arrival window in words (the same
wording as the messages, `notifications.arrival`) and the pickup point a parcel waits at or goes to: its
address, the carrier's page about it (opening hours), the last day before it goes back, and a plain
OpenStreetMap link (nothing is loaded by the page).

A pickup point's address is not personal data, but one in the customer's own postcode would show the
postcode the page keeps for verified visitors: the caller's `reveal` decides, and the address and the map
then wait for the postcode check.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from babel import Locale
from flask_babel import format_date

from app.models import Shipment
from app.notify.triggers import eta_window, pickup_details
from app.tracking.pickup import pickup_address, shipment_pickup
from carriers.model import TERMINAL_STATUSES, PickupPoint, Status
from notifications.arrival import DAY_PATTERNS, Arrival, arrival_cdf, describe_arrival
from notifications.render import LOCALES

MAP_SEARCH_URL = "https://www.openstreetmap.org/search"


def arrival_text(shipment: Shipment, language: str, zone: ZoneInfo, now: datetime) -> Arrival | None:
    """The predicted window (else the carrier's day) in words; None once the parcel arrived or waits."""
    if shipment.status in TERMINAL_STATUSES or shipment.status == Status.AVAILABLE_FOR_PICKUP:
        return None
    window = eta_window(shipment)
    if window is None:
        return None
    cdf = None
    if shipment.eta_p10 and shipment.eta_p90:
        cdf = arrival_cdf(shipment.eta_p10, shipment.eta_p50, shipment.eta_p90, shipment.p_lost or 0.0)
    return describe_arrival(*window, locale=LOCALES[language], zone=zone, now=now, cdf=cdf)


def pickup_view(
    shipment: Shipment, language: str, now: datetime, reveal: Callable[[PickupPoint], bool]
) -> dict | None:
    """What the page shows about the pickup point; None when the parcel neither waits at nor goes to one."""
    point = shipment_pickup(shipment)
    waiting = shipment.status == Status.AVAILABLE_FOR_PICKUP
    if not waiting and (point is None or shipment.status in TERMINAL_STATUSES):
        return None
    details = pickup_details(shipment, now)
    name = details["pickup_point"]
    if not name:
        return None
    shown = point is None or reveal(point)
    return {
        "waiting": waiting,
        "name": name,
        "address": pickup_address(point, LOCALES[language]) if point and point.name and shown else "",
        "info_url": point.info_url if point else "",
        "deadline": format_date(details["pickup_deadline"], DAY_PATTERNS[language]) if waiting else None,
        "map_url": _map_url(name, point, shipment.destination_country) if shown else "",
        "hidden": not shown,
    }


def _map_url(name: str, point: PickupPoint | None, country: str | None) -> str:
    """An OpenStreetMap search for the point: a plain link, nothing is loaded by the page."""
    if point is not None and point.name:
        query = f"{point.name}, {pickup_address(point, 'en')}"
    else:
        country_name = Locale.parse("en").territories.get(country or "")
        query = f"{name}, {country_name}" if country_name else name
    return f"{MAP_SEARCH_URL}?{urlencode({'query': query})}"
