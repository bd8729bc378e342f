"""UPS – Track API v1 (`/api/track/v1/details/{inquiryNumber}`, OAuth2 client credentials)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from carriers.base import OAuthCarrier, Result
from carriers.errors import (
    CarrierAuthError,
    CarrierError,
    CarrierUnavailable,
    MalformedPayload,
    TrackingNotFound,
)
from carriers.model import PickupPoint, Reason, Status, TrackingUpdate
from carriers.normalize import (
    INFORMATIONAL,
    Code,
    RawEvent,
    finish_update,
    group_codes,
    join_location,
    lookup,
)
from carriers.payload import collect, dig, load_json, objects, parser, text
from carriers.pickup import pickup_point
from carriers.timeparse import UTC, parse_compact, parse_date, with_offset, zone_for

CODE = "ups"
DEFAULT_BASE_URL = "https://onlinetools.ups.com"
DEFAULT_ZONE = "America/New_York"

TYPES: dict[str, Code] = {
    "M": Code(Status.INFO_RECEIVED),
    "MV": Code(Status.CANCELLED),
    "P": Code(Status.IN_TRANSIT, Reason.PICKED_UP),
    "I": Code(Status.IN_TRANSIT),
    "W": Code(Status.IN_TRANSIT),
    "DO": Code(Status.IN_TRANSIT),
    "DD": Code(Status.IN_TRANSIT),
    "D": Code(Status.DELIVERED),
    "X": Code(Status.EXCEPTION),
    "U": INFORMATIONAL,
    "NA": Code(Status.UNKNOWN),
}


STATUS_CODES: dict[str, Code] = {
    **group_codes("003 157 079 080 044 045", Code(Status.INFO_RECEIVED)),
    **group_codes("007", Code(Status.CANCELLED)),
    **group_codes("038 160 167 168 169", Code(Status.IN_TRANSIT, Reason.PICKED_UP)),
    **group_codes("005 010 025 039 047 087 158 159 164 165 016 019 020 071 073 074", Code(Status.IN_TRANSIT)),
    **group_codes("012 014 092 134", Code(Status.IN_TRANSIT, Reason.CUSTOMS)),
    **group_codes("032 046 048 049 051 052 053 086 090 132", Code(Status.IN_TRANSIT, Reason.CARRIER_DELAY)),
    **group_codes("006 021 037 089 091 146 162 072 078", Code(Status.OUT_FOR_DELIVERY)),
    **group_codes(
        "022 023 024 060 061 062 066 145", Code(Status.FAILED_ATTEMPT, Reason.RECIPIENT_UNAVAILABLE)
    ),
    **group_codes("065", Code(Status.INFO_RECEIVED)),  # pickup attempted: UPS does not have it yet
    **group_codes("017 040 144 161", Code(Status.AVAILABLE_FOR_PICKUP)),
    **group_codes("011 026 143", Code(Status.DELIVERED)),
    **group_codes("013 029 030 069 124 125 126 149", Code(Status.EXCEPTION)),
    **group_codes("050", Code(Status.EXCEPTION, Reason.ADDRESS_PROBLEM)),
    **group_codes("058", Code(Status.EXCEPTION, Reason.CUSTOMS)),
    **group_codes("059", Code(Status.EXCEPTION, Reason.DAMAGED)),
    **group_codes("064", Code(Status.EXCEPTION, Reason.REFUSED)),
    **group_codes("068", Code(Status.EXCEPTION, Reason.LOST)),
    **group_codes("147", Code(Status.EXCEPTION, Reason.HELD)),
    **group_codes("033 035 036", Code(Status.RETURNING)),
    **group_codes("034 067", Code(Status.RETURNED)),
    **group_codes("081", Code(Status.RETURNED, Reason.DAMAGED)),
    **group_codes("153 154 155", INFORMATIONAL),
    **group_codes("000 148 163", Code(Status.UNKNOWN)),
}
# An exception type keeps its meaning: the 3-digit code may only make it more specific, not calmer.
EXCEPTION_REFINABLE = frozenset({Status.FAILED_ATTEMPT, Status.RETURNING, Status.RETURNED, Status.EXCEPTION})


def status_meaning(status: dict[str, Any]) -> Code | None:
    """Map on `type` first, refine with the 3-digit `statusCode` (FORMATS §12)."""
    kind = text(status.get("type"))
    by_type = lookup(TYPES, kind) if kind else None
    three_digit = text(status.get("statusCode")) or (
        text(status.get("code")) if text(status.get("code")).isdigit() else ""
    )
    by_code = STATUS_CODES.get(three_digit)
    if by_type is None or by_code is None:
        return by_type or by_code
    if by_type.status is None:
        return by_type
    if kind.upper() == "X":
        if by_code.status in EXCEPTION_REFINABLE:
            return by_code
        return Code(Status.EXCEPTION, by_code.reason)
    return by_code


def status_code(status: dict[str, Any]) -> str:
    """The raw code kept on events: type, 3-digit status code and activity code."""
    return "/".join(filter(None, (text(status.get(k)) for k in ("type", "statusCode", "code"))))


def _event(raw: dict[str, Any]) -> RawEvent:
    status = raw.get("status") if isinstance(raw.get("status"), dict) else {}
    address = dig(raw, "location", "address")
    address = address if isinstance(address, dict) else {}
    country, state = text(address.get("countryCode")), text(address.get("stateProvince"))
    gmt_offset = text(raw.get("gmtOffset"))
    if text(raw.get("gmtDate")) and text(raw.get("gmtTime")):
        # The gmt* trio is exact; shown in the local offset when UPS gives it.
        moment = parse_compact(text(raw.get("gmtDate")), text(raw.get("gmtTime")), UTC)
        occurred_at, assumed = (with_offset(moment, gmt_offset) if gmt_offset else moment), False
    else:
        occurred_at = parse_compact(
            text(raw.get("date")), text(raw.get("time")), zone_for(country, DEFAULT_ZONE, state)
        )
        assumed = True
    return RawEvent(
        occurred_at=occurred_at,
        code=status_code(status),
        meaning=status_meaning(status),
        description=text(status.get("description")),
        location=join_location(text(address.get("city")), state, text(address.get("postalCode")), country),
        tz_assumed=assumed,
    )


def _estimated(package: dict[str, Any]) -> Any:
    dates = {text(d.get("type")).upper(): d.get("date") for d in objects(package.get("deliveryDate"))}
    return parse_date(dates.get("RDD")) or parse_date(dates.get("SDD"))


def _is_pickup_scan(activity: dict[str, Any]) -> bool:
    status = activity.get("status")
    meaning = status_meaning(status) if isinstance(status, dict) else None
    return meaning is not None and meaning.status is Status.AVAILABLE_FOR_PICKUP


def _pickup(package: dict[str, Any]) -> PickupPoint | None:
    """An Access Point parcel: where its pickup scan happened and `accessPointInformation.pickupByDate`.

    UPS names no Access Point in tracking, only the scan's address (activities newest first).
    """
    info = package.get("accessPointInformation")
    if not isinstance(info, dict):
        return None
    scan = next((a for a in objects(package.get("activity")) if _is_pickup_scan(a)), {})
    address = dig(scan, "location", "address")
    address = address if isinstance(address, dict) else {}
    return pickup_point(
        "",
        street=[address.get("addressLine1"), address.get("addressLine2"), address.get("addressLine3")],
        postcode=address.get("postalCode"),
        city=address.get("city"),
        country=address.get("countryCode"),
        last_day=info.get("pickupByDate"),
    )


def _package(inquiry: str, package: dict[str, Any], several: bool) -> TrackingUpdate:
    warnings: list[str] = []
    events = collect(objects(package.get("activity")), _event, warnings)
    current = package.get("currentStatus") if isinstance(package.get("currentStatus"), dict) else None
    summary = (status_code(current), status_meaning(current)) if current and status_code(current) else None
    ref = text(package.get("trackingNumber"))
    return finish_update(
        CODE,
        inquiry or ref,
        events,
        newest_first=True,
        summary=summary,
        estimated_delivery=_estimated(package),
        carrier_ref=ref if (several or (ref and ref != inquiry)) else None,
        pickup_point=_pickup(package),
        warnings=warnings,
    )


def _error(code: str, message: str) -> CarrierError:
    text_ = f"ups: {code}: {message}"
    if code.upper().startswith(("TW", "TV")) or code == "151044":
        # TW0001 no tracking information; TV1002 invalid inquiry number (also seen transiently for real ones).
        return TrackingNotFound(text_)
    if code.startswith("250") or code.upper().startswith("UJ"):
        return CarrierAuthError(text_)
    return CarrierUnavailable(text_)


@parser
def parse_tracking(body: bytes | str) -> list[Result]:
    """Parse a Track API answer; errors arrive as `response.errors` or as a TW0001 warning in HTTP 200."""
    payload = load_json(body)
    errors = objects(dig(payload, "response", "errors"))
    if errors:
        raise _error(text(errors[0].get("code")), text(errors[0].get("message")))
    shipments = dig(payload, "trackResponse", "shipment")
    if not isinstance(shipments, list):
        raise MalformedPayload("ups: no trackResponse.shipment")
    updates: list[Result] = []
    warning: dict[str, Any] | None = None
    for shipment in objects(shipments):
        packages = objects(shipment.get("package"))
        for package in packages:
            updates.append(_package(text(shipment.get("inquiryNumber")), package, len(packages) > 1))
        if not packages and objects(shipment.get("warnings")):
            warning = objects(shipment.get("warnings"))[0]
    if not updates:
        if warning is not None:
            raise _error(text(warning.get("code")), text(warning.get("message")))
        raise TrackingNotFound("ups: no packages in the answer")
    return updates


class UpsCarrier(OAuthCarrier):
    """`GET /api/track/v1/details/{inquiryNumber}` with a bearer token and the required transId headers."""

    code = CODE
    display_name = "UPS"
    default_base_url = DEFAULT_BASE_URL
    batch_size = 1
    default_rate_per_second = 5.0
    token_path = "/security/v1/oauth/token"
    basic_client_auth = True
    parse = staticmethod(parse_tracking)

    def fetch(self, numbers: Sequence[str]) -> bytes:
        """One inquiry number per call."""
        headers = {
            "transId": uuid.uuid4().hex[:32],
            "transactionSrc": "leveranse",
            "Accept": "application/json",
        }
        params = {
            "locale": "en_US",
            "returnSignature": "false",
            "returnMilestones": "false",
            "returnPOD": "false",
        }
        return self.call(
            "GET", f"/api/track/v1/details/{quote(numbers[0], safe='')}", headers=headers, params=params
        ).content
