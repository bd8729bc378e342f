"""Plain-dict (JSON-ready) views of updates and errors, shared by the CLI and the service's API."""

from __future__ import annotations

from datetime import date
from typing import Any

from carriers.errors import CarrierError, TrackingFailure
from carriers.model import PickupPoint, TrackingEvent, TrackingUpdate


def event_to_dict(event: TrackingEvent) -> dict[str, Any]:
    """One event; times as ISO 8601 with their offset."""
    return {
        "occurred_at": event.occurred_at.isoformat(),
        "status": event.status.value,
        "reason": event.reason.value if event.reason else None,
        "carrier_code": event.carrier_code,
        "description": event.description,
        "location": event.location,
        "informational": event.informational,
        "tz_assumed": event.tz_assumed,
    }


def update_to_dict(update: TrackingUpdate) -> dict[str, Any]:
    """One update with its events oldest first."""
    return {
        "carrier": update.carrier,
        "tracking_number": update.tracking_number,
        "status": update.status.value,
        "reason": update.reason.value if update.reason else None,
        "estimated_delivery": update.estimated_delivery.isoformat() if update.estimated_delivery else None,
        "delivered_at": update.delivered_at.isoformat() if update.delivered_at else None,
        "carrier_ref": update.carrier_ref,
        "original_carrier": update.original_carrier,
        "pickup_point": pickup_to_dict(update.pickup_point) if update.pickup_point else None,
        "warnings": list(update.warnings),
        "events": [event_to_dict(event) for event in update.events],
    }


PICKUP_TEXT_FIELDS = ("name", "point_id", "street", "postcode", "city", "country", "info_url")


def pickup_to_dict(point: PickupPoint) -> dict[str, Any]:
    """A pickup point; its last day as an ISO date."""
    return {
        **{key: getattr(point, key) for key in PICKUP_TEXT_FIELDS},
        "last_day": point.last_day.isoformat() if point.last_day else None,
    }


def pickup_from_dict(data: dict[str, Any]) -> PickupPoint:
    """The inverse of `pickup_to_dict` (how a shipment stores its pickup point)."""
    last_day = data.get("last_day")
    return PickupPoint(
        **{key: str(data.get(key) or "") for key in PICKUP_TEXT_FIELDS},
        last_day=date.fromisoformat(last_day) if last_day else None,
    )


def error_to_dict(error: CarrierError) -> dict[str, Any]:
    """An error as `{error: kind, message}` (plus retry_after when the carrier gave one)."""
    out: dict[str, Any] = {"error": error.kind, "message": error.message}
    if error.retry_after is not None:
        out["retry_after"] = error.retry_after
    return out


def failure_to_dict(failure: TrackingFailure) -> dict[str, Any]:
    """A per-number failure."""
    return {"tracking_number": failure.tracking_number, **error_to_dict(failure.error)}
