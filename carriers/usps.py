"""USPS – Tracking v3 (`/tracking/v3/tracking/{number}?expand=DETAIL`, OAuth2 client credentials)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from carriers.base import OAuthCarrier, Result
from carriers.errors import CarrierAuthError, MalformedPayload, error_from_body
from carriers.model import Reason, Status
from carriers.normalize import Code, RawEvent, finish_update, group_codes, join_location, lookup
from carriers.payload import collect, dig, load_json, objects, parser, require_object, text
from carriers.timeparse import UTC, local_with_offset, parse_date, parse_iso, with_offset, zone_for

CODE = "usps"
DEFAULT_BASE_URL = "https://apis.usps.com"
DEFAULT_ZONE = "America/New_York"


# Pub 199 scan codes seen in v3 and legacy answers (strings with leading zeros: never cast to int).
EVENT_CODES: dict[str, Code] = {
    **group_codes("GX MA", Code(Status.INFO_RECEIVED)),
    "03": Code(Status.IN_TRANSIT, Reason.PICKED_UP),
    **group_codes("OA SF 10 T1 TL A1 EF PC 07", Code(Status.IN_TRANSIT)),
    "OF": Code(Status.OUT_FOR_DELIVERY),
    "02": Code(Status.FAILED_ATTEMPT, Reason.RECIPIENT_UNAVAILABLE),
    "04": Code(Status.EXCEPTION, Reason.REFUSED),
    "05": Code(Status.EXCEPTION, Reason.ADDRESS_PROBLEM),
    "01": Code(Status.DELIVERED),
}
CATEGORIES: dict[str, Code] = {
    "PRE-SHIPMENT": Code(Status.INFO_RECEIVED),
    "ACCEPTED": Code(Status.IN_TRANSIT, Reason.PICKED_UP),
    "IN TRANSIT": Code(Status.IN_TRANSIT),
    "OUT FOR DELIVERY": Code(Status.OUT_FOR_DELIVERY),
    "DELIVERY ATTEMPT": Code(Status.FAILED_ATTEMPT, Reason.RECIPIENT_UNAVAILABLE),
    "AVAILABLE FOR PICKUP": Code(Status.AVAILABLE_FOR_PICKUP),
    "DELIVERED": Code(Status.DELIVERED),
    "ALERT": Code(Status.EXCEPTION),
    "MISSENT": Code(Status.EXCEPTION, Reason.ADDRESS_PROBLEM),
    "RETURN TO SENDER": Code(Status.RETURNING),
}


def _event(raw: dict[str, Any]) -> RawEvent:
    state = text(raw.get("eventState"))
    offset = text(raw.get("GMTOffset"))
    if text(raw.get("GMTTimestamp")):
        # GMTTimestamp is exact (seconds, Z); shown in the event's own offset when USPS gives it.
        moment, _ = parse_iso(text(raw.get("GMTTimestamp")), UTC)
        occurred_at, assumed = (with_offset(moment, offset) if offset else moment), False
    elif offset:
        occurred_at, assumed = local_with_offset(text(raw.get("eventTimestamp")), offset), False
    else:
        zone = zone_for(text(raw.get("eventCountry")) or "US", DEFAULT_ZONE, state)
        occurred_at, assumed = parse_iso(text(raw.get("eventTimestamp")), zone)
    code = text(raw.get("eventCode"))
    # Pub 199 has hundreds of codes; for one we do not know, USPS's own event type names the category.
    meaning = lookup(EVENT_CODES, code) or lookup(CATEGORIES, text(raw.get("eventType")))
    return RawEvent(
        occurred_at=occurred_at,
        code=code,
        meaning=meaning,
        description=text(raw.get("eventType")),
        location=join_location(
            text(raw.get("eventCity")), state, text(raw.get("eventZIP")), text(raw.get("eventCountry"))
        ),
        tz_assumed=assumed,
    )


@parser
def parse_tracking(body: bytes | str) -> list[Result]:
    """Parse a v3 tracking answer (or its error / OAuth error body)."""
    payload = require_object(load_json(body), "usps: answer")
    error = payload.get("error")
    if isinstance(error, str):
        raise CarrierAuthError(f"usps: {error}: {text(payload.get('error_description'))}")
    if isinstance(error, dict):
        raise error_from_body(CODE, error.get("code"), text(error.get("message")) or "error")
    number = text(payload.get("trackingNumber"))
    if not number:
        raise MalformedPayload("usps: no trackingNumber")
    warnings: list[str] = []
    events = collect(objects(payload.get("trackingEvents")), _event, warnings)
    category = text(payload.get("statusCategory"))
    summary = (category, lookup(CATEGORIES, category)) if category else None
    estimated = parse_date(payload.get("expectedDeliveryDate")) or parse_date(
        dig(payload, "expectedDeliveryTimeStamp")
    )
    return [
        finish_update(
            CODE,
            number,
            events,
            newest_first=True,
            summary=summary,
            estimated_delivery=estimated,
            warnings=warnings,
        )
    ]


class UspsCarrier(OAuthCarrier):
    """`GET /tracking/v3/tracking/{number}?expand=DETAIL` with a bearer token from `/oauth2/v3/token`."""

    code = CODE
    display_name = "USPS"
    default_base_url = DEFAULT_BASE_URL
    batch_size = 1
    default_rate_per_second = 1.0
    token_path = "/oauth2/v3/token"
    parse = staticmethod(parse_tracking)

    def fetch(self, numbers: Sequence[str]) -> bytes:
        """One number per call."""
        path = f"/tracking/v3/tracking/{quote(numbers[0], safe='')}"
        return self.call(
            "GET", path, params={"expand": "DETAIL"}, headers={"Accept": "application/json"}
        ).content
