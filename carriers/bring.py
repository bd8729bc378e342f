"""Bring / Posten Norge – Mybring Tracking API v2 (JSON, and the XML variant)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import Any

from carriers.base import Carrier, Result
from carriers.errors import CarrierError, MalformedPayload, TrackingNotFound, error_from_body
from carriers.model import PickupPoint, Reason, Status, TrackingUpdate
from carriers.normalize import INFORMATIONAL, Code, RawEvent, finish_update, join_location, lookup
from carriers.payload import collect, decode_text, dig, load_json, objects, parser, text
from carriers.pickup import pickup_point
from carriers.timeparse import parse_date, parse_iso, zone_for

CODE = "bring"
DEFAULT_BASE_URL = "https://api.bring.com"
DEFAULT_ZONE = "Europe/Oslo"
XML_NS = "{http://www.bring.no/sporing/2.0}"

CODES: dict[str, Code] = {
    "PRE_NOTIFIED": Code(Status.INFO_RECEIVED),
    "HANDED_IN": Code(Status.IN_TRANSIT),
    "COLLECTED": Code(Status.IN_TRANSIT),
    "IN_TRANSIT": Code(Status.IN_TRANSIT),
    "TERMINAL": Code(Status.IN_TRANSIT),
    "INTERNATIONAL": Code(Status.IN_TRANSIT),
    "ARRIVED_COLLECTION": Code(Status.IN_TRANSIT),  # removed 2022-06-23, still in stored data
    "ARRIVED_DELIVERY": Code(Status.IN_TRANSIT),
    "CUSTOMS": Code(Status.IN_TRANSIT, Reason.CUSTOMS),
    "DEVIATION": Code(Status.EXCEPTION),
    "TRANSPORT_TO_RECIPIENT": Code(Status.OUT_FOR_DELIVERY),
    "ATTEMPTED_DELIVERY": Code(Status.FAILED_ATTEMPT),
    "READY_FOR_PICKUP": Code(Status.AVAILABLE_FOR_PICKUP),
    "DELIVERED": Code(Status.DELIVERED),
    "RETURN": Code(Status.RETURNING),
    "DELIVERED_SENDER": Code(Status.RETURNED),
    "DELIVERY_ORDERED": INFORMATIONAL,
    "DELIVERY_CHANGED": INFORMATIONAL,
    "DELIVERY_CANCELLED": INFORMATIONAL,
    "NOTIFICATION_SENT": INFORMATIONAL,
    "UNKNOWN": Code(Status.UNKNOWN),
}
DELAYED = Code(Status.IN_TRANSIT, Reason.CARRIER_DELAY)


def event_meaning(status: str, description: str) -> Code | None:
    """The table entry; a DEVIATION whose text speaks of a delay is a delay, not an exception."""
    meaning = lookup(CODES, status)
    if status.upper() == "DEVIATION" and any(word in description.lower() for word in ("delay", "forsink")):
        return DELAYED
    return meaning


def _event(raw: dict[str, Any]) -> RawEvent:
    status, description = text(raw.get("status")), text(raw.get("description"))
    country = text(raw.get("countryCode"))
    occurred_at, assumed = parse_iso(text(raw.get("dateIso")), zone_for(country, DEFAULT_ZONE))
    return RawEvent(
        occurred_at=occurred_at,
        code=status,
        meaning=event_meaning(status, description),
        description=description,
        location=join_location(f"{text(raw.get('postalCode'))} {text(raw.get('city'))}", country),
        tz_assumed=assumed,
    )


def _pickup(package: dict[str, Any]) -> PickupPoint | None:
    """The pickup point: the expected one (`expectedPickupUnit…`) and where the pickup scan happened.

    The scan's unit names no point; its name and page come from the expected unit when the ids agree
    (a parcel re-routed to another unit must not show the first one's name). `dateOfReturn` is the last day.
    """
    ready = next(
        (e for e in objects(package.get("eventSet")) if text(e.get("status")).upper() == "READY_FOR_PICKUP"),
        {},
    )
    expected_id = text(package.get("expectedPickupUnitId"))
    expected = not ready or text(ready.get("unitId")) in ("", expected_id)
    return pickup_point(
        package.get("expectedPickupUnitName") if expected else "",
        point_id=text(ready.get("unitId")) or expected_id,
        postcode=ready.get("postalCode"),
        city=ready.get("city"),
        country=ready.get("countryCode") or dig(package, "recipientAddress", "countryCode"),
        info_url=package.get("expectedPickupUnitURL") if expected else "",
        last_day=package.get("dateOfReturn"),
    )


def _package(package: dict[str, Any]) -> TrackingUpdate:
    number = text(package.get("packageNumber"))
    if not number:
        raise MalformedPayload("bring package without packageNumber")
    warnings: list[str] = []
    events = collect(objects(package.get("eventSet")), _event, warnings)
    return finish_update(
        CODE,
        number,
        events,
        newest_first=True,
        estimated_delivery=parse_date(package.get("dateOfEstimatedDelivery")),
        carrier_ref=number,
        pickup_point=_pickup(package),
        warnings=warnings,
    )


def _updates(consignments: list[dict[str, Any]]) -> list[Result]:
    updates: list[Result] = []
    errors: list[CarrierError] = []
    for consignment in consignments:
        if isinstance(consignment.get("error"), dict):
            error = consignment["error"]
            errors.append(error_from_body(CODE, error.get("code"), text(error.get("message")) or "error"))
            continue
        updates.extend(_package(package) for package in objects(consignment.get("packageSet")))
    if not updates:
        raise errors[0] if errors else TrackingNotFound("bring: no consignments in the answer")
    return updates


def _xml_children(element: ET.Element, name: str) -> list[ET.Element]:
    return [child for child in element if child.tag in (XML_NS + name, name)]


def _xml_text(element: ET.Element, name: str) -> str:
    found = _xml_children(element, name)
    return (found[0].text or "").strip() if found else ""


def _xml_consignments(document: str) -> list[dict[str, Any]]:
    """The XML variant, converted to the JSON shape so both share one mapping."""
    if "<!DOCTYPE" in document.upper():
        raise MalformedPayload("bring: XML with a DOCTYPE is refused")
    try:
        root = ET.fromstring(document)
    except ET.ParseError as exc:
        raise MalformedPayload(f"bring: invalid XML ({exc})") from exc
    if root.tag not in (XML_NS + "ConsignmentSet", "ConsignmentSet"):
        raise MalformedPayload(f"bring: unexpected XML root {root.tag!r}")
    consignments = []
    for consignment in _xml_children(root, "Consignment"):
        packages = []
        for package_set in _xml_children(consignment, "PackageSet"):
            for package in _xml_children(package_set, "Package"):
                events = [
                    {
                        "status": _xml_text(event, "Status"),
                        "description": _xml_text(event, "Description"),
                        "postalCode": _xml_text(event, "PostalCode"),
                        "city": _xml_text(event, "City"),
                        "countryCode": _xml_text(event, "CountryCode"),
                        "dateIso": _xml_text(event, "OccuredAtIsoDateTime"),
                    }
                    for event_set in _xml_children(package, "EventSet")
                    for event in _xml_children(event_set, "Event")
                ]
                packages.append(
                    {
                        "packageNumber": package.get("packageId", ""),
                        "eventSet": events,
                        "dateOfEstimatedDelivery": _xml_text(package, "DateOfEstimatedDelivery"),
                    }
                )
        consignments.append({"packageSet": packages})
    return consignments


@parser
def parse_tracking(body: bytes | str) -> list[Result]:
    """Parse a Bring tracking answer (JSON, XML, or the plain-text XML not-found)."""
    document = decode_text(body).strip()
    if document.startswith("<"):
        return _updates(_xml_consignments(document))
    if document.lower().startswith("no shipments found"):
        raise TrackingNotFound("bring: No shipments found")
    payload = load_json(document)
    if isinstance(payload, dict) and "shipments" in payload and "consignmentSet" not in payload:
        # The 503 "too busy" body wraps the usual envelope in {"shipments": [...]}.
        payload = {
            "consignmentSet": [
                c for s in objects(payload["shipments"]) for c in objects(s.get("consignmentSet"))
            ]
        }
    if not isinstance(payload, dict) or not isinstance(payload.get("consignmentSet"), list):
        raise MalformedPayload("bring: no consignmentSet")
    return _updates(objects(dig(payload, "consignmentSet")))


class BringCarrier(Carrier):
    """Mybring tracking: `GET /tracking/api/v2/tracking.json?q=…` with the Mybring API headers."""

    code = CODE
    display_name = "Bring"
    default_base_url = DEFAULT_BASE_URL
    batch_size = 1
    default_rate_per_second = 5.0
    required_credentials = ("api_uid", "api_key")
    parse = staticmethod(parse_tracking)

    def fetch(self, numbers: Sequence[str]) -> bytes:
        """One `q` per call; a shipment number returns all of its packages."""
        headers = {
            "X-Mybring-API-Uid": self.credential("api_uid"),
            "X-Mybring-API-Key": self.credential("api_key"),
            "X-Bring-Client-URL": self.settings.credentials.get("client_url", "https://leveranse.example"),
            "Accept": "application/json",
        }
        params = {"q": numbers[0], "lang": self.settings.language}
        return self.call("GET", "/tracking/api/v2/tracking.json", headers=headers, params=params).content
