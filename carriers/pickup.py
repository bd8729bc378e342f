"""Reading a pickup point out of any carrier's payload: one set of clean-up rules for every adapter."""

from __future__ import annotations

from typing import Any

from carriers.model import PickupPoint
from carriers.payload import text
from carriers.timeparse import COUNTRY_ALPHA2, parse_date


def pickup_point(
    name: Any,
    *,
    point_id: Any = "",
    street: Any = "",
    postcode: Any = "",
    city: Any = "",
    country: Any = "",
    info_url: Any = "",
    last_day: Any = None,
) -> PickupPoint | None:
    """A PickupPoint from raw payload values; None when the carrier names neither the point nor its place.

    Carriers mix "" and null, send country codes as alpha-2 or alpha-3 and dates in their own formats;
    a link is kept only when it is https (it is shown to customers as a plain link).
    """
    clean_name = text(name)
    if not (clean_name or text(city) or text(postcode)):
        return None
    code = text(country).upper()
    url = text(info_url)
    return PickupPoint(
        name=clean_name,
        point_id=text(point_id),
        street=street_line(street),
        postcode=text(postcode),
        city=text(city),
        country=COUNTRY_ALPHA2.get(code, code if len(code) == 2 else ""),
        info_url=url if url.lower().startswith("https://") else "",
        last_day=parse_date(last_day),
    )


def street_line(value: Any) -> str:
    """One street line from a string or a list of lines (FedEx `streetLines`, UPS `addressLine1..3`)."""
    lines = value if isinstance(value, list) else [value]
    return ", ".join(part for part in (text(line) for line in lines) if part)
