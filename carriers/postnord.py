"""PostNord – Track & Trace v5 `findByIdentifier` (API key in the query string)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from carriers.base import Carrier, Result
from carriers.errors import MalformedPayload, TrackingNotFound
from carriers.model import PickupPoint, Reason, Status, TrackingUpdate
from carriers.normalize import INFORMATIONAL, Code, RawEvent, finish_update, join_location, lookup
from carriers.payload import collect, dig, load_json, objects, parser, text
from carriers.pickup import pickup_point, street_line
from carriers.timeparse import parse_date, parse_iso, zone_for

CODE = "postnord"
DEFAULT_BASE_URL = "https://api2.postnord.com"
DEFAULT_ZONE = "Europe/Stockholm"

STATUSES: dict[str, Code] = {
    "CREATED": Code(Status.INFO_RECEIVED),
    "INFORMED": Code(Status.INFO_RECEIVED),
    "EN_ROUTE": Code(Status.IN_TRANSIT),
    "DELAYED": Code(Status.IN_TRANSIT, Reason.CARRIER_DELAY),
    "EXPECTED_DELAY": Code(Status.IN_TRANSIT, Reason.CARRIER_DELAY),
    "AVAILABLE_FOR_DELIVERY": Code(Status.AVAILABLE_FOR_PICKUP),
    "AVAILABLE_FOR_DELIVERY_PAR_LOC": Code(Status.AVAILABLE_FOR_PICKUP),
    "DELIVERED": Code(Status.DELIVERED),
    "DELIVERY_IMPOSSIBLE": Code(Status.FAILED_ATTEMPT),
    "DELIVERY_REFUSED": Code(Status.EXCEPTION, Reason.REFUSED),
    "STOPPED": Code(Status.EXCEPTION, Reason.HELD),
    "RETURNED": Code(Status.RETURNING),
    "OTHER": INFORMATIONAL,
}
# eventCode refinements (the catalogue is not public; these are the observed ones).
EVENT_CODES: dict[str, Code] = {
    "68": Code(Status.INFO_RECEIVED),
    "31": Code(Status.IN_TRANSIT),
    "1": Code(Status.AVAILABLE_FOR_PICKUP),
    "Z79": Code(Status.AVAILABLE_FOR_PICKUP),
    "21": Code(Status.DELIVERED),
    "Z08": INFORMATIONAL,
}
OUT_FOR_DELIVERY_WORDS = ("in progress", "loaded", "out for delivery", "on its way to you")


def item_meaning(status: str, event_code: str, description: str, has_service_point: bool) -> Code | None:
    """Status first, eventCode to refine; "available for delivery" without a service point: a delivery run."""
    meaning = lookup(EVENT_CODES, event_code) or lookup(STATUSES, status)
    if (
        meaning is not None
        and meaning.status is Status.AVAILABLE_FOR_PICKUP
        and not has_service_point
        and any(word in description.lower() for word in OUT_FOR_DELIVERY_WORDS)
    ):
        return Code(Status.OUT_FOR_DELIVERY)
    return meaning


def _zone_country(location: dict[str, Any]) -> str:
    return text(location.get("countryCode")) or text(dig(location, "geoLocation", "geoCountryCode"))


def _event(raw: dict[str, Any], has_service_point: bool) -> RawEvent:
    location = raw.get("location") if isinstance(raw.get("location"), dict) else {}
    country = _zone_country(location)
    # eventTime is local Nordic time without offset; the event's country picks the zone.
    occurred_at, assumed = parse_iso(text(raw.get("eventTime")), zone_for(country, DEFAULT_ZONE))
    code, status, description = (
        text(raw.get("eventCode")),
        text(raw.get("status")),
        text(raw.get("eventDescription")),
    )
    return RawEvent(
        occurred_at=occurred_at,
        code=code or status,
        meaning=item_meaning(status, code, description, has_service_point),
        description=description,
        location=join_location(
            text(location.get("displayName")) or text(location.get("name")),
            f"{text(location.get('postcode'))} {text(location.get('city'))}",
            country,
        ),
        tz_assumed=assumed,
    )


def _pickup(shipment: dict[str, Any]) -> PickupPoint | None:
    """The service point of `shipments[].deliveryPoint` (a home delivery has none, or no servicePointType)."""
    point = shipment.get("deliveryPoint")
    if not isinstance(point, dict) or not text(point.get("servicePointType")):
        return None
    address = point.get("address") if isinstance(point.get("address"), dict) else {}
    return pickup_point(
        text(point.get("displayName")) or point.get("name"),
        point_id=point.get("locationId"),
        street=street_line([address.get("street1"), address.get("street2")]),
        postcode=address.get("postCode"),
        city=address.get("city"),
        country=address.get("countryCode"),
    )


def _item(shipment: dict[str, Any], item: dict[str, Any]) -> TrackingUpdate:
    number = text(item.get("itemId"))
    if not number:
        raise MalformedPayload("postnord item without itemId")
    has_service_point = bool(text(dig(shipment, "deliveryPoint", "servicePointType")))
    warnings: list[str] = []
    events = collect(objects(item.get("events")), lambda raw: _event(raw, has_service_point), warnings)
    # The shipment status summarises its items unless they diverge (SPLIT); then each item speaks for itself.
    summary_status = text(shipment.get("status"))
    if summary_status.upper() in ("", "SPLIT"):
        summary_status = text(item.get("status"))
    summary = None
    if summary_status:
        summary = (
            summary_status,
            item_meaning(summary_status, "", text(dig(shipment, "statusText", "body")), has_service_point),
        )
    eta = (
        item.get("estimatedTimeOfArrival")
        or shipment.get("estimatedTimeOfArrival")
        or item.get("publicTimeOfArrival")
        or shipment.get("publicTimeOfArrival")
    )
    return finish_update(
        CODE,
        number,
        events,
        newest_first=False,
        summary=summary,
        estimated_delivery=parse_date(eta),
        carrier_ref=number,
        pickup_point=_pickup(shipment),
        warnings=warnings,
    )


@parser
def parse_tracking(body: bytes | str) -> list[Result]:
    """Parse a findByIdentifier answer: one update per item of every shipment."""
    payload = load_json(body)
    response = dig(payload, "TrackingInformationResponse")
    if not isinstance(response, dict):
        raise MalformedPayload("postnord: no TrackingInformationResponse")
    shipments = objects(response.get("shipments"))
    faults = objects(dig(response, "compositeFault", "faults"))
    if not shipments:
        if faults:
            fault = faults[0]
            message = f"postnord: {text(fault.get('faultCode'))}: {text(fault.get('explanationText'))}"
            if text(fault.get("faultCode")).lower() in ("invalididentifier", "notfound", "nodatafound"):
                raise TrackingNotFound(message)
            raise MalformedPayload(message)
        raise TrackingNotFound("postnord: no shipments found")
    updates: list[Result] = [_item(s, item) for s in shipments for item in objects(s.get("items"))]
    if not updates:
        raise TrackingNotFound("postnord: shipments without items")
    return updates


class PostNordCarrier(Carrier):
    """`GET /rest/shipment/v5/trackandtrace/findByIdentifier.json?id=…&locale=…&apikey=…`."""

    code = CODE
    display_name = "PostNord"
    default_base_url = DEFAULT_BASE_URL
    batch_size = 1
    default_rate_per_second = 5.0
    required_credentials = ("api_key",)
    parse = staticmethod(parse_tracking)

    def fetch(self, numbers: Sequence[str]) -> bytes:
        """One identifier per call; the key travels in the query (scrubbed from every log line)."""
        params = {"id": numbers[0], "locale": self.settings.language, "apikey": self.credential("api_key")}
        path = "/rest/shipment/v5/trackandtrace/findByIdentifier.json"
        return self.call("GET", path, params=params, headers={"Accept": "application/json"}).content
