"""PostNord – Track & Trace v5 findByIdentifier: oldest event first, local times without offset, alpha-3."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from werkzeug import Request, Response

from carriers.model import Status
from carriers.sandbox.base import CarrierApi, SandboxContext, Tracked, json_response, local_time
from carriers.sandbox.places import Place
from carriers.sandbox.scenarios import Milestone as M
from carriers.sandbox.shipments import Scan


@dataclass(frozen=True)
class PostNordCode:
    """An event: PostNord `eventCode` (string, may be lower-case alphanumeric) and item `status`."""

    code: str
    pn_status: str
    text: str
    status: Status


S = Status
CODES: dict[M, PostNordCode] = {
    M.INFO_RECEIVED: PostNordCode(
        "68", "INFORMED", "The shipment item has been pre-advised by the sender.", S.INFO_RECEIVED
    ),
    M.PICKED_UP: PostNordCode("71", "EN_ROUTE", "The shipment item has been picked up.", S.IN_TRANSIT),
    M.HUB_ARRIVAL: PostNordCode("31", "EN_ROUTE", "The shipment item is under transportation.", S.IN_TRANSIT),
    M.HUB_DEPARTURE: PostNordCode(
        "32", "EN_ROUTE", "The shipment item has departed from the terminal.", S.IN_TRANSIT
    ),
    M.CUSTOMS: PostNordCode("73", "EN_ROUTE", "The shipment item is in customs clearance.", S.IN_TRANSIT),
    M.DELAYED: PostNordCode("45", "DELAYED", "The shipment item is delayed.", S.IN_TRANSIT),
    M.OUT_FOR_DELIVERY: PostNordCode(
        "96", "AVAILABLE_FOR_DELIVERY", "Delivery of the shipment item is in progress.", S.OUT_FOR_DELIVERY
    ),
    M.DELIVERED: PostNordCode("21", "DELIVERED", "The shipment item has been delivered.", S.DELIVERED),
    M.FAILED_ATTEMPT: PostNordCode(
        "35",
        "DELIVERY_IMPOSSIBLE",
        "Delivery attempt failed, the recipient was not at home.",
        S.FAILED_ATTEMPT,
    ),
    M.AVAILABLE_FOR_PICKUP: PostNordCode(
        "1",
        "AVAILABLE_FOR_DELIVERY",
        "The shipment item has been delivered to a service point.",
        S.AVAILABLE_FOR_PICKUP,
    ),
    M.COLLECTED: PostNordCode(
        "21", "DELIVERED", "The shipment item has been collected at the service point.", S.DELIVERED
    ),
    M.LOST: PostNordCode(
        "z91", "STOPPED", "The shipment item is missing and has been reported lost.", S.EXCEPTION
    ),
    M.DAMAGED: PostNordCode("z92", "STOPPED", "The shipment item has been damaged.", S.EXCEPTION),
    M.REFUSED: PostNordCode(
        "37", "DELIVERY_REFUSED", "The recipient refused the shipment item.", S.EXCEPTION
    ),
    M.RETURNING: PostNordCode(
        "80", "RETURNED", "The shipment item is being returned to the sender.", S.RETURNING
    ),
}
_PICKUP = frozenset({M.AVAILABLE_FOR_PICKUP, M.COLLECTED})


def _local(value: datetime) -> str:
    # PostNord's API sends Nordic local time with no offset.
    return value.strftime("%Y-%m-%dT%H:%M:%S")


def _location(place: Place, kind: str) -> dict[str, Any]:
    return {
        "locationId": place.site_id,
        "displayName": place.name,
        "name": place.name,
        "countryCode": place.country_alpha3,
        "country": place.country_name,
        "postcode": place.postcode,
        "city": place.city,
        "locationType": kind,
    }


def _event(scan: Scan) -> dict[str, Any]:
    code = CODES[scan.milestone]
    kind = "SERVICE_POINT" if scan.milestone in _PICKUP else "HUB"
    return {
        "eventTime": _local(local_time(scan)),
        "eventCode": code.code,
        "status": code.pn_status,
        "eventDescription": code.text,
        "location": _location(scan.place, kind),
    }


class PostNordApi(CarrierApi):
    """PostNord findByIdentifier v5: `apikey` query parameter, domain errors as `compositeFault` in 200."""

    code = "postnord"
    codes = CODES
    track_path = "/rest/shipment/v5/trackandtrace/findByIdentifier.json"

    def authorize(self, ctx: SandboxContext, request: Request) -> Response | None:
        """PostNord answers a bad key with 403 and an empty body."""
        return None if request.args.get("apikey") == ctx.credentials.api_key else Response(b"", 403)

    def numbers(self, request: Request, args: Mapping[str, str]) -> list[str] | Response:
        """The single `id` query value."""
        identifier = request.args.get("id", "").strip()
        if identifier:
            return [identifier]
        fault = {
            "faultCode": "invalidIdentifier",
            "explanationText": "Identifier must be a valid ItemId or ShipmentId",
            "paramValues": [{"param": "identifier", "value": identifier}],
        }
        return json_response(
            {"TrackingInformationResponse": {"compositeFault": {"faults": [fault]}, "shipments": []}}
        )

    def render(self, tracked: list[Tracked], request: Request) -> Response:
        """The shipment with one item, or an empty `shipments` list when unknown."""
        (item,) = tracked
        shipments = [_shipment(item)] if item.found else []
        return json_response({"TrackingInformationResponse": {"shipments": shipments}})

    def rate_limited(self, retry_after: int) -> Response:
        """The API gateway's quota answer."""
        return json_response({"message": "API rate limit exceeded"}, 429)

    def server_error(self) -> Response:
        """A problem+json 500 as the v5 service sends."""
        body = {
            "type": "about:blank",
            "title": "Internal Server Error",
            "status": 500,
            "detail": "An unexpected error occurred",
            "instance": "/ntt/v5/shipment",
        }
        return json_response(body, 500, "application/problem+json")


