"""Turning a carrier's raw events into a finished TrackingUpdate: one set of rules for every carrier."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from carriers.model import PickupPoint, Reason, Status, TrackingEvent, TrackingUpdate
from carriers.timeparse import UTC


@dataclass(frozen=True)
class Code:
    """What one carrier code means; `status=None` marks an informational event (keeps the status)."""

    status: Status | None
    reason: Reason | None = None


INFORMATIONAL = Code(None)


def group_codes(codes: str, meaning: Code) -> dict[str, Code]:
    """A slice of a code table: every blank-separated code in `codes` with the same meaning."""
    return dict.fromkeys(codes.split(), meaning)


@dataclass(frozen=True)
class RawEvent:
    """An event as read from the payload; `meaning=None` means the code is not in our table."""

    occurred_at: datetime
    code: str
    meaning: Code | None
    description: str = ""
    location: str = ""
    tz_assumed: bool = False


def lookup(table: Mapping[str, Code], code: str) -> Code | None:
    """A code-table lookup that ignores case and surrounding blanks (codes arrive as `z08` and `Z08`)."""
    return table.get(code.strip().upper())


def join_location(*parts: object) -> str:
    """Non-empty location parts joined with ", " (carriers mix "" and null for absent fields)."""
    return ", ".join(str(part).strip() for part in parts if part is not None and str(part).strip())


def finish_update(
    carrier: str,
    tracking_number: str,
    raw_events: Iterable[RawEvent],
    *,
    newest_first: bool,
    summary: tuple[str, Code | None] | None = None,
    estimated_delivery: date | None = None,
    delivered_at: datetime | None = None,
    carrier_ref: str | None = None,
    original_carrier: str | None = None,
    pickup_point: PickupPoint | None = None,
    warnings: Iterable[str] = (),
) -> TrackingUpdate:
    """Sort, de-duplicate and classify events, then derive the shipment status (FORMATS §11 rules)."""
    log = logging.getLogger(f"carriers.{carrier}")
    notes = list(warnings)

    def unknown(code: str, where: str) -> None:
        note = f"unknown {carrier} {where} code {code!r}"
        if note not in notes:
            notes.append(note)
            log.warning("%s (tracking number %s)", note, tracking_number)

    ordered = list(raw_events)
    if newest_first:
        # Reverse first so that events with equal times keep the carrier's own chronology.
        ordered.reverse()
    ordered.sort(key=lambda raw: raw.occurred_at.astimezone(UTC))

    events: list[TrackingEvent] = []
    seen: set[tuple] = set()
    current: Status | None = None
    current_reason: Reason | None = None
    for raw in ordered:
        key = (raw.occurred_at.astimezone(UTC), raw.code, raw.location, raw.description)
        if key in seen:
            continue
        seen.add(key)
        informational = raw.meaning is not None and raw.meaning.status is None
        if raw.meaning is None:
            unknown(raw.code, "event")
            status, reason = Status.UNKNOWN, None
        elif informational:
            status, reason = current or Status.PENDING, None
        else:
            status, reason = raw.meaning.status, raw.meaning.reason
            if status is not Status.UNKNOWN:
                current, current_reason = status, reason
        events.append(
            TrackingEvent(
                occurred_at=raw.occurred_at,
                status=status,
                carrier_code=raw.code,
                description=raw.description,
                location=raw.location,
                reason=reason,
                informational=informational,
                tz_assumed=raw.tz_assumed,
            )
        )

    status, reason = current, current_reason
    if summary is not None:
        summary_code, meaning = summary
        if meaning is None:
            unknown(summary_code, "status")
        elif meaning.status not in (None, Status.UNKNOWN):
            status, reason = meaning.status, meaning.reason
    if status is None:
        status = Status.UNKNOWN if any(e.status is Status.UNKNOWN for e in events) else Status.PENDING

    if status is Status.DELIVERED:
        delivered = [e.occurred_at for e in events if e.status is Status.DELIVERED and not e.informational]
        delivered_at = delivered[-1] if delivered else delivered_at
    else:
        delivered_at = None

    return TrackingUpdate(
        carrier=carrier,
        tracking_number=tracking_number,
        status=status,
        events=tuple(events),
        reason=reason,
        estimated_delivery=estimated_delivery,
        delivered_at=delivered_at,
        carrier_ref=carrier_ref,
        original_carrier=original_carrier,
        pickup_point=pickup_point,
        warnings=tuple(notes),
    )
