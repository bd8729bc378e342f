"""DHL – Shipment Tracking Unified (`/track/shipments`): newest first, event times without offset."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from werkzeug import Request, Response

from carriers.model import Status
from carriers.sandbox.base import CarrierApi, SandboxContext, Tracked, json_response, local_time
from carriers.sandbox.places import Place
from carriers.sandbox.scenarios import Milestone as M
from carriers.sandbox.shipments import Scan


@dataclass(frozen=True)
class DhlCode:
    """`statusCode` (coarse), `status` (short text) and `description`."""

    code: str
    short: str
    text: str
    status: Status


S = Status
CODES: dict[M, DhlCode] = {
    M.INFO_RECEIVED: DhlCode(
        "pre-transit",
        "SHIPMENT INFORMATION RECEIVED",
        "The shipment data has been transmitted by the sender.",
        S.INFO_RECEIVED,
    ),
    M.PICKED_UP: DhlCode("transit", "PICKED UP", "The shipment has been picked up.", S.IN_TRANSIT),
    M.HUB_ARRIVAL: DhlCode(
        "transit", "ARRIVED AT SORT FACILITY", "The shipment has arrived at the parcel center.", S.IN_TRANSIT
    ),
    M.HUB_DEPARTURE: DhlCode(
        "transit",
        "DEPARTED FROM SORT FACILITY",
        "The shipment has been processed in the parcel center.",
        S.IN_TRANSIT,
    ),
    M.CUSTOMS: DhlCode(
        "transit", "CUSTOMS CLEARANCE", "The shipment is undergoing customs clearance.", S.IN_TRANSIT
    ),
    M.DELAYED: DhlCode("transit", "DELAYED", "The shipment has been delayed in transit.", S.IN_TRANSIT),
    M.OUT_FOR_DELIVERY: DhlCode(
        "transit",
        "OUT FOR DELIVERY",
        "The shipment has been loaded onto the delivery vehicle.",
        S.OUT_FOR_DELIVERY,
    ),
    M.DELIVERED: DhlCode(
        "delivered", "DELIVERED", "The shipment has been successfully delivered.", S.DELIVERED
    ),
    M.FAILED_ATTEMPT: DhlCode(
        "failure",
        "DELIVERY ATTEMPTED",
        "Delivery attempt failed: the recipient was not present.",
        S.FAILED_ATTEMPT,
    ),
    M.AVAILABLE_FOR_PICKUP: DhlCode(
        "transit",
        "READY FOR PICKUP",
        "The shipment is ready for pick-up at the retail outlet.",
        S.AVAILABLE_FOR_PICKUP,
    ),
    M.COLLECTED: DhlCode(
        "delivered",
        "DELIVERED",
        "The recipient has picked up the shipment from the retail outlet.",
        S.DELIVERED,
    ),
    M.LOST: DhlCode(
        "failure", "LOST", "The shipment could not be located and is considered lost.", S.EXCEPTION
    ),
    M.DAMAGED: DhlCode("failure", "DAMAGED", "The shipment was damaged in transit.", S.EXCEPTION),
    M.REFUSED: DhlCode(
        "failure", "DELIVERY REFUSED", "The recipient refused to accept the shipment.", S.EXCEPTION
    ),
    M.RETURNING: DhlCode(
        "failure", "RETURNING", "The shipment is being returned to the sender.", S.RETURNING
    ),
    # DHL's coarse codes cannot say "back at the sender": FORMATS maps this to returning.
    M.RETURNED: DhlCode("failure", "RETURNED", "The shipment has been returned to the sender.", S.RETURNING),
}


def _problem(status: int, title: str, detail: str, instance: str = "/track/shipments") -> Response:
    body = {"title": title, "detail": detail, "status": status, "instance": instance}
    return json_response(body, status, "application/problem+json")


def _location(place: Place) -> dict[str, Any]:
    return {
        "address": {"countryCode": place.country, "postalCode": place.postcode, "addressLocality": place.city}
    }


def _event(scan: Scan) -> dict[str, Any]:
    code = CODES[scan.milestone]
    return {
        # DHL event timestamps carry no offset (local time of the scan).
        "timestamp": local_time(scan).strftime("%Y-%m-%dT%H:%M:%S"),
        "location": _location(scan.place),
        "statusCode": code.code,
        "status": code.short,
        "description": code.text,
    }


class DhlApi(CarrierApi):
    """DHL Unified: `DHL-API-Key` header (or query), RFC 7807 errors, 404 for unknown numbers."""

    code = "dhl"
    codes = CODES
    track_path = "/track/shipments"

    def authorize(self, ctx: SandboxContext, request: Request) -> Response | None:
        """Key in the `DHL-API-Key` header or the query string."""
        key = request.headers.get("DHL-API-Key") or request.args.get("DHL-API-Key")
        if key == ctx.credentials.api_key:
            return None
        return _problem(401, "Unauthorized", "Unauthorized for given resource.")

    def numbers(self, request: Request, args: Mapping[str, str]) -> list[str] | Response:
        """The single `trackingNumber` query value."""
        number = request.args.get("trackingNumber", "").strip()
        return [number] if number else _problem(400, "Bad Request", "Parameter 'trackingNumber' is required.")

    def render(self, tracked: list[Tracked], request: Request) -> Response:
        """The shipment, or the 404 problem document."""
        (item,) = tracked
        if not item.found:
            detail = "No shipment with given tracking number found."
            return _problem(404, "No result found", detail, f"/shipment/{item.number}")
        return json_response({"shipments": [_shipment(item)]})

    def rate_limited(self, retry_after: int) -> Response:
        """429 problem document."""
        return _problem(
            429, "Too many requests", "Too many requests for given API key. Please try again later."
        )

    def server_error(self) -> Response:
        """503 problem document."""
        return _problem(503, "Service Unavailable", "The service is temporarily unavailable.")


def _shipment(item: Tracked) -> dict[str, Any]:
    route = item.route
    latest = item.scans[-1]
    status = _event(latest)
    # The shipment-level status timestamp is UTC with `Z`, unlike the events.
    status["timestamp"] = latest.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    body: dict[str, Any] = {
        "id": item.number,
        "service": "express" if route.cross_border else "parcel-de",
        "origin": _location(route.origin),
        "destination": _location(route.destination),
        "status": status,
        "details": {
            "product": {"productName": "DHL Paket"},
            "totalNumberOfPieces": 1,
            "pieceIds": [item.number],
            "weight": {"value": 1.2, "unitText": "kg"},
        },
        "events": [_event(scan) for scan in reversed(item.scans)],
    }
    if item.eta:
        eta = item.eta.astimezone(UTC)
        day = eta.strftime("%Y-%m-%d")
        body["estimatedTimeOfDelivery"] = eta.strftime("%Y-%m-%dT%H:%M:%SZ")
        body["estimatedDeliveryTimeFrame"] = {
            "estimatedFrom": f"{day}T06:00:00Z",
            "estimatedThrough": f"{day}T18:00:00Z",
        }
        body["estimatedTimeOfDeliveryRemark"] = "By End of Day"
    if latest.milestone in (M.DELIVERED, M.COLLECTED):
        body["details"]["proofOfDelivery"] = {
            "timestamp": latest.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "signed": {"@type": "Person", "name": "M. Mustermann"},
        }
    return body