def _shipment(item: Tracked) -> dict[str, Any]:
    route = item.route
    latest = CODES[item.scans[-1].milestone]
    milestones = {scan.milestone: scan for scan in item.scans}
    eta = _local(item.eta.astimezone(ZoneInfo(route.destination.tz))) if item.eta else None
    delivered = milestones.get(M.DELIVERED) or milestones.get(M.COLLECTED)
    picked_up = milestones.get(M.PICKED_UP)
    shipment_item: dict[str, Any] = {
        "itemId": item.number,
        "status": latest.pn_status,
        "eventStatus": latest.text,
        "dropOffDate": _local(local_time(picked_up)) if picked_up else None,
        "typeOfItemActualName": "Parcel",
        "statedMeasurement": {"weight": {"value": "0.6", "unit": "kg"}},
        "events": [_event(scan) for scan in item.scans],
    }
    if eta:
        shipment_item |= {"estimatedTimeOfArrival": eta, "publicTimeOfArrival": eta}
    if delivered:
        shipment_item |= {
            "deliveryDate": _local(local_time(delivered)),
            "acceptor": {"name": "ANNA SVENSSON"},
        }
    body: dict[str, Any] = {
        "shipmentId": item.number,
        "uri": f"/ntt-service-rest/api/shipment.json?id={item.number}&locale=en",
        "assessedNumberOfItems": 1,
        "service": {"code": "19", "name": "PostNord MyPack Collect"},
        "consignor": {"name": "Leveranse Demo AB", "address": _address(route.origin)},
        "consignee": {"address": _address(route.destination)},
        "status": latest.pn_status,
        "statusText": {"header": latest.text, "body": latest.text, "estimatedTimeOfArrival": eta},
        "items": [shipment_item],
    }
    if eta:
        body |= {"estimatedTimeOfArrival": eta, "publicTimeOfArrival": eta}
    if milestones.keys() & _PICKUP:
        point = route.pickup_point
        body["deliveryPoint"] = _location(point, "SERVICE_POINT") | {
            "servicePointType": "POSTOMBUD",
            "address": _address(point) | {"street1": point.street},
        }
    return body


def _address(place: Place) -> dict[str, str]:
    return {
        "city": place.city,
        "countryCode": place.country_alpha3,
        "country": place.country_name,
        "postCode": place.postcode,
    }
