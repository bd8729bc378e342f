"""AfterShip – tracking webhooks (`{event, msg}`) and tracking objects (GET envelope or bare)."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from carriers.errors import MalformedPayload, error_from_body
from carriers.model import Reason, Status, TrackingUpdate
from carriers.normalize import Code, RawEvent, finish_update, join_location, lookup
from carriers.payload import collect, dig, load_json, objects, parser, require_object, text
from carriers.timeparse import parse_date, parse_iso, to_utc_if_naive, zone_for
from carriers.webhooks import header, hmac_sha256, same_signature

CODE = "aftership"
SIGNATURE_HEADER = "aftership-hmac-sha256"

TAGS: dict[str, Code] = {
    "PENDING": Code(Status.PENDING),
    "INFORECEIVED": Code(Status.INFO_RECEIVED),
    "INTRANSIT": Code(Status.IN_TRANSIT),
    "OUTFORDELIVERY": Code(Status.OUT_FOR_DELIVERY),
    "ATTEMPTFAIL": Code(Status.FAILED_ATTEMPT),
    "AVAILABLEFORPICKUP": Code(Status.AVAILABLE_FOR_PICKUP),
    "DELIVERED": Code(Status.DELIVERED),
    "EXCEPTION": Code(Status.EXCEPTION),
    "EXPIRED": Code(Status.EXPIRED),
}
SUBTAGS: dict[str, Code] = {
    "EXCEPTION_002": Code(Status.EXCEPTION, Reason.ADDRESS_PROBLEM),  # customer moved
    "EXCEPTION_003": Code(Status.EXCEPTION, Reason.REFUSED),
    "EXCEPTION_004": Code(Status.EXCEPTION, Reason.CUSTOMS),
    "EXCEPTION_005": Code(Status.EXCEPTION, Reason.CARRIER_DELAY),
    "EXCEPTION_006": Code(Status.EXCEPTION, Reason.HELD),  # held for payment
    "EXCEPTION_007": Code(Status.RETURNED),  # returned to sender
}


def tag_meaning(tag: str, subtag: str, subtag_message: str) -> Code | None:
    """The tag, refined by subtag; return subtags other than 'returned' mean on the way back."""
    refined = lookup(SUBTAGS, subtag)
    if refined is not None:
        return refined
    meaning = lookup(TAGS, tag)
    if meaning is not None and meaning.status is Status.EXCEPTION and "return" in subtag_message.lower():
        return Code(Status.RETURNING)
    return meaning


def _checkpoint(raw: dict[str, Any]) -> RawEvent:
    country = text(raw.get("country_iso3"))
    # New API versions send local time with offset; old ones none, so the checkpoint's country decides.
    occurred_at, assumed = parse_iso(text(raw.get("checkpoint_time")), zone_for(country, "UTC"))
    tag, subtag = text(raw.get("tag")), text(raw.get("subtag"))
    return RawEvent(
        occurred_at=occurred_at,
        code=subtag or tag,
        meaning=tag_meaning(tag, subtag, text(raw.get("subtag_message"))),
        description=text(raw.get("message")),
        location=join_location(
            text(raw.get("location")) or join_location(text(raw.get("city")), text(raw.get("state"))),
            text(raw.get("zip")),
            country,
        ),
        tz_assumed=assumed,
    )


def _tracking(tracking: dict[str, Any]) -> TrackingUpdate:
    number = text(tracking.get("tracking_number"))
    if not number:
        raise MalformedPayload("aftership: tracking without tracking_number")
    warnings: list[str] = []
    events = collect(objects(tracking.get("checkpoints")), _checkpoint, warnings)
    tag, subtag = text(tracking.get("tag")), text(tracking.get("subtag"))
    summary = (subtag or tag, tag_meaning(tag, subtag, text(tracking.get("subtag_message")))) if tag else None
    estimated = parse_date(tracking.get("expected_delivery")) or parse_date(
        dig(tracking, "latest_estimated_delivery", "datetime")
    )
    # shipment_delivery_date has no zone but is UTC (it equals the delivered checkpoint's instant).
    delivered = (
        to_utc_if_naive(text(tracking.get("shipment_delivery_date")))
        if tracking.get("shipment_delivery_date")
        else None
    )
    return finish_update(
        CODE,
        number,
        events,
        newest_first=False,
        summary=summary,
        estimated_delivery=estimated,
        delivered_at=delivered,
        carrier_ref=text(tracking.get("id")) or None,
        original_carrier=text(tracking.get("slug")) or None,
        warnings=warnings,
    )


@parser
def parse_tracking(body: bytes | str) -> list[TrackingUpdate]:
    """Parse a webhook body, a `{meta, data: {tracking}}` answer, or a bare tracking object."""
    payload = require_object(load_json(body), "aftership: body")
    meta_code = dig(payload, "meta", "code")
    if meta_code is not None and str(meta_code) not in ("200", "201"):
        status = str(meta_code)[:3]  # AfterShip's 4004-style codes start with the HTTP status
        raise error_from_body(CODE, status, text(dig(payload, "meta", "message")) or f"meta code {meta_code}")
    tracking = dig(payload, "msg")
    if not isinstance(tracking, dict):
        tracking = dig(payload, "data", "tracking")
    if not isinstance(tracking, dict):
        tracking = payload if "tracking_number" in payload else None
    if tracking is None:
        if "event" in payload:
            return []  # a webhook that carries no tracking (e.g. a test ping)
        raise MalformedPayload("aftership: no tracking object")
    return [_tracking(tracking)]


def parse_webhook(body: bytes, headers: Mapping[str, str]) -> list[TrackingUpdate]:
    """Updates carried by one webhook delivery (verify the signature first)."""
    return parse_tracking(body)


def verify_signature(body: bytes, headers: Mapping[str, str], secret: str) -> bool:
    """Check the base64 HMAC-SHA256 header (`aftership-hmac-sha256`, any case) over the raw body."""
    given = header(headers, SIGNATURE_HEADER)
    if not given or not secret:
        return False
    return same_signature(base64.b64encode(hmac_sha256(secret, body)).decode("ascii"), given)
