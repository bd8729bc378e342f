"""Registering shipments for tracking: idempotent on shop + carrier + tracking number."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select

from app.errors import InvalidInput
from app.extensions import db
from app.models import Shipment, Shop
from app.models.types import utcnow
from carriers.numbers import detect_carriers

_PLACE_FIELDS = ("postcode", "country", "lat", "lon")
_CUSTOMER_FIELDS = ("name", "email", "phone", "language", "timezone")
_PLAIN_FIELDS = (
    "carrier_ref",
    "service",
    "order_ref",
    "shipped_at",
    "promised_date",
    "declared_value",
    "currency",
    "weight_kg",
)


def resolve_carrier(data: dict, field_path: str = "carrier") -> str:
    """The carrier given, or the one the tracking number's format identifies."""
    if data.get("carrier"):
        return data["carrier"]
    candidates = detect_carriers(data["tracking_number"])
    if len(candidates) == 1:
        return candidates[0]
    detail = (
        f"The tracking number could be {', '.join(candidates)}; say which."
        if candidates
        else "The carrier cannot be recognised from this tracking number; say which."
    )
    raise InvalidInput(
        detail, title="Carrier needed", errors={field_path: detail}, candidates=candidates or None
    )


def _shipment_values(data: dict) -> dict:
    values = {name: data[name] for name in _PLAIN_FIELDS if name in data}
    for place in ("origin", "destination"):
        for name in _PLACE_FIELDS:
            if name in data.get(place, {}):
                values[f"{place}_{name}"] = data[place][name]
    for name in _CUSTOMER_FIELDS:
        if name in data.get("customer", {}):
            values[f"customer_{name}"] = data["customer"][name]
    return values


def _registered(shop_id: int, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Shipment]:
    """The shop's shipments among `keys` (carrier, number), one query per carrier."""
    numbers: dict[str, set[str]] = defaultdict(set)
    for carrier, number in keys:
        numbers[carrier].add(number)
    found: dict[tuple[str, str], Shipment] = {}
    for carrier, wanted in numbers.items():
        query = select(Shipment).where(
            Shipment.shop_id == shop_id, Shipment.carrier == carrier, Shipment.tracking_number.in_(wanted)
        )
        for shipment in db.session.scalars(query):
            found[(shipment.carrier, shipment.tracking_number)] = shipment
    return found


def register_shipments(shop: Shop, items: Sequence[dict]) -> list[tuple[Shipment, bool]]:
    """Create (or return the existing) shipment for each item; validates all before writing any."""
    carriers = [
        resolve_carrier(item, f"shipments.{index}.carrier" if len(items) > 1 else "carrier")
        for index, item in enumerate(items)
    ]
    now = utcnow()
    results: list[tuple[Shipment, bool]] = []
    keys = [(carrier, item["tracking_number"]) for item, carrier in zip(items, carriers, strict=True)]
    seen = _registered(shop.id, keys)
    for item, key in zip(items, keys, strict=True):
        carrier = key[0]
        shipment = seen.get(key)
        created = shipment is None
        if created:
            shipment = Shipment(
                shop_id=shop.id, carrier=carrier, tracking_number=key[1], next_poll_at=now, poll_failures=0
            )
            for name, value in _shipment_values(item).items():
                setattr(shipment, name, value)
            db.session.add(shipment)
        elif shipment.deleted_at is not None:
            shipment.deleted_at = None
            shipment.next_poll_at = now
            created = True
        seen[key] = shipment
        results.append((shipment, created))
    db.session.flush()
    return results


def stop_tracking(shipment: Shipment) -> None:
    """Stop polling and hide the shipment; its history is kept (nothing is lost)."""
    shipment.deleted_at = utcnow()
    shipment.next_poll_at = None
