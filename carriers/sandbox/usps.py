"""USPS – Tracking v3 (`/tracking/v3/tracking/{n}?expand=DETAIL`): newest first, local time + GMT."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import Any
from zoneinfo import ZoneInfo

from werkzeug import Request, Response

from carriers.model import Status
from carriers.sandbox.base import Tracked, json_response, local_time
from carriers.sandbox.oauth import OAuthCarrierApi
from carriers.sandbox.scenarios import Milestone as M
from carriers.sandbox.shipments import Scan
from carriers.sandbox.tokens import TokenState

API_VERSION = "3.2.6"


@dataclass(frozen=True)
class UspsCode:
    """Pub 199 `eventCode` (leading zeros kept), `eventType` text and the shipment `statusCategory`."""

    code: str
    text: str
    category: str
    status: Status


S = Status
CODES: dict[M, UspsCode] = {
    M.INFO_RECEIVED: UspsCode(
        "GX", "Shipping Label Created, USPS Awaiting Item", "Pre-Shipment", S.INFO_RECEIVED
    ),
    M.PICKED_UP: UspsCode("03", "USPS in possession of item", "Accepted", S.IN_TRANSIT),
    M.HUB_ARRIVAL: UspsCode("A1", "Arrived at USPS Regional Facility", "In Transit", S.IN_TRANSIT),
    M.HUB_DEPARTURE: UspsCode("T1", "Departed USPS Regional Facility", "In Transit", S.IN_TRANSIT),
    M.DELAYED: UspsCode("TL", "In Transit to Next Facility, Arriving Late", "In Transit", S.IN_TRANSIT),
    M.OUT_FOR_DELIVERY: UspsCode("OF", "Out for Delivery", "Out for Delivery", S.OUT_FOR_DELIVERY),
    M.DELIVERED: UspsCode("01", "Delivered, In/At Mailbox", "Delivered", S.DELIVERED),
    M.FAILED_ATTEMPT: UspsCode(
        "02", "Notice Left (No Authorized Recipient Available)", "Delivery Attempt", S.FAILED_ATTEMPT
    ),
    M.AVAILABLE_FOR_PICKUP: UspsCode(
        "14", "Available for Pickup", "Available for Pickup", S.AVAILABLE_FOR_PICKUP
    ),
    M.COLLECTED: UspsCode("01", "Delivered, Individual Picked Up at Post Office", "Delivered", S.DELIVERED),
    M.LOST: UspsCode("MS", "Missing Mail Search Request Initiated", "Alert", S.EXCEPTION),
    M.DAMAGED: UspsCode("53", "Damaged Item", "Alert", S.EXCEPTION),
    M.REFUSED: UspsCode("04", "Refused", "Alert", S.EXCEPTION),
    M.RETURNING: UspsCode("09", "Return to Sender", "Return to Sender", S.RETURNING),
}


def _error(status: int, message: str, title: str) -> Response:
    body = {
        "apiVersion": API_VERSION,
        "error": {
            "code": str(status),
            "message": message,
            "errors": [{"status": str(status), "code": str(status), "title": title, "detail": message}],
        },
    }
    return json_response(body, status)


def _event(scan: Scan) -> dict[str, Any]:
    code = CODES[scan.milestone]
    when = local_time(scan)
    place = scan.place
    offset = when.strftime("%z")
    return {
        "eventType": code.text,
        # Local time with minute precision; the GMT timestamp has seconds, so they never compare equal.
        "eventTimestamp": when.strftime("%Y-%m-%dT%H:%M:00"),
        "GMTTimestamp": scan.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "GMTOffset": f"{offset[:3]}:{offset[3:]}",
        "eventCountry": None if place.country == "US" else place.country,
        "eventCity": place.city,
        "eventState": place.state or None,
        "eventZIP": place.postcode or None,
        "firm": None,
        "name": "J SMITH" if code.status is S.DELIVERED else None,
        "authorizedAgent": "false",
        "eventCode": code.code,
        "actionCode": None,
        "reasonCode": None,
    }


class UspsApi(OAuthCarrierApi):
    """USPS v3: client credentials (form or JSON) at /oauth2/v3/token, one number per GET."""

    code = "usps"
    codes = CODES
    track_path = "/tracking/v3/tracking/<number>"
    token_path = "/oauth2/v3/token"

    def token_body(self, token: str, expires_in: int, client_id: str) -> dict[str, Any]:
        """USPS token answer (Apigee-style fields)."""
        return {
            "access_token": token,
            "token_type": "Bearer",
            "issued_at": int(time.time() * 1000),
            "expires_in": expires_in,
            "status": "approved",
            "scope": "tracking",
            "issuer": "api.usps.com",
            "client_id": client_id,
            "application_name": "leveranse-sandbox",
            "api_products": "[Public Access]",
        }

    def invalid_client(self) -> Response:
        """RFC 6749 invalid_client."""
        return json_response(
            {"error": "invalid_client", "error_description": "Client authentication failed"}, 401
        )

    def unauthorized(self, state: TokenState) -> Response:
        """401 in the API error envelope."""
        detail = "Access token expired" if state is TokenState.EXPIRED else "Invalid access token"
        return _error(401, detail, "Unauthorized")

    def numbers(self, request: Request, args: Mapping[str, str]) -> list[str] | Response:
        """The number from the path."""
        return [args["number"]]

    def render(self, tracked: list[Tracked], request: Request) -> Response:
        """The tracking summary and (with expand=DETAIL) its events, or 404."""
        (item,) = tracked
        if not item.found:
            message = "The tracking number may be incorrect or the status update is not yet available."
            return _error(404, message, "Not Found")
        return json_response(_tracking(item, request.args.get("expand", "SUMMARY").upper() == "DETAIL"))

    def rate_limited(self, retry_after: int) -> Response:
        """429 in the API error envelope."""
        return _error(429, "Too many requests; quota exceeded for this application.", "Too Many Requests")

    def server_error(self) -> Response:
        """503 in the API error envelope."""
        return _error(503, "The service is temporarily unavailable.", "Service Unavailable")


def _tracking(item: Tracked, detail: bool) -> dict[str, Any]:
    route = item.route
    latest = local_time(item.scans[-1])
    code = CODES[item.scans[-1].milestone]
    last_place = item.scans[-1].place.city
    body: dict[str, Any] = {
        "trackingNumber": item.number,
        "mailClass": "USPS Ground Advantage<SUP>&#153;</SUP>",
        "mailType": "DOMESTIC_MAIL",
        "originCity": route.origin.city,
        "originState": route.origin.state,
        "originZIP": route.origin.postcode,
        "destinationCity": route.destination.city,
        "destinationState": route.destination.state,
        "destinationZIP": route.destination.postcode,
        # USPS sends these booleans as strings.
        "emailEnabled": "true",
        "proofOfDeliveryEnabled": "false",
        "status": code.text,
        "statusCategory": code.category,
        "statusSummary": f"{code.text}, {latest.strftime('%B %d, %Y, %I:%M %p')}, {last_place}",
    }
    if item.eta:
        body["expectedDeliveryDate"] = item.eta.astimezone(ZoneInfo(route.destination.tz)).strftime(
            "%Y-%m-%d"
        )
    if detail:
        body["trackingEvents"] = [_event(scan) for scan in reversed(item.scans)]
    return body
