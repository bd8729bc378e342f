"""GLS – Track & Trace v1 (`/tracking/simple/trackids/{unitnos}`, ≤ 10 numbers, OAuth2 client credentials)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from carriers.base import OAuthCarrier, Result
from carriers.errors import (
    CarrierAuthError,
    CarrierError,
    CarrierRateLimited,
    CarrierUnavailable,
    MalformedPayload,
    TrackingFailure,
    TrackingNotFound,
    error_from_body,
)
from carriers.model import Reason, Status, TrackingUpdate
from carriers.normalize import INFORMATIONAL, Code, RawEvent, finish_update, join_location, lookup
from carriers.payload import collect, dig, load_json, objects, parser, require_object, text
from carriers.timeparse import parse_iso, zone_for

CODE = "gls"
DEFAULT_BASE_URL = "https://api.gls-group.net"
DEFAULT_ZONE = "Europe/Berlin"

PARCEL_STATUSES: dict[str, Code] = {
    "PLANNEDPICKUP": Code(Status.INFO_RECEIVED),
    "INPICKUP": Code(Status.INFO_RECEIVED),
    "PREADVICE": Code(Status.INFO_RECEIVED),
    "NOTPICKEDUP": Code(Status.EXCEPTION),
    "INTRANSIT": Code(Status.IN_TRANSIT),
    "INWAREHOUSE": Code(Status.IN_TRANSIT),
    "INDELIVERY": Code(Status.OUT_FOR_DELIVERY),
    "DELIVEREDPS": Code(Status.AVAILABLE_FOR_PICKUP),
    "DELIVERED": Code(Status.DELIVERED),
    "NOTDELIVERED": Code(Status.FAILED_ATTEMPT),
    "CANCELED": Code(Status.CANCELLED),
    "FINAL": INFORMATIONAL,  # "final" carries no status of its own: keep the previous one
}
# Event codes are GROUP.DETAIL (GLS spells the first group INTIAL); exact codes win over their group.
EVENT_CODES: dict[str, Code] = {
    "INTIAL.PREADVICE": Code(Status.INFO_RECEIVED),
    "INTIAL.E48_DATA": Code(Status.INFO_RECEIVED),
    "INTIAL.NORMAL": Code(Status.IN_TRANSIT, Reason.PICKED_UP),
    "DELIVD.PARCELSHOP": Code(Status.AVAILABLE_FOR_PICKUP),
    "NOTDEL.NOTATHOME": Code(Status.FAILED_ATTEMPT, Reason.RECIPIENT_UNAVAILABLE),
    "NOTDEL.REFUSED": Code(Status.FAILED_ATTEMPT, Reason.REFUSED),
}
EVENT_GROUPS: dict[str, Code] = {
    "INTIAL": Code(Status.INFO_RECEIVED),
    "INTRAN": Code(Status.IN_TRANSIT),
    "INWARE": Code(Status.IN_TRANSIT),
    "INBOUN": Code(Status.IN_TRANSIT),
    "OUTBOU": Code(Status.IN_TRANSIT),
    "DELAYD": Code(Status.IN_TRANSIT, Reason.CARRIER_DELAY),
    "INDELI": Code(Status.OUT_FOR_DELIVERY),
    "DELIVD": Code(Status.DELIVERED),
    "NOTDEL": Code(Status.FAILED_ATTEMPT),
    "CANCEL": Code(Status.CANCELLED),
    "CHANGD": INFORMATIONAL,
}


def event_meaning(code: str) -> Code | None:
    """The exact event code, else its group."""
    return lookup(EVENT_CODES, code) or lookup(EVENT_GROUPS, code.split(".", 1)[0])


def _event(raw: dict[str, Any]) -> RawEvent:
    country = text(raw.get("country"))
    occurred_at, assumed = parse_iso(text(raw.get("eventDateTime")), zone_for(country, DEFAULT_ZONE))
    code = text(raw.get("code"))
    return RawEvent(
        occurred_at=occurred_at,
        code=code,
        meaning=event_meaning(code),
        description=text(raw.get("description")),
        location=join_location(f"{text(raw.get('postalCode'))} {text(raw.get('city'))}", country),
        tz_assumed=assumed,
    )


def _parcel_error(code: str, message: str) -> CarrierError:
    text_ = f"gls: {code}: {message}"
    if "_404" in code or "_400" in code:
        return TrackingNotFound(text_)
    if "_401" in code or "_403" in code:
        return CarrierAuthError(text_)
    if "_429" in code:
        return CarrierRateLimited(text_)
    return CarrierUnavailable(text_)


def _parcel(parcel: dict[str, Any], requested: str) -> TrackingUpdate:
    warnings: list[str] = []
    events = collect(objects(parcel.get("events")), _event, warnings)
    status = text(parcel.get("status"))
    return finish_update(
        CODE,
        requested,
        events,
        newest_first=True,
        summary=(status, lookup(PARCEL_STATUSES, status)) if status else None,
        carrier_ref=text(parcel.get("unitno")) or None,
        warnings=warnings,
    )


@parser
def parse_tracking(body: bytes | str) -> list[Result]:
    """Parse a simple-tracking answer: per-parcel errors are failures; fault / problem bodies are errors."""
    payload = require_object(load_json(body), "gls: answer")
    fault = payload.get("fault")
    if isinstance(fault, dict):
        code = text(dig(fault, "detail", "errorcode"))
        message = f"gls: {text(fault.get('faultstring'))} ({code})"
        if "ratelimit" in code.lower() or "quota" in code.lower() or "spikearrest" in code.lower():
            raise CarrierRateLimited(message)
        if "oauth" in code.lower() or "apikey" in code.lower() or "token" in code.lower():
            raise CarrierAuthError(message)
        raise CarrierUnavailable(message)
    if "parcels" not in payload and "status" in payload and "title" in payload:
        raise error_from_body(
            CODE, payload.get("status"), f"{text(payload.get('title'))}: {text(payload.get('detail'))}"
        )
    if not isinstance(payload.get("parcels"), list):
        raise MalformedPayload("gls: no parcels array")
    results: list[Result] = []
    for parcel in objects(payload["parcels"]):
        requested = text(parcel.get("requested")) or text(parcel.get("unitno"))
        if not requested:
            raise MalformedPayload("gls: parcel without requested/unitno")
        if text(parcel.get("errorCode")):
            results.append(
                TrackingFailure(
                    requested, _parcel_error(text(parcel["errorCode"]), text(parcel.get("errorMessage")))
                )
            )
        else:
            results.append(_parcel(parcel, requested))
    return results


class GlsCarrier(OAuthCarrier):
    """`GET /track-and-trace-v1/tracking/simple/trackids/{n1,n2,…}` with a bearer token."""

    code = CODE
    display_name = "GLS"
    default_base_url = DEFAULT_BASE_URL
    batch_size = 10
    default_rate_per_second = 5.0
    token_path = "/oauth2/v1/token"
    parse = staticmethod(parse_tracking)

    def fetch(self, numbers: Sequence[str]) -> bytes:
        """Up to ten numbers, comma-separated in the path."""
        path = "/track-and-trace-v1/tracking/simple/trackids/" + ",".join(quote(n, safe="") for n in numbers)
        headers = {"Accept": "application/json", "Accept-Language": self.settings.language}
        return self.call("GET", path, headers=headers).content
