"""A shipment customer's notification preferences, read and changed by the shop API and the tracking page."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models import CustomerPreference, Shipment, Unsubscribe
from app.notify.channel_settings import parse_clock

QUIET_FIELDS = ("quiet_start", "quiet_end")


class IncompleteQuietHours(ValueError):
    """Only one end of the quiet hours was given."""

    field = "quiet_end"
    message = "Give quiet_start and quiet_end together."


def preference_view(shipment: Shipment) -> dict[str, Any]:
    """The customer's choices (None: the shop's default) and the channels they unsubscribed from."""
    preference = db.session.get(CustomerPreference, shipment.id) or CustomerPreference()
    addresses = [a for a in (shipment.customer_email, shipment.customer_phone) if a]
    unsubscribed = db.session.scalars(
        select(Unsubscribe.channel).where(
            Unsubscribe.shop_id == shipment.shop_id, Unsubscribe.address.in_(addresses)
        )
    ).all()
    return {
        "channels": preference.channels,
        "language": preference.language,
        "quiet_start": preference.quiet_start.strftime("%H:%M") if preference.quiet_start else None,
        "quiet_end": preference.quiet_end.strftime("%H:%M") if preference.quiet_end else None,
        "unsubscribed": sorted(set(unsubscribed)),
    }


def save_preference(shipment: Shipment, data: dict[str, Any]) -> CustomerPreference:
    """Apply `PreferenceSchema`-valid fields (left-out fields keep their value); adds, never commits.

    Raises IncompleteQuietHours when only one end of the quiet hours is given (or set).
    """
    given = [name for name in QUIET_FIELDS if name in data]
    if given and (len(given) == 1 or (data["quiet_start"] is None) != (data["quiet_end"] is None)):
        raise IncompleteQuietHours(IncompleteQuietHours.message)
    preference = db.session.get(CustomerPreference, shipment.id) or CustomerPreference(
        shipment_id=shipment.id
    )
    for name, value in data.items():
        if name in QUIET_FIELDS and value:
            value = parse_clock(value)
        setattr(preference, name, value)
    db.session.add(preference)
    db.session.flush()
    return preference
