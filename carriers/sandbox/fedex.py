"""FedEx – Track API (`POST /track/v1/trackingnumbers`, up to 30 numbers): newest first, ISO with offset."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from werkzeug import Request, Response

from carriers.model import Status
from carriers.sandbox.base import Tracked, json_response, local_time
from carriers.sandbox.oauth import OAuthCarrierApi
from carriers.sandbox.places import Place
from carriers.sandbox.scenarios import Milestone as M
from carriers.sandbox.shipments import Scan
from carriers.sandbox.tokens import TokenState


@dataclass(frozen=True)
class FedExCode:
    """Scan `eventType`, coarse `derivedStatusCode` / `derivedStatus`, text, optional exception."""

    code: str
    derived: str
    derived_text: str
    text: str
    status: Status
    exception: tuple[str, str] = ("", "")


S = Status
CODES: dict[M, FedExCode] = {
    M.INFO_RECEIVED: FedExCode(
        "OC", "IN", "Label created", "Shipment information sent to FedEx", S.INFO_RECEIVED
    ),
    M.PICKED_UP: FedExCode("PU", "PU", "Picked up", "Picked up", S.IN_TRANSIT),
    M.HUB_ARRIVAL: FedExCode("AR", "IT", "In transit", "Arrived at FedEx location", S.IN_TRANSIT),
    M.HUB_DEPARTURE: FedExCode("DP", "IT", "In transit", "Departed FedEx location", S.IN_TRANSIT),
    M.CUSTOMS: FedExCode("CC", "IT", "In transit", "International shipment release - Import", S.IN_TRANSIT),
    M.DELAYED: FedExCode("DY", "DY", "Delay", "Delay", S.IN_TRANSIT, ("", "Operational delay")),
    # Out for delivery and ready for pickup carry the coarse derived code IT, as in real answers.
    M.OUT_FOR_DELIVERY: FedExCode(
        "OD", "IT", "In transit", "On FedEx vehicle for delivery", S.OUT_FOR_DELIVERY
    ),
    M.DELIVERED: FedExCode("DL", "DL", "Delivered", "Delivered", S.DELIVERED),
    M.FAILED_ATTEMPT: FedExCode(
        "DE",
        "DE",
        "Delivery exception",
        "Delivery exception",
        S.FAILED_ATTEMPT,
        ("08", "Customer not available or business closed"),
    ),
    M.AVAILABLE_FOR_PICKUP: FedExCode(
        "HP", "IT", "In transit", "Ready for recipient pickup", S.AVAILABLE_FOR_PICKUP
    ),
    M.COLLECTED: FedExCode("DL", "DL", "Delivered", "Picked up by recipient", S.DELIVERED),
    M.LOST: FedExCode(
        "SE", "SE", "Shipment exception", "Shipment exception", S.EXCEPTION, ("A16", "Package lost")
    ),
    M.DAMAGED: FedExCode(
        "SE", "SE", "Shipment exception", "Shipment exception", S.EXCEPTION, ("A12", "Package damaged")
    ),
    M.REFUSED: FedExCode(
        "DE", "DE", "Delivery exception", "Delivery exception", S.EXCEPTION, ("07", "Refused by recipient")
    ),
    M.RETURNING: FedExCode("RS", "RS", "Return to shipper", "Returning package to shipper", S.RETURNING),
}
_DELIVERED = frozenset({M.DELIVERED, M.COLLECTED})


def _errors(status: int, code: str, message: str) -> Response:
    return json_response(
        {"transactionId": str(uuid.uuid4()), "errors": [{"code": code, "message": message}]}, status
    )


def _address(place: Place) -> dict[str, Any]:
    return {
        "city": place.city,
        "stateOrProvinceCode": place.state,
        "postalCode": place.postcode,
        "countryCode": place.country,
        "residential": False,
        "countryName": place.country_name,
    }


def _scan_event(scan: Scan) -> dict[str, Any]:
    code = CODES[scan.milestone]
    return {
        "date": local_time(scan).isoformat(timespec="seconds"),
        "derivedStatus": code.derived_text,
        "scanLocation": _address(scan.place),
        "locationId": scan.place.site_id,
        "locationType": "FEDEX_FACILITY",
        "exceptionDescription": code.exception[1],
        "eventDescription": code.text,
        "eventType": code.code,
        "derivedStatusCode": code.derived,
        "exceptionCode": code.exception[0],
    }


class FedExApi(OAuthCarrierApi):
    """FedEx Track: form client credentials, Bearer, JSON batch of ≤ 30, per-result errors in HTTP 200."""

    code = "fedex"
    codes = CODES
    batch_limit = 30
    track_path = "/track/v1/trackingnumbers"
    track_method = "POST"
    token_path = "/oauth/token"

    def token_body(self, token: str, expires_in: int, client_id: str) -> dict[str, Any]:
        """FedEx token answer."""
        return {"access_token": token, "token_type": "bearer", "expires_in": expires_in, "scope": "CXS-TP"}

    def invalid_client(self) -> Response:
        """401 NOT.AUTHORIZED.ERROR."""
        message = "The given client credentials were not valid. Please modify your request and try again."
        return _errors(401, "NOT.AUTHORIZED.ERROR", message)

    def unauthorized(self, state: TokenState) -> Response:
        """401, worded for expired or invalid tokens."""
        if state is TokenState.EXPIRED:
            return _errors(
                401, "NOT.AUTHORIZED.ERROR", "Access token expired. Please modify your request and try again."
            )
        return _errors(
            401, "NOT.AUTHORIZED.ERROR", "Invalid access token. Please modify your request and try again."
        )

    def numbers(self, request: Request, args: Mapping[str, str]) -> list[str] | Response:
        """`trackingInfo[].trackingNumberInfo.trackingNumber`, 1 to 30 of them."""
        body = request.get_json(silent=True)
        info = body.get("trackingInfo") if isinstance(body, dict) else None
        if not isinstance(info, list):
            return _errors(400, "INVALID.INPUT.EXCEPTION", "Invalid field value in the input")
        numbers = [
            str(entry.get("trackingNumberInfo", {}).get("trackingNumber", "")).strip()
            for entry in info
            if isinstance(entry, dict)
        ]
        if not numbers or not all(numbers):
            return _errors(400, "TRACKING.TRACKINGNUMBER.EMPTY", "Please provide tracking number.")
        if len(numbers) > self.batch_limit:
            return _errors(
                400,
                "TRACKING.TRACKINGNUMBER.LIMITEXCEEDED",
                "The number of tracking numbers exceeds the limit of 30.",
            )
        return numbers

    def render(self, tracked: list[Tracked], request: Request) -> Response:
        """One complete result per requested number, in request order."""
        results = [
            {
                "trackingNumber": item.number,
                "trackResults": [_result(item) if item.found else _not_found(item.number)],
            }
            for item in tracked
        ]
        return json_response(
            {"transactionId": str(uuid.uuid4()), "output": {"completeTrackResults": results}}
        )

    def rate_limited(self, retry_after: int) -> Response:
        """429 RATE.LIMIT.EXCEEDED."""
        message = "We have received too many requests in a short duration. Please wait a while to try again."
        return _errors(429, "RATE.LIMIT.EXCEEDED", message)

    def server_error(self) -> Response:
        """503 SERVICE.UNAVAILABLE.ERROR."""
        message = "The service is currently unavailable. Please try again later."
        return _errors(503, "SERVICE.UNAVAILABLE.ERROR", message)


def _not_found(number: str) -> dict[str, Any]:
    return {
        "trackingNumberInfo": {"trackingNumber": number, "trackingNumberUniqueId": "", "carrierCode": ""},
        "error": {
            "code": "TRACKING.TRACKINGNUMBER.NOTFOUND",
            "message": "Tracking number cannot be found. Please correct the tracking number and try again.",
        },
    }


def _result(item: Tracked) -> dict[str, Any]:
    route = item.route
    latest = item.scans[-1]
    code = CODES[latest.milestone]
    milestones = {scan.milestone: scan for scan in item.scans}
    # SHIP is a date-only value with a meaningless offset, as FedEx sends it.
    ship_day = local_time(item.scans[0]).strftime("%Y-%m-%dT00:00:00%z")
    dates = [{"type": "SHIP", "dateTime": ship_day[:-2] + ":" + ship_day[-2:]}]
    if M.PICKED_UP in milestones:
        dates.append({"type": "ACTUAL_PICKUP", "dateTime": local_time(milestones[M.PICKED_UP]).isoformat()})
    if latest.milestone in _DELIVERED:
        dates.append({"type": "ACTUAL_DELIVERY", "dateTime": local_time(latest).isoformat()})
    result: dict[str, Any] = {
        "trackingNumberInfo": {
            "trackingNumber": item.number,
            "carrierCode": "FDXG",
            "trackingNumberUniqueId": f"12024~{item.number}~FDEG",
        },
        "additionalTrackingInfo": {"hasAssociatedShipments": False, "nickname": "", "packageIdentifiers": []},
        "shipperInformation": {"address": _address(route.origin)},
        "recipientInformation": {"address": _address(route.destination)},
        "latestStatusDetail": {
            "code": code.code,
            "derivedCode": code.derived,
            "statusByLocale": code.derived_text,
            "description": code.text,
            "scanLocation": _address(latest.place),
            "ancillaryDetails": [{"reason": code.exception[0], "reasonDescription": code.exception[1]}]
            if code.exception[0]
            else [],
        },
        "serviceDetail": {"type": "FEDEX_GROUND", "description": "FedEx Ground", "shortDescription": "FG"},
        "dateAndTimes": dates,
        "availableImages": [],
        "scanEvents": [_scan_event(scan) for scan in reversed(item.scans)],
    }
    if item.eta:
        eta = item.eta.astimezone(ZoneInfo(route.destination.tz))
        day = eta.strftime("%Y-%m-%d")
        offset = eta.isoformat()[-6:]
        result["dateAndTimes"].append(
            {"type": "ESTIMATED_DELIVERY", "dateTime": eta.isoformat(timespec="seconds")}
        )
        result["estimatedDeliveryTimeWindow"] = {
            "type": "ESTIMATED_DELIVERY",
            "window": {"begins": f"{day}T08:00:00{offset}", "ends": f"{day}T20:00:00{offset}"},
        }
    if M.AVAILABLE_FOR_PICKUP in milestones:
        point = route.pickup_point
        result["holdAtLocation"] = {
            "locationId": point.site_id,
            "locationContactAndAddress": {
                "contact": {"companyName": point.name},
                "address": _address(point) | {"streetLines": [point.street]},
            },
            "locationType": "FEDEX_OFFICE",
        }
    if latest.milestone in _DELIVERED:
        result["deliveryDetails"] = {
            "receivedByName": "J.SMITH",
            "locationDescription": "Front Door",
            "actualDeliveryAddress": _address(latest.place),
            "deliveryAttempts": "1" if M.FAILED_ATTEMPT in milestones else "0",
        }
    return result
