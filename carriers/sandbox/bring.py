"""Bring – Mybring Tracking API v2 (`tracking.json?q=`): newest event first, ISO times with offset."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from werkzeug import Request, Response

from carriers.model import Status
from carriers.sandbox.base import CarrierApi, Code, SandboxContext, Tracked, json_response, local_time
from carriers.sandbox.scenarios import Milestone as M
from carriers.sandbox.scenarios import number_fraction
from carriers.sandbox.shipments import Scan

S = Status
CODES: dict[M, Code] = {
    M.INFO_RECEIVED: Code(
        "PRE_NOTIFIED",
        "No shipment has been received yet, only notification of the shipment.",
        S.INFO_RECEIVED,
    ),
    M.PICKED_UP: Code("HANDED_IN", "The shipment has been handed in at the post office.", S.IN_TRANSIT),
    M.HUB_ARRIVAL: Code("TERMINAL", "The shipment has arrived at the terminal.", S.IN_TRANSIT),
    M.HUB_DEPARTURE: Code(
        "IN_TRANSIT", "The shipment has been handed in at terminal and forwarded.", S.IN_TRANSIT
    ),
    M.CUSTOMS: Code("CUSTOMS", "The shipment is being processed by customs.", S.IN_TRANSIT),
    M.DELAYED: Code(
        "DEVIATION", "The shipment is delayed and will be forwarded as soon as possible.", S.IN_TRANSIT
    ),
    M.OUT_FOR_DELIVERY: Code(
        "TRANSPORT_TO_RECIPIENT", "The shipment has been loaded for delivery.", S.OUT_FOR_DELIVERY
    ),
    M.DELIVERED: Code("DELIVERED", "The shipment has been delivered.", S.DELIVERED),
    M.FAILED_ATTEMPT: Code(
        "ATTEMPTED_DELIVERY", "Delivery was attempted, but the recipient was not at home.", S.FAILED_ATTEMPT
    ),
    M.AVAILABLE_FOR_PICKUP: Code(
        "READY_FOR_PICKUP", "The shipment has arrived at pickup point.", S.AVAILABLE_FOR_PICKUP
    ),
    M.COLLECTED: Code("DELIVERED", "The shipment has been collected at the pickup point.", S.DELIVERED),
    M.LOST: Code("DEVIATION", "The shipment is missing. We are investigating the matter.", S.EXCEPTION),
    M.DAMAGED: Code("DEVIATION", "The shipment has been damaged.", S.EXCEPTION),
    M.REFUSED: Code("DEVIATION", "The recipient has refused to accept the shipment.", S.EXCEPTION),
    M.RETURNING: Code("RETURN", "The shipment is being returned to the sender.", S.RETURNING),
    M.RETURNED: Code("DELIVERED_SENDER", "The shipment has been returned to the sender.", S.RETURNED),
}
_SIGNED = frozenset({M.DELIVERED, M.COLLECTED})
_PICKUP_DAYS = 14
POINT_PAGE = "https://www.posten.no/kundeservice/postkontor-info"


def _date(value: datetime) -> str:
    return value.strftime("%d.%m.%Y")


def _error(code: int, message: str, **extra: str) -> dict[str, Any]:
    return {"apiVersion": "2", "consignmentSet": [{"error": {**extra, "code": code, "message": message}}]}


class BringApi(CarrierApi):
    """Mybring Tracking v2: API-key headers, one `q` per call, errors inside the consignment envelope."""

    code = "bring"
    codes = CODES
    track_path = "/tracking/api/v2/tracking.json"

    def authorize(self, ctx: SandboxContext, request: Request) -> Response | None:
        """Require `X-Mybring-API-Uid` and `X-Mybring-API-Key` (unauthenticated calls get 401 since 2024)."""
        creds = ctx.credentials
        headers = request.headers
        if (
            headers.get("X-Mybring-API-Uid") == creds.api_uid
            and headers.get("X-Mybring-API-Key") == creds.api_key
        ):
            return None
        return json_response(
            _error(401, "Authentication failed: invalid X-Mybring-API-Uid or X-Mybring-API-Key"), 401
        )

    def numbers(self, request: Request, args: Mapping[str, str]) -> list[str] | Response:
        """The single `q` query value."""
        query = request.args.get("q", "").strip()
        return [query] if query else json_response(_error(400, "Invalid query"), 400)

    def render(self, tracked: list[Tracked], request: Request) -> Response:
        """One consignment with one package, or the in-body 404 error (HTTP 200)."""
        (item,) = tracked
        if not item.found:
            return json_response(_error(404, "No shipments found"))
        return json_response({"apiVersion": "2", "consignmentSet": [_consignment(item)]})

    def rate_limited(self, retry_after: int) -> Response:
        """Bring answers 429 with a plain-text body."""
        return Response(
            "Rate limit exceeded. Too many requests, please try again later.", 429, content_type="text/plain"
        )

    def server_error(self) -> Response:
        """The documented 503 'too busy' body, wrapped in `shipments` without a top-level apiVersion."""
        message = "Server too busy/ Temporarily blocked due to too many invalid requests"
        body = {"shipments": [_error(503, message, system="TooBusyPakker_TooBusyPakker")]}
        return json_response(body, 503)


def _event(scan: Scan) -> dict[str, Any]:
    code = CODES[scan.milestone]
    when = local_time(scan)
    place = scan.place
    return {
        "description": code.text,
        "status": code.code,
        "lmEventCode": "",
        "lmCauseCode": "",
        "lmMeasureCode": "",
        "recipientSignature": {
            "name": "O NORDMANN" if scan.milestone in _SIGNED else "",
            "linkToImage": None,
        },
        "unitId": place.site_id,
        "unitInformationUrl": None,
        "unitType": "BRING",
        "postalCode": place.postcode,
        "city": place.city,
        "countryCode": place.country,
        "country": place.country_name,
        "dateIso": when.isoformat(timespec="seconds"),
        "displayDate": _date(when),
        "displayTime": when.strftime("%H:%M"),
        "consignmentEvent": False,
        "insignificant": False,
    }


def _consignment(item: Tracked) -> dict[str, Any]:
    route = item.route
    latest = item.scans[-1]
    zone = ZoneInfo(route.destination.tz)
    at_pickup = latest.milestone is M.AVAILABLE_FOR_PICKUP
    delivered = latest.milestone in _SIGNED
    eta = item.eta.astimezone(zone) if item.eta else None
    address = {
        "addressLine1": "",
        "addressLine2": "",
        "postalCode": route.destination.postcode,
        "city": route.destination.city,
        "countryCode": route.destination.country,
        "country": route.destination.country_name,
    }
    package = {
        "statusDescription": CODES[latest.milestone].text,
        "descriptions": [],
        "packageNumber": item.number,
        "previousPackageNumber": "",
        "productName": "PICKUP PARCEL",
        "productCode": "5800",
        "productLink": "https://www.bring.no/english/shortcuts/5800",
        "brand": "POSTEN",
        "lengthInCm": 31,
        "widthInCm": 30,
        "heightInCm": 11,
        "volumeInDm3": 10.2,
        "weightInKgs": 0.8,
        "pickupCode": None,
        "shelfNumber": None,
        "dateOfReturn": _date(local_time(latest) + timedelta(days=_PICKUP_DAYS)) if at_pickup else None,
        "dateOfEstimatedDelivery": _date(eta) if eta else None,
        "estimatedTimeSpanOfDelivery": {"startTime": "08:00", "endTime": "16:00"} if eta else None,
        "dateOfDelivery": _date(local_time(latest)) if delivered else None,
        "senderName": "LEVERANSE DEMO AS",
        "recipientAddress": address,
        "eventSet": [_event(scan) for scan in reversed(item.scans)],
        "additionalServiceSet": [],
        "requestedPackage": None,
    }
    if any(scan.milestone is M.AVAILABLE_FOR_PICKUP for scan in item.shipment.scans):
        # Booked to a pickup point: Bring names the expected unit and links its page (opening hours).
        point = route.pickup_point
        package |= {
            "expectedPickupUnitId": point.site_id,
            "expectedPickupUnitName": point.name,
            "expectedPickupUnitURL": f"{POINT_PAGE}?enhetsnr={point.site_id}",
        }
    return {
        "consignmentId": str(int(number_fraction(item.number, "bring-consignment") * 10**17)).zfill(17),
        "previousConsignmentId": "",
        "packageSet": [package],
        "senderReference": "",
        "senderCustomerNumber": "",
        "isPickupNoticeAvailable": at_pickup,
        "totalWeightInKgs": 0.8,
        "totalVolumeInDm3": 10.2,
    }
