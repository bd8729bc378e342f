"""GLS – Track & Trace v1 (`/tracking/simple/trackids/{a,b}`, up to 10): newest first, `+0200` offsets."""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from werkzeug import Request, Response

from carriers.model import Status
from carriers.sandbox.base import Tracked, json_response, local_time
from carriers.sandbox.oauth import OAuthCarrierApi
from carriers.sandbox.scenarios import Milestone as M
from carriers.sandbox.shipments import Scan
from carriers.sandbox.tokens import TokenState


@dataclass(frozen=True)
class GlsCode:
    """Event `code` (GROUP.DETAIL, GLS spells INTIAL) and the parcel `status` it leaves."""

    code: str
    parcel_status: str
    text: str
    status: Status


S = Status
# GLS has no parcel status for loss, damage or returns; those milestones are not reported.
CODES: dict[M, GlsCode] = {
    M.INFO_RECEIVED: GlsCode(
        "INTIAL.PREADVICE",
        "PREADVICE",
        "The parcel data was entered into the GLS IT system.",
        S.INFO_RECEIVED,
    ),
    M.PICKED_UP: GlsCode("INTIAL.NORMAL", "INTRANSIT", "The parcel was handed over to GLS.", S.IN_TRANSIT),
    M.HUB_ARRIVAL: GlsCode(
        "INBOUN.NORMAL", "INWAREHOUSE", "The parcel has reached the parcel center.", S.IN_TRANSIT
    ),
    M.HUB_DEPARTURE: GlsCode(
        "OUTBOU.NORMAL", "INTRANSIT", "The parcel has left the parcel center.", S.IN_TRANSIT
    ),
    M.DELAYED: GlsCode(
        "DELAYD.NORMAL", "INTRANSIT", "The parcel could not be forwarded as planned.", S.IN_TRANSIT
    ),
    M.OUT_FOR_DELIVERY: GlsCode(
        "INDELI.NORMAL",
        "INDELIVERY",
        "The parcel is expected to be delivered during the day.",
        S.OUT_FOR_DELIVERY,
    ),
    M.DELIVERED: GlsCode("DELIVD.NORMAL", "DELIVERED", "The parcel has been delivered.", S.DELIVERED),
    M.FAILED_ATTEMPT: GlsCode(
        "NOTDEL.NOTATHOME",
        "NOTDELIVERED",
        "The parcel could not be delivered as the consignee was absent.",
        S.FAILED_ATTEMPT,
    ),
    M.AVAILABLE_FOR_PICKUP: GlsCode(
        "DELIVD.PARCELSHOP",
        "DELIVEREDPS",
        "The parcel has been delivered at the ParcelShop (see ParcelShop information).",
        S.AVAILABLE_FOR_PICKUP,
    ),
    M.COLLECTED: GlsCode(
        "DELIVD.PSCOLLECT",
        "DELIVERED",
        "The parcel has been picked up by the consignee from the ParcelShop.",
        S.DELIVERED,
    ),
    M.REFUSED: GlsCode(
        "NOTDEL.REFUSED",
        "NOTDELIVERED",
        "The parcel could not be delivered as the reception was refused.",
        S.FAILED_ATTEMPT,
    ),
}


def _gls_time(scan: Scan) -> str:
    # GLS offsets have no colon: 2024-10-07T10:46:14+0200.
    return local_time(scan).strftime("%Y-%m-%dT%H:%M:%S%z")


def _fault(status: int, faultstring: str, errorcode: str) -> Response:
    return json_response({"fault": {"faultstring": faultstring, "detail": {"errorcode": errorcode}}}, status)


class GlsApi(OAuthCarrierApi):
    """GLS Track & Trace v1 behind Apigee: client credentials, Bearer, ≤ 10 comma-separated numbers."""

    code = "gls"
    codes = CODES
    batch_limit = 10
    track_path = "/track-and-trace-v1/tracking/simple/trackids/<numbers>"
    token_path = "/oauth2/v1/token"

    def token_body(self, token: str, expires_in: int, client_id: str) -> dict[str, Any]:
        """Apigee token answer (numbers as strings)."""
        return {
            "api_product_list": "[track-and-trace-v1]",
            "organization_name": "gls-group",
            "token_type": "Bearer",
            "issued_at": str(int(time.time() * 1000)),
            "client_id": client_id,
            "access_token": token,
            "application_name": "leveranse-sandbox",
            "scope": "",
            "expires_in": str(expires_in),
            "refresh_count": "0",
            "status": "approved",
        }

    def invalid_client(self) -> Response:
        """Apigee's invalid_client body."""
        return json_response({"ErrorCode": "invalid_client", "Error": "Client credentials are invalid"}, 401)

    def unauthorized(self, state: TokenState) -> Response:
        """Apigee key-management faults."""
        if state is TokenState.EXPIRED:
            return _fault(401, "Access Token expired", "keymanagement.service.access_token_expired")
        return _fault(401, "Invalid Access Token", "keymanagement.service.invalid_access_token")

    def numbers(self, request: Request, args: Mapping[str, str]) -> list[str] | Response:
        """The comma list from the path, at most 10."""
        numbers = [n.strip() for n in args["numbers"].split(",") if n.strip()]
        if len(numbers) > self.batch_limit:
            body = {
                "type": "about:blank",
                "title": "Bad Request",
                "status": 400,
                "detail": f"Provided trackids of size '{len(numbers)}' is more than allowed limit of 10",
                "instance": f"/tracking/simple/trackids/{args['numbers']}",
            }
            return json_response(body, 400, "application/problem+json")
        return numbers

    def render(self, tracked: list[Tracked], request: Request) -> Response:
        """One parcel (or per-parcel error) per requested number, in HTTP 200."""
        return json_response({"parcels": [_parcel(item) for item in tracked]})

    def rate_limited(self, retry_after: int) -> Response:
        """Apigee quota violation fault."""
        message = f"Rate limit quota violation. Quota limit  exceeded. Identifier : {uuid.uuid4()}"
        return _fault(429, message, "policies.ratelimit.QuotaViolation")

    def server_error(self) -> Response:
        """Apigee 503 fault."""
        return _fault(
            503, "The Service is temporarily unavailable", "messaging.adaptors.http.flow.ServiceUnavailable"
        )


def _parcel(item: Tracked) -> dict[str, Any]:
    if not item.found:
        return {"requested": item.number, "errorCode": "E_404_01", "errorMessage": "Resource Not Found"}
    latest = item.scans[-1]
    return {
        "requested": item.number,
        "unitno": item.number,
        "status": CODES[latest.milestone].parcel_status,
        "statusDateTime": _gls_time(latest),
        "_links": {
            "deliveryInfo": {
                "href": f"/tracking/deliveryinfo/parcelid/{item.number}?{{originaldestinationpostalcode}}",
                "templated": True,
            }
        },
        "events": [
            {
                "code": CODES[scan.milestone].code,
                "city": scan.place.city,
                "postalCode": scan.place.postcode,
                "country": scan.place.country,
                "description": CODES[scan.milestone].text,
                "eventDateTime": _gls_time(scan),
            }
            for scan in reversed(item.scans)
        ],
    }
