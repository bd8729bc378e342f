"""By how much and why a shipment's arrival estimate moved: the stored prediction history says when the
day moved (for messages), the carrier's events and the current risk reasons say why. Worded by
`notifications.change.describe_change`, the same for the tracking page and the messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.extensions import db
from app.models import Shipment, TrackingEvent
from app.notify.enqueue import customer_zone
from app.workbench.history import history_of
from carriers.model import Status
from notifications.change import Cause, place_name

# A carrier's event that explains a later estimate, by its normalised reason.
EVENT_CAUSES = {"carrier_delay": Cause.DELAY, "weather": Cause.WEATHER, "customs": Cause.CUSTOMS}
# The prediction's current reasons (planning.prediction.reasons keys) that explain a later estimate.
RISK_CAUSES = {
    "carrier_delay": Cause.DELAY,
    "customs_hold": Cause.CUSTOMS,
    "failed_attempt": Cause.FAILED_ATTEMPT,
    "no_scan_for_hours": Cause.NO_SCAN,
    "no_scan_since_handoff": Cause.NO_SCAN,
}
RECENT_ROWS = 50  # events and history rows read per question


@dataclass(frozen=True)
class EstimateMove:
    """The estimate's last day moved by `days` (later > 0) to `day`; `cause` and `place` when known."""

    days: int
    day: date
    cause: Cause | None = None
    place: str = ""

    def details(self) -> dict[str, Any]:
        """The render keys of a message that tells this move (notifications.render)."""
        return {"change_days": self.days, "change_cause": self.cause, "change_place": self.place or None}


def eta_window(shipment: Shipment) -> tuple[date | datetime, date | datetime] | None:
    """The predicted arrival window (p10..p90), else the carrier's ETA day, else None."""
    if shipment.eta_p10 and shipment.eta_p90:
        return shipment.eta_p10, shipment.eta_p90
    if shipment.carrier_eta:
        return shipment.carrier_eta, shipment.carrier_eta
    return None


def estimate_day(shipment: Shipment, zone: ZoneInfo) -> date | None:
    """The last day of the arrival window the customer is shown, in their zone; None without one."""
    window = eta_window(shipment)
    return _day(window[1], zone) if window else None


def move_since(
    shipment: Shipment, before: date, since: datetime | None, zone: ZoneInfo
) -> EstimateMove | None:
    """How the estimate moved from `before` (the day shown at `since`) to now; None when it did not."""
    after = estimate_day(shipment, zone)
    if after is None or after == before:
        return None
    days = (after - before).days
    cause, place = change_cause(shipment, since) if days > 0 else (None, "")
    return EstimateMove(days, after, cause, place)


def last_move(shipment: Shipment, zone: ZoneInfo) -> EstimateMove | None:
    """The latest move of the predicted day in the stored prediction history (what a message tells)."""
    current = estimate_day(shipment, zone)
    if current is None:
        return None
    for row in reversed(history_of(shipment.id, limit=RECENT_ROWS)):
        if row.eta_p90 is not None and _day(row.eta_p90, zone) != current:
            return move_since(shipment, _day(row.eta_p90, zone), row.recorded_at, zone)
    return None


def move_details(shipment: Shipment) -> dict[str, Any]:
    """The render keys of a delay / back-on-track message: the latest move in the customer's days."""
    move = last_move(shipment, customer_zone(shipment))
    return move.details() if move else {}


def change_cause(shipment: Shipment, since: datetime | None) -> tuple[Cause | None, str]:
    """Why the estimate is later: the newest carrier event since `since` that explains it, else the
    prediction's current reason (with the place of the event behind it, when there is one)."""
    events = db.session.scalars(
        select(TrackingEvent)
        .where(TrackingEvent.shipment_id == shipment.id)
        .order_by(TrackingEvent.occurred_at.desc())
        .limit(RECENT_ROWS)
    ).all()
    for event in events:
        if since is not None and event.occurred_at <= since:
            break
        cause = _event_cause(event)
        if cause is not None:
            return cause, place_name(event.location)
    for reason in shipment.risk_reasons or []:
        cause = RISK_CAUSES.get(reason.get("key"))
        if cause is not None:
            behind = next((e for e in events if _event_cause(e) is cause), None)
            return cause, place_name(behind.location) if behind else ""
    return None, ""


def _event_cause(event: TrackingEvent) -> Cause | None:
    if event.status == Status.FAILED_ATTEMPT.value:
        return Cause.FAILED_ATTEMPT
    return EVENT_CAUSES.get(event.reason or "")


def _day(value: date | datetime, zone: ZoneInfo) -> date:
    return value.astimezone(zone).date() if isinstance(value, datetime) else value
