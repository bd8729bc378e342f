"""FedEx – Track API (`POST /track/v1/trackingnumbers`, up to 30 numbers, OAuth2 client credentials)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from carriers.base import OAuthCarrier, Result
from carriers.errors import (
    CarrierAuthError,
    CarrierError,
    CarrierRateLimited,
    CarrierUnavailable,
    MalformedPayload,
    TrackingFailure,
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
from carriers.timeparse import parse_date, parse_iso, zone_for

CODE = "fedex"
DEFAULT_BASE_URL = "https://apis.fedex.com"
DEFAULT_ZONE = "America/Chicago"


EVENT_TYPES: dict[str, Code] = {
    **group_codes("OC OX", Code(Status.INFO_RECEIVED)),
    **group_codes("PU PX", Code(Status.IN_TRANSIT, Reason.PICKED_UP)),
    **group_codes(
        "AR AF AO AE DP IT IX OW LO OF FD SF PL PF AA EA ED EO TR CH AX AC SP PM AP AD DS EP DR",
        Code(Status.IN_TRANSIT),
    ),
    **group_codes("CC CP", Code(Status.IN_TRANSIT, Reason.CUSTOMS)),
    **group_codes("DY DD PD", Code(Status.IN_TRANSIT, Reason.CARRIER_DELAY)),
    "CD": Code(Status.IN_TRANSIT, Reason.CUSTOMS),
    "OD": Code(Status.OUT_FOR_DELIVERY),
    "DE": Code(Status.EXCEPTION),
    **group_codes("HL HP", Code(Status.AVAILABLE_FOR_PICKUP)),
    "DL": Code(Status.DELIVERED),
    "SE": Code(Status.EXCEPTION),
    "RS": Code(Status.RETURNING),
    "CA": Code(Status.CANCELLED),
    **group_codes("RR RM RC RP LP RG RD", INFORMATIONAL),  # delivery-option and return-label link events
}
DERIVED: dict[str, Code] = {
    "IN": Code(Status.INFO_RECEIVED),
    "PU": Code(Status.IN_TRANSIT, Reason.PICKED_UP),
    "IT": Code(Status.IN_TRANSIT),
    "DL": Code(Status.DELIVERED),
    "DE": Code(Status.EXCEPTION),
    "SE": Code(Status.EXCEPTION),
    "DY": Code(Status.IN_TRANSIT, Reason.CARRIER_DELAY),
    "RL": Code(Status.IN_TRANSIT, Reason.CARRIER_DELAY),
    "CA": Code(Status.CANCELLED),
    "RS": Code(Status.RETURNING),
}
ATTEMPT_EXCEPTIONS = frozenset({"08", "07", "15"})
ATTEMPT_WORDS = ("not available", "not home", "attempt", "business closed")
DELAY_REASONS = {"WEATHER": Reason.WEATHER, "CUSTOMS": Reason.CUSTOMS}


def event_meaning(
    event_type: str, derived: str, exception_code: str, words: str, delay_type: str
) -> Code | None:
    """eventType first, derived code as fallback; DE/CD refined by the exception code (FORMATS §12)."""
    kind = event_type.upper()
    if kind == "DE":
        if exception_code in ATTEMPT_EXCEPTIONS or any(w in words.lower() for w in ATTEMPT_WORDS):
            return Code(Status.FAILED_ATTEMPT, Reason.RECIPIENT_UNAVAILABLE)
        return Code(Status.EXCEPTION)
    if kind == "CD" and exception_code:
        return Code(Status.EXCEPTION, Reason.CUSTOMS)
    meaning = lookup(EVENT_TYPES, event_type) if event_type else None
    if meaning is None and derived:
        meaning = lookup(DERIVED, derived)
    if meaning is not None and meaning.reason is Reason.CARRIER_DELAY and delay_type.upper() in DELAY_REASONS:
        return Code(meaning.status, DELAY_REASONS[delay_type.upper()])
    return meaning


def _event(raw: dict[str, Any]) -> RawEvent:
    location = raw.get("scanLocation") if isinstance(raw.get("scanLocation"), dict) else {}
    country, state = text(location.get("countryCode")), text(location.get("stateOrProvinceCode"))
    # Usually ISO with the local offset; a pickup placeholder may come without one.
    occurred_at, assumed = parse_iso(text(raw.get("date")), zone_for(country, DEFAULT_ZONE, state))
    event_type = text(raw.get("eventType"))
    description = text(raw.get("eventDescription"))
    exception = text(raw.get("exceptionDescription"))
    meaning = event_meaning(
        event_type,
        text(raw.get("derivedStatusCode")),
        text(raw.get("exceptionCode")),
        f"{description} {exception}",
        text(dig(raw, "delayDetail", "type")),
    )
    return RawEvent(
        occurred_at=occurred_at,
        code=event_type or text(raw.get("derivedStatusCode")),
        meaning=meaning,
        description=f"{description} – {exception}" if exception and exception != description else description,
        location=join_location(text(location.get("city")), state, text(location.get("postalCode")), country),
        tz_assumed=assumed,
    )


def _error(code: str, message: str) -> CarrierError:
    upper = code.upper()
    text_ = f"fedex: {code}: {message}"
    if "NOTFOUND" in upper or upper.startswith("TRACKING."):
        return TrackingNotFound(text_)
    if "UNAUTHORIZED" in upper or "AUTH" in upper or "FORBIDDEN" in upper:
        return CarrierAuthError(text_)
    if "RATE" in upper or "QUOTA" in upper:
        return CarrierRateLimited(text_)
    return CarrierUnavailable(text_)


def _pickup(result: dict[str, Any]) -> PickupPoint | None:
    """The FedEx location a held parcel waits at (`holdAtLocation`): the company's name, never a person's."""
    hold = result.get("holdAtLocation")
    if not isinstance(hold, dict):
        return None
    address = dig(hold, "locationContactAndAddress", "address")
    address = address if isinstance(address, dict) else {}
    return pickup_point(
        dig(hold, "locationContactAndAddress", "contact", "companyName"),
        point_id=hold.get("locationId"),
        street=address.get("streetLines"),
        postcode=address.get("postalCode"),
        city=address.get("city"),
        country=address.get("countryCode"),
    )


def _result(number: str, result: dict[str, Any], ref: str | None) -> TrackingUpdate:
    warnings: list[str] = []
    events = collect(objects(result.get("scanEvents")), _event, warnings)
    latest = result.get("latestStatusDetail") if isinstance(result.get("latestStatusDetail"), dict) else None
    summary = None
    if latest and (text(latest.get("code")) or text(latest.get("derivedCode"))):
        code, derived = text(latest.get("code")), text(latest.get("derivedCode"))
        meaning = lookup(DERIVED, "RL") if derived.upper() == "RL" else None
        words = " ".join(
            [
                text(latest.get("description")),
                *(text(a.get("reasonDescription")) for a in objects(latest.get("ancillaryDetails"))),
            ]
        )
        meaning = meaning or event_meaning(code, derived, "", words, text(dig(latest, "delayDetail", "type")))
        summary = (code or derived, meaning)
    dates = {
        text(d.get("type")).upper(): text(d.get("dateTime")) for d in objects(result.get("dateAndTimes"))
    }
    estimated = parse_date(dates.get("ESTIMATED_DELIVERY")) or parse_date(
        dig(result, "estimatedDeliveryTimeWindow", "window", "ends")
    )
    return finish_update(
        CODE,
        number,
        events,
        newest_first=True,
        summary=summary,
        estimated_delivery=estimated,
        carrier_ref=ref,
        pickup_point=_pickup(result),
        warnings=warnings,
    )


@parser
def parse_tracking(body: bytes | str) -> list[Result]:
    """Parse a Track API answer: one update per trackResult, per-number errors as failures."""
    payload = load_json(body)
    complete = dig(payload, "output", "completeTrackResults")
    if not isinstance(complete, list):
        errors = objects(dig(payload, "errors"))
        if errors:
            raise _error(text(errors[0].get("code")), text(errors[0].get("message")))
        raise MalformedPayload("fedex: no output.completeTrackResults")
    results: list[Result] = []
    for entry in objects(complete):
        track_results = objects(entry.get("trackResults"))
        number = text(entry.get("trackingNumber")) or text(
            dig(track_results, 0, "trackingNumberInfo", "trackingNumber")
        )
        if not number:
            raise MalformedPayload("fedex: result without trackingNumber")
        for index, result in enumerate(track_results):
            has_data = bool(result.get("scanEvents") or result.get("latestStatusDetail"))
            error = result.get("error")
            if isinstance(error, dict) and not has_data:
                results.append(
                    TrackingFailure(number, _error(text(error.get("code")), text(error.get("message"))))
                )
                continue
            ref = text(dig(result, "trackingNumberInfo", "trackingNumberUniqueId")) or None
            if ref is None and len(track_results) > 1:
                ref = str(index)
            results.append(_result(number, result, ref))
    return results


class FedexCarrier(OAuthCarrier):
    """`POST /track/v1/trackingnumbers` with up to 30 `trackingInfo` entries and a bearer token."""

    code = CODE
    display_name = "FedEx"
    default_base_url = DEFAULT_BASE_URL
    batch_size = 30
    default_rate_per_second = 5.0
    token_path = "/oauth/token"
    parse = staticmethod(parse_tracking)

    def fetch(self, numbers: Sequence[str]) -> bytes:
        """One call for the whole batch."""
        body = {
            "includeDetailedScans": True,
            "trackingInfo": [{"trackingNumberInfo": {"trackingNumber": number}} for number in numbers],
        }
        headers = {"Content-Type": "application/json", "X-locale": "en_US"}
        return self.call(
            "POST",
            "/track/v1/trackingnumbers",
            headers=headers,
            data=json.dumps(body),
            not_found_on_404=False,
        ).content
