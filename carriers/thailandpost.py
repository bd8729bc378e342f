"""Thailand Post – Track & Trace API (token exchange, then `POST /post/api/v1/track` for ≤ 1,000 barcodes)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from carriers.auth import ThailandPostToken, TokenAuth
from carriers.base import Carrier, Result
from carriers.errors import (
    CarrierAuthError,
    CarrierError,
    CarrierRateLimited,
    CarrierUnavailable,
    MalformedPayload,
    TrackingFailure,
    TrackingNotFound,
)
from carriers.model import Reason, Status
from carriers.normalize import Code, RawEvent, finish_update, group_codes, join_location, lookup
from carriers.payload import collect, dig, items, load_json, objects, parser, require_object, text
from carriers.timeparse import parse_slashed, zone_for

CODE = "thailandpost"
DEFAULT_BASE_URL = "https://trackapi.thailandpost.co.th"
ZONE = zone_for("TH", "Asia/Bangkok")


CODES: dict[str, Code] = {
    **group_codes("101 102", Code(Status.INFO_RECEIVED)),
    "103": Code(Status.IN_TRANSIT, Reason.PICKED_UP),
    **group_codes("201 204 205 206 207", Code(Status.IN_TRANSIT)),
    "202": Code(Status.IN_TRANSIT, Reason.CUSTOMS),
    "203": Code(Status.RETURNING),
    "301": Code(Status.OUT_FOR_DELIVERY),
    "302": Code(Status.AVAILABLE_FOR_PICKUP),
    "401": Code(Status.FAILED_ATTEMPT),
    "501": Code(Status.DELIVERED),
}
NOT_DELIVERED = Code(Status.FAILED_ATTEMPT)


def event_meaning(status: str, delivery_status: str) -> Code | None:
    """Status code; a 'final delivery' whose delivery_status is not S (success) did not succeed."""
    if status == "501" and delivery_status and delivery_status.upper() != "S":
        return NOT_DELIVERED
    return lookup(CODES, status)


def _event(raw: dict[str, Any]) -> RawEvent:
    occurred_at, assumed = parse_slashed(text(raw.get("status_date")), ZONE)
    status = text(raw.get("status"))
    return RawEvent(
        occurred_at=occurred_at,
        code=status,
        meaning=event_meaning(status, text(raw.get("delivery_status"))),
        description=text(raw.get("status_description")),
        location=join_location(text(raw.get("location")), text(raw.get("postcode"))),
        tz_assumed=assumed,
    )


def _error(message: str) -> CarrierError:
    lowered = message.lower()
    if "token" in lowered or "auth" in lowered or "permission" in lowered:
        return CarrierAuthError(f"thailandpost: {message}")
    if "limit" in lowered or "too many" in lowered:
        return CarrierRateLimited(f"thailandpost: {message}", retry_after=30.0)
    return CarrierUnavailable(f"thailandpost: {message}")


@parser
def parse_tracking(body: bytes | str) -> list[Result]:
    """Parse a track answer: one update per barcode; an empty list means the barcode is unknown."""
    payload = require_object(load_json(body), "thailandpost: answer")
    if payload.get("status") is False:
        raise _error(text(payload.get("message")) or "request refused")
    barcodes = dig(payload, "response", "items")
    if not isinstance(barcodes, dict):
        raise MalformedPayload("thailandpost: no response.items")
    results: list[Result] = []
    for barcode, records in barcodes.items():
        if not items(records):
            results.append(
                TrackingFailure(barcode, TrackingNotFound(f"thailandpost: no events for {barcode}"))
            )
            continue
        warnings: list[str] = []
        events = collect(objects(records), _event, warnings)
        results.append(finish_update(CODE, barcode, events, newest_first=False, warnings=warnings))
    return results


class ThailandPostCarrier(Carrier):
    """Token from `/post/api/v1/authenticate/token`, then `POST /post/api/v1/track` (15 calls / 3 s)."""

    code = CODE
    display_name = "Thailand Post"
    default_base_url = DEFAULT_BASE_URL
    batch_size = 1000
    default_rate_per_second = 5.0
    required_credentials = ("api_key",)
    parse = staticmethod(parse_tracking)

    def make_auth(self) -> TokenAuth:
        """The dashboard key buys a token that lasts about a month."""
        return ThailandPostToken(
            self.http, self.base_url + "/post/api/v1/authenticate/token", self.credential("api_key")
        )

    def fetch(self, numbers: Sequence[str]) -> bytes:
        """All barcodes of the batch in one call, every status, in the configured language."""
        language = (
            self.settings.language.upper() if self.settings.language.upper() in ("TH", "EN", "CN") else "EN"
        )
        body = {"status": "all", "language": language, "barcode": list(numbers)}
        headers = {"Content-Type": "application/json"}
        return self.call("POST", "/post/api/v1/track", headers=headers, data=json.dumps(body)).content
