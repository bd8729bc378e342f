"""UPS – Track API v1 (`/api/track/v1/details/{n}`): OAuth2 + transId headers, local date/time + gmt trio."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from werkzeug import Request, Response

from carriers.model import Status
from carriers.sandbox.base import SandboxContext, Tracked, json_response, local_time
from carriers.sandbox.oauth import OAuthCarrierApi
from carriers.sandbox.places import Place
from carriers.sandbox.scenarios import Milestone as M
from carriers.sandbox.shipments import Scan
from carriers.sandbox.tokens import TokenState


@dataclass(frozen=True)
class UpsCode:
    """Activity `status`: `type` letter(s), 2-char activity `code`, 3-digit `statusCode`, texts."""

    type: str
    code: str
    status_code: str
    text: str
    simple: str
    status: Status


S = Status
CODES: dict[M, UpsCode] = {
    M.INFO_RECEIVED: UpsCode(
        "M",
        "MP",
        "003",
        "Shipper created a label, UPS has not received the package yet. ",
        "Label Created",
        S.INFO_RECEIVED,
    ),
    M.PICKED_UP: UpsCode("P", "PU", "038", "Pickup Scan ", "Picked Up", S.IN_TRANSIT),
    M.HUB_ARRIVAL: UpsCode("I", "AR", "005", "Arrived at Facility", "On the Way", S.IN_TRANSIT),
    M.HUB_DEPARTURE: UpsCode("I", "DP", "005", "Departed from Facility", "On the Way", S.IN_TRANSIT),
    M.CUSTOMS: UpsCode("I", "CR", "012", "Clearance in Progress", "On the Way", S.IN_TRANSIT),
    M.DELAYED: UpsCode(
        "X",
        "WE",
        "032",
        "Your package is delayed. We're adjusting delivery plans as quickly as possible.",
        "Delayed",
        S.IN_TRANSIT,
    ),
    M.OUT_FOR_DELIVERY: UpsCode(
        "I", "OT", "072", "Loaded on Delivery Vehicle ", "Out for Delivery", S.OUT_FOR_DELIVERY
    ),
    # UPS really sends "DELIVERED " with a trailing space.
    M.DELIVERED: UpsCode("D", "KB", "011", "DELIVERED ", "Delivered", S.DELIVERED),
    M.FAILED_ATTEMPT: UpsCode(
        "X",
        "48",
        "022",
        "The receiver was not available for delivery. We'll make a second attempt the next business day.",
        "Delivery Attempted",
        S.FAILED_ATTEMPT,
    ),
    M.AVAILABLE_FOR_PICKUP: UpsCode(
        "I",
        "2Q",
        "161",
        "Delivered to UPS Access Point™ and awaiting customer pickup.",
        "Ready for Pickup",
        S.AVAILABLE_FOR_PICKUP,
    ),
    M.COLLECTED: UpsCode("D", "KM", "011", "Picked up at UPS Access Point™", "Delivered", S.DELIVERED),
    M.LOST: UpsCode(
        "X",
        "LF",
        "068",
        "We're sorry, your package could not be located. It was sent to lost and found.",
        "Exception",
        S.EXCEPTION,
    ),
    M.DAMAGED: UpsCode(
        "X", "DM", "059", "Damage reported. The package was damaged in transit.", "Exception", S.EXCEPTION
    ),
    M.REFUSED: UpsCode("X", "RR", "064", "The receiver refused the delivery.", "Exception", S.EXCEPTION),
    M.RETURNING: UpsCode(
        "I", "RS", "035", "Returning to Sender: The package is being returned.", "Returning", S.RETURNING
    ),
    M.RETURNED: UpsCode("D", "RT", "034", "Returned to Sender", "Returned", S.RETURNED),
}
_DELIVERED = frozenset({M.DELIVERED, M.COLLECTED, M.RETURNED})
ACCESS_POINT_HOLD_DAYS = 7  # UPS Access Points keep a parcel 7 days (5 business days in some countries)


def _errors(status: int, code: str, message: str) -> Response:
    return json_response({"response": {"errors": [{"code": code, "message": message}]}}, status)


def _address(place: Place) -> dict[str, str]:
    address = {
        "city": place.city,
        "stateProvince": place.state,
        "countryCode": place.country,
        "country": place.country,
    }
    if place.street:  # an Access Point: UPS gives its street, never its name
        address |= {"addressLine1": place.street, "postalCode": place.postcode}
    return address


def _status(code: UpsCode) -> dict[str, str]:
    return {
        "type": code.type,
        "description": code.text,
        "code": code.code,
        "statusCode": code.status_code,
        "simplifiedTextDescription": code.simple,
    }


def _activity(scan: Scan) -> dict[str, Any]:
    when = local_time(scan)
    gmt = scan.at.astimezone(UTC)
    return {
        "location": {"address": _address(scan.place), "slic": scan.place.site_id},
        "status": _status(CODES[scan.milestone]),
        "date": when.strftime("%Y%m%d"),
        "time": when.strftime("%H%M%S"),
        "gmtDate": gmt.strftime("%Y%m%d"),
        "gmtOffset": when.strftime("%z")[:3] + ":" + when.strftime("%z")[3:],
        "gmtTime": gmt.strftime("%H:%M:%S"),
    }


class UpsApi(OAuthCarrierApi):
    """UPS Track v1: client_secret_basic token, then Bearer plus required `transId` / `transactionSrc`."""

    code = "ups"
    codes = CODES
    track_path = "/api/track/v1/details/<number>"
    token_path = "/security/v1/oauth/token"

    def token_body(self, token: str, expires_in: int, client_id: str) -> dict[str, Any]:
        """UPS sends numbers as strings."""
        return {
            "token_type": "Bearer",
            "issued_at": str(int(time.time() * 1000)),
            "client_id": client_id,
            "access_token": token,
            "expires_in": str(expires_in),
            "refresh_count": "0",
            "status": "approved",
        }

    def invalid_client(self) -> Response:
        """401 with the UPS error envelope."""
        return _errors(401, "10401", "ClientId is Invalid")

    def unauthorized(self, state: TokenState) -> Response:
        """401 for missing, unknown or expired tokens alike."""
        return _errors(401, "250002", "Invalid Authentication Information.")

    def authorize(self, ctx: SandboxContext, request: Request) -> Response | None:
        """Bearer token first, then the two required transaction headers."""
        denied = super().authorize(ctx, request)
        if denied is None and not (request.headers.get("transId") and request.headers.get("transactionSrc")):
            return _errors(400, "TV1002", "Missing or invalid transId or transactionSrc header")
        return denied

    def numbers(self, request: Request, args: Mapping[str, str]) -> list[str] | Response:
        """The inquiry number from the path (7–34 characters)."""
        number = args["number"]
        return [number] if 7 <= len(number) <= 34 else _errors(400, "TV1002", "Invalid inquiry number")

    def render(self, tracked: list[Tracked], request: Request) -> Response:
        """The shipment, or HTTP 200 with warning TW0001 when unknown."""
        (item,) = tracked
        if not item.found:
            shipment = {
                "inquiryNumber": item.number,
                "package": [],
                "userRelation": [],
                "warnings": [{"code": "TW0001", "message": "Tracking Information Not Found"}],
            }
        else:
            shipment = {"inquiryNumber": item.number, "package": [_package(item)], "userRelation": []}
        return json_response({"trackResponse": {"shipment": [shipment]}})

    def rate_limited(self, retry_after: int) -> Response:
        """429 with the UPS error envelope."""
        return _errors(429, "10429", "Too Many Requests")

    def server_error(self) -> Response:
        """503 with the UPS error envelope."""
        return _errors(503, "10500", "Service Unavailable")


def _package(item: Tracked) -> dict[str, Any]:
    route = item.route
    latest = item.scans[-1]
    current = CODES[latest.milestone]
    package: dict[str, Any] = {
        "trackingNumber": item.number,
        "activity": [_activity(scan) for scan in reversed(item.scans)],
        "currentStatus": {
            "description": current.text,
            "code": current.status_code,
            "simplifiedTextDescription": current.simple,
        },
        "packageAddress": [
            {"type": "ORIGIN", "address": _address(route.origin)},
            {"type": "DESTINATION", "address": _address(route.destination)},
        ],
        "packageCount": 1,
        "service": {"code": "003", "description": "UPS Ground"},
        "weight": {"unitOfMeasurement": "LBS", "weight": "2.40"},
        "referenceNumber": [],
    }
    waiting = [scan for scan in item.scans if scan.milestone is M.AVAILABLE_FOR_PICKUP]
    if waiting:
        last_day = local_time(waiting[-1]) + timedelta(days=ACCESS_POINT_HOLD_DAYS)
        package["accessPointInformation"] = {"pickupByDate": last_day.strftime("%Y%m%d")}
    if latest.milestone in _DELIVERED:
        when = local_time(latest)
        package["deliveryDate"] = [{"type": "DEL", "date": when.strftime("%Y%m%d")}]
        package["deliveryTime"] = {"type": "DEL", "startTime": "", "endTime": when.strftime("%H%M%S")}
        package["deliveryInformation"] = {"location": "Front Door", "receivedBy": "SMITH", "signature": None}
    elif item.eta:
        # Scheduled delivery date in the destination's local calendar, no zone (as UPS sends it).
        eta: datetime = item.eta.astimezone(ZoneInfo(route.destination.tz))
        package["deliveryDate"] = [{"type": "SDD", "date": eta.strftime("%Y%m%d")}]
        package["deliveryTime"] = {"type": "EOD", "startTime": "", "endTime": "235900"}
    return package
