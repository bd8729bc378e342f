"""DHL – Shipment Tracking Unified (`/track/shipments`, API key header)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from carriers.base import Carrier, Result
from carriers.errors import MalformedPayload, TrackingNotFound, error_from_body
from carriers.model import Reason, Status, TrackingUpdate
from carriers.normalize import Code, RawEvent, finish_update, join_location, lookup
from carriers.payload import collect, dig, load_json, objects, parser, require_object, text
from carriers.timeparse import parse_date, parse_iso, zone_for

CODE = "dhl"
DEFAULT_BASE_URL = "https://api-eu.dhl.com"
DEFAULT_ZONE = "Europe/Berlin"

CODES: dict[str, Code] = {
    "PRE-TRANSIT": Code(Status.INFO_RECEIVED),
    "TRANSIT": Code(Status.IN_TRANSIT),
    "DELIVERED": Code(Status.DELIVERED),
    "FAILURE": Code(Status.EXCEPTION),
    "UNKNOWN": Code(Status.UNKNOWN),
}
# statusCode is coarse: in `transit` and `failure` the short status / description tells more (FORMATS §12).
TRANSIT_KEYWORDS: tuple[tuple[tuple[str, ...], Code], ...] = (
    (
        ("out for delivery", "with delivery courier", "zustellung", "in delivery"),
        Code(Status.OUT_FOR_DELIVERY),
    ),
    (
        (
            "ready for pickup",
            "ready for collection",
            "available for pickup",
            "packstation",
            "parcel shop",
            "service point",
        ),
        Code(Status.AVAILABLE_FOR_PICKUP),
    ),
    (("customs", "clearance"), Code(Status.IN_TRANSIT, Reason.CUSTOMS)),
)
FAILURE_KEYWORDS: tuple[tuple[tuple[str, ...], Code], ...] = (
    (("return",), Code(Status.RETURNING)),
    (
        ("attempt", "not delivered", "unsuccessful", "not at home", "recipient not"),
        Code(Status.FAILED_ATTEMPT),
    ),
    (("refused",), Code(Status.EXCEPTION, Reason.REFUSED)),
    (("damage",), Code(Status.EXCEPTION, Reason.DAMAGED)),
    (("address",), Code(Status.EXCEPTION, Reason.ADDRESS_PROBLEM)),
)


def status_meaning(record: dict[str, Any]) -> Code | None:
    """Map `statusCode`, refined by the short status and description for `transit` / `failure`."""
    code = text(record.get("statusCode"))
    meaning = lookup(CODES, code)
    refinements = {"TRANSIT": TRANSIT_KEYWORDS, "FAILURE": FAILURE_KEYWORDS}.get(code.upper(), ())
    words = " ".join(text(record.get(k)) for k in ("status", "description")).replace("_", " ").lower()
    for keywords, refined in refinements:
        if any(keyword in words for keyword in keywords):
            return refined
    return meaning


def _address(record: dict[str, Any]) -> dict[str, Any]:
    address = dig(record, "location", "address")
    return address if isinstance(address, dict) else {}


def _event(raw: dict[str, Any], fallback_country: str) -> RawEvent:
    address = _address(raw)
    country = text(address.get("countryCode")) or fallback_country
    occurred_at, assumed = parse_iso(text(raw.get("timestamp")), zone_for(country, DEFAULT_ZONE))
    return RawEvent(
        occurred_at=occurred_at,
        code=text(raw.get("statusCode")),
        meaning=status_meaning(raw),
        description=text(raw.get("description")) or text(raw.get("status")) or text(raw.get("remark")),
        location=join_location(
            f"{text(address.get('postalCode'))} {text(address.get('addressLocality'))}",
            text(address.get("countryCode")),
        ),
        tz_assumed=assumed,
    )


def _shipment(shipment: dict[str, Any]) -> TrackingUpdate:
    number = text(shipment.get("id"))
    if not number:
        raise MalformedPayload("dhl shipment without id")
    fallback_country = text(dig(shipment, "destination", "address", "countryCode")) or text(
        dig(shipment, "origin", "address", "countryCode")
    )
    warnings: list[str] = []
    events = collect(objects(shipment.get("events")), lambda raw: _event(raw, fallback_country), warnings)
    status = shipment.get("status") if isinstance(shipment.get("status"), dict) else None
    summary = (
        (text(status.get("statusCode")), status_meaning(status))
        if status and status.get("statusCode")
        else None
    )
    return finish_update(
        CODE,
        number,
        events,
        newest_first=True,
        summary=summary,
        estimated_delivery=parse_date(shipment.get("estimatedTimeOfDelivery"))
        or parse_date(dig(shipment, "estimatedDeliveryTimeFrame", "estimatedThrough")),
        carrier_ref=text(shipment.get("service")) or None,
        warnings=warnings,
    )


@parser
def parse_tracking(body: bytes | str) -> list[Result]:
    """Parse a Unified tracking answer (or its RFC 7807 problem body)."""
    payload = require_object(load_json(body), "dhl: answer")
    if "shipments" not in payload and ("title" in payload or "status" in payload):
        raise error_from_body(
            CODE, payload.get("status"), f"{text(payload.get('title'))}: {text(payload.get('detail'))}"
        )
    if not isinstance(payload.get("shipments"), list):
        raise MalformedPayload("dhl: no shipments array")
    updates: list[Result] = [_shipment(s) for s in objects(payload["shipments"])]
    if not updates:
        raise TrackingNotFound("dhl: no shipments")
    return updates


class DhlCarrier(Carrier):
    """`GET /track/shipments?trackingNumber=…` with header `DHL-API-Key`; 1 call/s on the starter plan."""

    code = CODE
    display_name = "DHL"
    default_base_url = DEFAULT_BASE_URL
    batch_size = 1
    default_rate_per_second = 1.0
    required_credentials = ("api_key",)
    parse = staticmethod(parse_tracking)

    def fetch(self, numbers: Sequence[str]) -> bytes:
        """One number per call; DHL answers every business unit that knows it."""
        headers = {"DHL-API-Key": self.credential("api_key"), "Accept": "application/json"}
        params = {"trackingNumber": numbers[0], "language": self.settings.language}
        return self.call("GET", "/track/shipments", headers=headers, params=params).content
