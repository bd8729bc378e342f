"""Triggers: which customer message a shipment's change means (a status move, a new risk state, a claim).

The tracking update path (`app.tracking.updates`) calls `queue_tracking_changes` after the new prediction is
stored, so every message carries the fresh ETA.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.models import Shipment, TrackingEvent
from app.notify.enqueue import Change, customer_zone, day_key, queue_change
from carriers.model import TERMINAL_STATUSES, Status
from notifications.model import Trigger
from planning.prediction import RiskState

STATUS_TRIGGERS = {
    Status.OUT_FOR_DELIVERY: Trigger.OUT_FOR_DELIVERY,
    Status.FAILED_ATTEMPT: Trigger.FAILED_ATTEMPT,
    Status.AVAILABLE_FOR_PICKUP: Trigger.AVAILABLE_FOR_PICKUP,
    Status.DELIVERED: Trigger.DELIVERED,
    Status.EXCEPTION: Trigger.EXCEPTION,
}
_BEFORE_TRANSIT = frozenset({Status.PENDING, Status.INFO_RECEIVED, Status.UNKNOWN})
_DELAY_STATES = frozenset({RiskState.AT_RISK, RiskState.LATE})


def queue_tracking_changes(
    shipment: Shipment, *, previous_status: str | None, previous_risk_state: str | None, now: datetime
) -> int:
    """Write the outbox rows a shipment's new status and new risk state mean; `previous_status` None: the
    status did not move. Status first: a customer hears "shipped" before "delayed"."""
    written = 0
    if previous_status is not None:
        change = status_change(shipment, Status(previous_status), now)
        if change is not None:
            written += queue_change(shipment, change, now)
    change = risk_change(shipment, previous_risk_state)
    if change is not None:
        written += queue_change(shipment, change, now)
    return written


def risk_change(shipment: Shipment, previous_state: str | None) -> Change | None:
    """Predicted delay (entering at_risk/late) and stuck; nothing for a finished parcel."""
    if shipment.status in TERMINAL_STATUSES or shipment.risk_state == previous_state:
        return None
    state = shipment.risk_state
    if state in _DELAY_STATES and previous_state not in _DELAY_STATES:
        eta = eta_window(shipment)
        if eta is None:
            return None
        details = {"eta_start": eta[0], "eta_end": eta[1], "previous_eta": shipment.promised_date}
        return Change(Trigger.PREDICTED_DELAY, day_key(eta[1]), details)
    if state == RiskState.STUCK:
        since = shipment.last_event_at or shipment.created_at
        return Change(Trigger.STUCK, since.isoformat(), {"last_event_at": since})
    return None


def status_change(shipment: Shipment, previous: Status, now: datetime) -> Change | None:
    """The change a status move means for the customer, or None when it means nothing to tell."""
    status = shipment.status
    if status == Status.IN_TRANSIT and previous in _BEFORE_TRANSIT:
        eta = eta_window(shipment)
        details = {"eta_start": eta[0], "eta_end": eta[1]} if eta else {}
        return Change(Trigger.SHIPPED, "1", details)
    trigger = STATUS_TRIGGERS.get(status)
    if trigger is None:
        return None
    scan_at = shipment.last_event_at or now
    if scan_at < shipment.created_at and status == Status.DELIVERED:
        return None  # registered after it was delivered: the customer knows
    if trigger is Trigger.OUT_FOR_DELIVERY:
        details = {}
        if shipment.eta_p10 and shipment.eta_p90 and shipment.eta_p90 > now:
            details = {"eta_start": shipment.eta_p10, "eta_end": shipment.eta_p90}
        return Change(trigger, day_key(scan_at, customer_zone(shipment)), details)
    if trigger is Trigger.FAILED_ATTEMPT:
        return Change(trigger, scan_at.isoformat(), {"attempted_at": scan_at})
    if trigger is Trigger.EXCEPTION:
        reason = shipment.reason or "other"
        return Change(trigger, f"{reason}:{day_key(scan_at, customer_zone(shipment))}", {"reason": reason})
    if trigger is Trigger.AVAILABLE_FOR_PICKUP:
        return Change(trigger, "1", pickup_details(shipment, now))
    return Change(trigger, "1", {"delivered_at": shipment.delivered_at or scan_at})


def notify_claim(
    shipment: Shipment,
    trigger: Trigger,
    claim_reference: str,
    version: str,
    *,
    tell_customer: bool = True,
    **details: Any,
) -> int:
    """For the claims package: a claim was opened / updated / resolved (`version` tells updates apart).

    The shop's `claim.*` webhooks hear of every change; the customer only when `tell_customer`. `details`
    are the render keys: claim_reason, claim_state, or claim_resolution (+ claim_amount, currency), and the
    event's data (claim).
    """
    if trigger not in (Trigger.CLAIM_OPENED, Trigger.CLAIM_UPDATED, Trigger.CLAIM_RESOLVED):
        raise ValueError(f"{trigger} is not a claim trigger")
    change = Change(trigger, f"{claim_reference}:{version}", {"claim_reference": claim_reference, **details})
    return queue_change(shipment, change, tell_customer=tell_customer)


def eta_window(shipment: Shipment) -> tuple[date | datetime, date | datetime] | None:
    """The predicted arrival window (p10..p90), else the carrier's ETA day, else None."""
    if shipment.eta_p10 and shipment.eta_p90:
        return shipment.eta_p10, shipment.eta_p90
    if shipment.carrier_eta:
        return shipment.carrier_eta, shipment.carrier_eta
    return None


def pickup_details(shipment: Shipment, now: datetime) -> dict[str, Any]:
    """Where the parcel waits (the pickup scan's location) and until when (available since + hold days)."""
    location = db.session.scalar(
        select(TrackingEvent.location)
        .where(
            TrackingEvent.shipment_id == shipment.id,
            TrackingEvent.status == Status.AVAILABLE_FOR_PICKUP.value,
        )
        .order_by(TrackingEvent.occurred_at.desc())
        .limit(1)
    )
    since = shipment.status_changed_at or now
    deadline = since + timedelta(days=current_app.config["PICKUP_HOLD_DAYS"])
    return {"pickup_point": location or None, "pickup_deadline": deadline}
