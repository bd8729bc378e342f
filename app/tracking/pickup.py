"""A shipment's pickup point as the carrier described it, and when it must be collected by."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from babel import Locale

from app.models import Shipment
from carriers.model import PickupPoint
from carriers.serialize import pickup_from_dict


def shipment_pickup(shipment: Shipment) -> PickupPoint | None:
    """The pickup point the carrier last named for this shipment, or None."""
    return pickup_from_dict(shipment.pickup_point) if shipment.pickup_point else None


def pickup_address(point: PickupPoint, locale: str | None = None) -> str:
    """One line: street, postcode and city, and the country in `locale`'s words (none without a locale)."""
    country = Locale.parse(locale).territories.get(point.country, "") if locale and point.country else ""
    place = " ".join(part for part in (point.postcode, point.city) if part)
    return ", ".join(part for part in (point.street, place, country) if part)


def collect_by(
    shipment: Shipment, point: PickupPoint | None, hold_days: int, now: datetime
) -> date | datetime:
    """The carrier's last day before return, else (waiting since the status change) + the usual hold."""
    if point is not None and point.last_day is not None:
        return point.last_day
    return (shipment.status_changed_at or now) + timedelta(days=hold_days)
