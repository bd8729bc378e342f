"""Storing carrier updates: new events (idempotently, one INSERT per chunk) and the shipment's status.

The first two steps of the tracking update path; call them through `app.tracking.updates`."""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from app.database import insert_ignoring_conflicts
from app.models import Shipment, TrackingEvent
from app.models.types import utcnow
from carriers.model import Status, TrackingUpdate
from carriers.model import TrackingEvent as CarrierEvent
from carriers.serialize import pickup_to_dict

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IngestResult:
    """What one update changed."""

    new_events: int
    status_changed: bool
    previous_status: str


def event_content_hash(event: CarrierEvent) -> str:
    """Identity of a carrier scan: raw code, time, place and text — not our (versioned) mapping."""
    raw = "|".join(
        (
            event.occurred_at.isoformat(timespec="seconds"),
            event.carrier_code,
            event.description,
            event.location,
        )
    )
    return hashlib.sha1(raw.encode("utf-8")).hexdigest()


def select_update(shipment: Shipment, updates: Sequence[TrackingUpdate]) -> TrackingUpdate | None:
    """Pick the update for this shipment when one number resolved to several shipments."""
    if not updates:
        return None
    if shipment.carrier_ref:
        for update in updates:
            if update.carrier_ref == shipment.carrier_ref:
                return update
    if len(updates) > 1:
        log.info(
            "%s %s resolves to %d shipments; following the most recently active",
            shipment.carrier,
            shipment.tracking_number,
            len(updates),
        )
    return max(updates, key=_newest_event_time)


def _newest_event_time(update: TrackingUpdate) -> datetime:
    return max((event.occurred_at for event in update.events), default=datetime.min.replace(tzinfo=UTC))


def _event_row(shipment_id: int, event: CarrierEvent, source: str, now: datetime) -> dict:
    offset = event.occurred_at.utcoffset()
    return {
        "shipment_id": shipment_id,
        "occurred_at": event.occurred_at,
        "utc_offset_minutes": int(offset.total_seconds() // 60) if offset is not None else None,
        "status": event.status.value,
        "reason": event.reason.value if event.reason else None,
        "carrier_code": event.carrier_code[:64],
        "description": event.description,
        "location": event.location[:200],
        "informational": event.informational,
        "tz_assumed": event.tz_assumed,
        "source": source,
        "content_hash": event_content_hash(event),
        "received_at": now,
    }


def store_updates(
    pairs: Sequence[tuple[Shipment, TrackingUpdate]], *, source: str, now: datetime | None = None
) -> list[IngestResult]:
    """Store new events and move each shipment's status, with one INSERT for all the events; safe to call
    twice with the same updates."""
    now = now or utcnow()
    rows = [
        _event_row(shipment.id, event, source, now) for shipment, update in pairs for event in update.events
    ]
    keys = insert_ignoring_conflicts(
        TrackingEvent, rows, returning=(TrackingEvent.shipment_id, TrackingEvent.content_hash)
    )
    inserted = Counter(shipment_id for shipment_id, _ in keys)
    scans = _first_scans(rows, set(keys))
    for shipment, _ in pairs:
        scan = scans.get(shipment.id)
        if scan is not None and (shipment.first_scan_at is None or scan < shipment.first_scan_at):
            shipment.first_scan_at = scan
    return [_move_status(shipment, update, inserted[shipment.id], now) for shipment, update in pairs]


def _first_scans(rows: list[dict], inserted: set[tuple[int, str]]) -> dict[int, datetime]:
    """The earliest newly stored event per shipment that is not `info_received` (as stored: a scan that
    was already there keeps the status it was stored with)."""
    first: dict[int, datetime] = {}
    for row in rows:
        if (
            row["status"] == Status.INFO_RECEIVED.value
            or (row["shipment_id"], row["content_hash"]) not in inserted
        ):
            continue
        moment = row["occurred_at"].astimezone(UTC)
        if row["shipment_id"] not in first or moment < first[row["shipment_id"]]:
            first[row["shipment_id"]] = moment
    return first


def _move_status(shipment: Shipment, update: TrackingUpdate, new_events: int, now: datetime) -> IngestResult:
    previous = shipment.status
    newest = max((event.occurred_at for event in update.events), default=None)
    stale = newest is not None and shipment.last_event_at is not None and newest < shipment.last_event_at
    if newest is not None and not stale:
        shipment.last_event_at = newest
    if update.estimated_delivery and not stale:
        shipment.carrier_eta = update.estimated_delivery
    if update.pickup_point and not stale:
        # Kept once the carrier stops naming it (delivered): the customer collected it there.
        shipment.pickup_point = pickup_to_dict(update.pickup_point)

    if _should_take_status(shipment, update, stale, newest):
        _take_status(shipment, update)
    changed = shipment.status != previous
    if changed:
        shipment.status_changed_at = now
    return IngestResult(new_events=new_events, status_changed=changed, previous_status=previous)


def _should_take_status(
    shipment: Shipment, update: TrackingUpdate, stale: bool, newest: datetime | None
) -> bool:
    if update.status is Status.UNKNOWN or stale:
        return False
    if update.status is Status.DELIVERED and not any(e.status is Status.DELIVERED for e in update.events):
        # Summaries contradict events in real payloads; delivery needs a delivered scan to back it.
        log.warning(
            "%s %s: summary says delivered without a delivered event; status kept",
            shipment.carrier,
            shipment.tracking_number,
        )
        return False
    if newest is None:
        # A summary without events may only move a shipment that has no history yet.
        return shipment.last_event_at is None
    return True


def _take_status(shipment: Shipment, update: TrackingUpdate) -> None:
    shipment.status = update.status
    shipment.reason = update.reason
    if update.status is Status.DELIVERED:
        shipment.delivered_at = update.delivered_at or shipment.last_event_at
    else:
        # "Delivered, then moved": a later non-delivered status reopens the shipment.
        shipment.delivered_at = None
