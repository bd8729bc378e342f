"""Triggers: which customer message a shipment's change means (a status move, a new risk state, a claim).

The tracking update path (`app.tracking.updates`) calls `queue_tracking_changes` after the new prediction is
stored, so every message carries the fresh ETA.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.models import Notification, Shipment, TrackingEvent
from app.models.notification import OutboxState
from app.notify.enqueue import (
    CUSTOMER_CHANNELS,
    Change,
    customer_zone,
    day_key,
    per_transaction,
    queue_change,
    withdraw_pending,
)
from app.notify.estimate_change import eta_window, move_details
from app.risk.warning_policy import current_policy
from app.tracking.pickup import collect_by, pickup_address, shipment_pickup
from carriers.model import ACTIVE_STATUSES, TERMINAL_STATUSES, Status
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
    """Write the outbox rows a shipment's new status and new prediction mean; `previous_status` None: the
    status did not move. Status first: a customer hears "shipped" before "delayed"."""
    written = 0
    if previous_status is not None:
        change = status_change(shipment, Status(previous_status), now)
        if change is not None:
            written += queue_change(shipment, change, now)
    change = risk_change(shipment, previous_risk_state, now)
    if change is None:
        return written
    if change.trigger is Trigger.BACK_ON_TRACK and not _customer_heard_of_delay(shipment):
        # The warning never left the outbox: withdraw it rather than send good news about nothing.
        withdraw_pending(shipment.id, frozenset({Trigger.PREDICTED_DELAY}))
        return written + queue_change(shipment, change, now, tell_customer=False)
    added = queue_change(shipment, change, now)
    if change.trigger is Trigger.PREDICTED_DELAY:
        _warned_shipments().add(shipment.id)
    return written + added


def needs_fresh_look(shipment: Shipment, now: datetime) -> bool:
    """True when a polled shipment's carrier was never asked, or last asked more than
    RISK_WARN_FRESH_SECONDS ago: its silence may only be ours (the scan we would see is not fetched yet)."""
    if shipment.next_poll_at is None:
        return False
    if shipment.last_checked_at is None:
        return True
    return now - shipment.last_checked_at > timedelta(seconds=current_app.config["RISK_WARN_FRESH_SECONDS"])


def risk_change(shipment: Shipment, previous_state: str | None, now: datetime) -> Change | None:
    """What the new prediction means for the customer; nothing for a finished parcel.

    Predicted delay: in at_risk/late with p_late at or above the warning policy's threshold, on data
    fetched lately (`needs_fresh_look`), once per episode and again only for a new ETA day. Back on track: a warned parcel on_track again with p_late
    below the policy's `clear_below`. Stuck: on entering the state.
    """
    if shipment.status in TERMINAL_STATUSES:
        return None
    state = shipment.risk_state
    if state == RiskState.STUCK:
        if previous_state == state:
            return None
        since = shipment.last_event_at or shipment.created_at
        return Change(Trigger.STUCK, since.isoformat(), {"last_event_at": since})
    policy = per_transaction("warning_policy", None, current_policy)
    p_late, eta = shipment.p_late, eta_window(shipment)
    if p_late is None or eta is None:
        return None
    if state in _DELAY_STATES and p_late >= policy.threshold:
        if needs_fresh_look(shipment, now):
            return None  # a silence we have not checked lately may be our own: look again first
        day = day_key(eta[1], customer_zone(shipment))
        episode = delay_episode(shipment)
        if episode.open and day in episode.warned_days:
            return None
        key = day if episode.number == 1 else f"{day}~{episode.number}"
        details = {"eta_start": eta[0], "eta_end": eta[1], "previous_eta": shipment.promised_date}
        return Change(Trigger.PREDICTED_DELAY, key, details | move_details(shipment))
    if state == RiskState.ON_TRACK and p_late < policy.clear_below and shipment.id in _warned_shipments():
        episode = delay_episode(shipment)
        if episode.open:
            details = {"eta_start": eta[0], "eta_end": eta[1]} | move_details(shipment)
            return Change(Trigger.BACK_ON_TRACK, str(episode.number), details)
    return None


@dataclass(frozen=True)
class DelayEpisode:
    """A shipment's delay warnings as its outbox rows tell them: an episode opens with a predicted_delay
    and closes with a back_on_track; `warned_days` are the ETA days the open episode's warnings named."""

    number: int
    open: bool
    warned_days: frozenset[str]


def delay_episode(shipment: Shipment) -> DelayEpisode:
    """The current (or next) delay episode of `shipment`, from its outbox rows."""
    keys = db.session.scalars(
        select(Notification.dedupe_key)
        .where(
            Notification.shipment_id == shipment.id,
            Notification.trigger.in_([Trigger.PREDICTED_DELAY.value, Trigger.BACK_ON_TRACK.value]),
        )
        .order_by(Notification.id)
    )
    closed, days = 0, set()
    for key in keys:
        _, trigger, episode = key.split(":")[:3]
        if trigger == Trigger.BACK_ON_TRACK.value:
            closed, days = max(closed, int(episode)), set()
        else:
            days.add(episode.split("~")[0])
    return DelayEpisode(number=closed + 1, open=bool(days), warned_days=frozenset(days))


def _warned_shipments() -> set[int]:
    """Active shipments with a delay warning in the outbox, once per transaction: only they need their
    episode read when their prediction is back on track."""
    return per_transaction(
        "warned_shipments",
        None,
        lambda: set(
            db.session.scalars(
                select(Notification.shipment_id)
                .distinct()
                .join(Shipment, Shipment.id == Notification.shipment_id)
                .where(
                    Notification.trigger == Trigger.PREDICTED_DELAY.value,
                    Shipment.status.in_(sorted(ACTIVE_STATUSES)),
                )
            )
        ),
    )


def _customer_heard_of_delay(shipment: Shipment) -> bool:
    """True when a delay warning to the customer left the outbox (sent, sending, captured, failed)."""
    return (
        db.session.scalar(
            select(Notification.id)
            .where(
                Notification.shipment_id == shipment.id,
                Notification.trigger == Trigger.PREDICTED_DELAY.value,
                Notification.channel.in_(CUSTOMER_CHANNELS),
                Notification.state.not_in([OutboxState.PENDING.value, OutboxState.SUPERSEDED.value]),
            )
            .limit(1)
        )
        is not None
    )


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


def pickup_details(shipment: Shipment, now: datetime) -> dict[str, Any]:
    """Where the parcel waits (the carrier's pickup point, else the pickup scan's location) and until when
    (the carrier's last day, else available since + hold days)."""
    point = shipment_pickup(shipment)
    location = db.session.scalar(
        select(TrackingEvent.location)
        .where(
            TrackingEvent.shipment_id == shipment.id,
            TrackingEvent.status == Status.AVAILABLE_FOR_PICKUP.value,
        )
        .order_by(TrackingEvent.occurred_at.desc())
        .limit(1)
    )
    named = point is not None and bool(point.name)
    deadline = collect_by(shipment, point, current_app.config["PICKUP_HOLD_DAYS"], now)
    return {
        "pickup_point": point.name if named else location or (point and pickup_address(point)) or None,
        "pickup_address": (pickup_address(point) or None) if named else None,
        "pickup_deadline": deadline,
    }
