"""When and where the parcel arrives, for the tracking page: the arrival window in words (the same
wording as the messages, `notifications.arrival`) and the pickup point a parcel waits at."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from babel import Locale
from flask_babel import format_date

from app.models import Shipment
from app.notify.triggers import eta_window, pickup_details
from carriers.model import TERMINAL_STATUSES, Status
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


def pickup_point(shipment: Shipment, language: str, now: datetime) -> dict | None:
    """Where a parcel ready for pickup waits (the carrier's pickup scan), until when, and a map link."""
    if shipment.status != Status.AVAILABLE_FOR_PICKUP:
        return None
    details = pickup_details(shipment, now)
    name = details["pickup_point"]
    if not name:
        return None
    country = Locale.parse("en").territories.get(shipment.destination_country or "")
    query = f"{name}, {country}" if country else name
    return {
        "name": name,
        "deadline": format_date(details["pickup_deadline"], DAY_PATTERNS[language]),
        "map_url": f"{MAP_SEARCH_URL}?{urlencode({'query': query})}",
    }
