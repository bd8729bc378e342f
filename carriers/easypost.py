"""EasyPost – tracker webhooks (`Event` with a `Tracker` result) and tracker objects."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

from carriers.errors import MalformedPayload, TrackingNotFound, error_from_body
from carriers.model import Reason, Status, TrackingUpdate
from carriers.normalize import Code, RawEvent, finish_update, join_location, lookup
from carriers.payload import collect, dig, load_json, objects, parser, require_object, text
from carriers.timeparse import UTC, parse_date, parse_iso
from carriers.webhooks import header, hmac_sha256, same_signature

CODE = "easypost"
SIGNATURE_HEADER = "X-Hmac-Signature"
SIGNATURE_PREFIX = "hmac-sha256-hex="

STATUSES: dict[str, Code] = {
    "UNKNOWN": Code(Status.UNKNOWN),
    "PRE_TRANSIT": Code(Status.INFO_RECEIVED),
    "IN_TRANSIT": Code(Status.IN_TRANSIT),
    "OUT_FOR_DELIVERY": Code(Status.OUT_FOR_DELIVERY),
    "AVAILABLE_FOR_PICKUP": Code(Status.AVAILABLE_FOR_PICKUP),
    "DELIVERED": Code(Status.DELIVERED),
    "RETURN_TO_SENDER": Code(Status.RETURNING),
    "FAILURE": Code(Status.EXCEPTION),
    "CANCELLED": Code(Status.CANCELLED),
    "ERROR": Code(Status.UNKNOWN),
}
DETAIL_REASONS: dict[str, Reason] = {
    "weather_delay": Reason.WEATHER,
    "delayed": Reason.CARRIER_DELAY,
    "damaged": Reason.DAMAGED,
    "lost": Reason.LOST,
    "refused": Reason.REFUSED,
    "held": Reason.HELD,
    "address_correction": Reason.ADDRESS_PROBLEM,
    "incorrect_address": Reason.ADDRESS_PROBLEM,
    "customs_hold": Reason.CUSTOMS,
}


def status_meaning(status: str, detail: str) -> Code | None:
    """EasyPost's status, refined by `status_detail` (attempts, reasons)."""
    meaning = lookup(STATUSES, status)
    if meaning is None:
        return None
    detail = detail.lower()
    if meaning.status is Status.EXCEPTION and "attempt" in detail:
        return Code(Status.FAILED_ATTEMPT, Reason.RECIPIENT_UNAVAILABLE)
    return Code(meaning.status, DETAIL_REASONS.get(detail, meaning.reason))


def _event(raw: dict[str, Any]) -> RawEvent:
    location = raw.get("tracking_location") if isinstance(raw.get("tracking_location"), dict) else {}
    occurred_at, assumed = parse_iso(text(raw.get("datetime")), UTC)
    status = text(raw.get("status"))
    return RawEvent(
        occurred_at=occurred_at,
        code=status,
        meaning=status_meaning(status, text(raw.get("status_detail"))),
        description=text(raw.get("message")) or text(raw.get("description")),
        location=join_location(
            text(location.get("city")),
            text(location.get("state")),
            text(location.get("zip")),
            text(location.get("country")),
        ),
        tz_assumed=assumed,
    )


def _tracker(tracker: dict[str, Any]) -> TrackingUpdate:
    number = text(tracker.get("tracking_code"))
    if not number:
        raise MalformedPayload("easypost: tracker without tracking_code")
    warnings: list[str] = []
    details = objects(tracker.get("tracking_details"))
    events = collect(details, _event, warnings)
    status = text(tracker.get("status"))
    meaning = status_meaning(status, text(tracker.get("status_detail")))
    if meaning is not None and meaning.status is Status.UNKNOWN and not details:
        meaning = Code(Status.PENDING)
    # est_delivery_date is a local date dressed as UTC midnight; the local field is the truth when present.
    estimated = parse_date(dig(tracker, "carrier_detail", "est_delivery_date_local")) or parse_date(
        tracker.get("est_delivery_date")
    )
    return finish_update(
        CODE,
        number,
        events,
        newest_first=False,
        summary=(status, meaning) if status else None,
        estimated_delivery=estimated,
        carrier_ref=text(tracker.get("id")) or None,
        original_carrier=text(tracker.get("carrier")) or None,
        warnings=warnings,
    )


@parser
def parse_tracking(body: bytes | str) -> list[TrackingUpdate]:
    """Parse a webhook `Event` (tracker.* events) or a bare `Tracker` object."""
    payload = require_object(load_json(body), "easypost: body")
    if isinstance(payload.get("error"), dict):
        error = payload["error"]
        code = text(error.get("code"))
        message = f"{code}: {text(error.get('message'))}"
        if "NOT_FOUND" in code.upper() or "NOTFOUND" in code.upper():
            raise TrackingNotFound(f"easypost: {message}")
        raise error_from_body(CODE, 422 if code else 500, message)
    if text(payload.get("object")) == "Event":
        result = payload.get("result")
        if not isinstance(result, dict) or text(result.get("object")) != "Tracker":
            return []  # an event about something other than a tracker: nothing to ingest
        return [_tracker(result)]
    if text(payload.get("object")) == "Tracker" or "tracking_code" in payload:
        return [_tracker(payload)]
    raise MalformedPayload("easypost: neither an Event nor a Tracker")


def parse_webhook(body: bytes, headers: Mapping[str, str]) -> list[TrackingUpdate]:
    """Updates carried by one webhook delivery (verify the signature first)."""
    return parse_tracking(body)


def verify_signature(body: bytes, headers: Mapping[str, str], secret: str) -> bool:
    """Check `X-Hmac-Signature: hmac-sha256-hex=<hex>` over the raw body with the NFKD-normalised secret."""
    given = header(headers, SIGNATURE_HEADER)
    if not given or not secret:
        return False
    digest = hmac_sha256(unicodedata.normalize("NFKD", secret), body).hex()
    return same_signature(SIGNATURE_PREFIX + digest, given.strip().lower())
