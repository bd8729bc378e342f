"""Applies the adaptive poll policy (planning/poll_policy.py) to a shipment row."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from flask import current_app

from app.models import Shipment
from planning.poll_policy import PollPolicy, PollState, next_poll_at

EXPECTED_TIME = time(15, 0)  # a date-only promise or carrier ETA: assume mid-afternoon (UTC)

EXPECTED_HOUR = time(15, 0)  # a date-only promise or carrier ETA: assume mid-afternoon (UTC)


def current_policy() -> PollPolicy:
    """The policy with the thresholds from config."""
    config = current_app.config
    return PollPolicy(
        high_value_threshold=config["HIGH_VALUE_THRESHOLD"],
        terminal_grace=timedelta(hours=config["DELIVERED_GRACE_HOURS"]),
        carrier_min_interval={"dhl": timedelta(hours=2.4)},  # DHL asks for at most 10 fetches per day
    )


def poll_state(shipment: Shipment, *, not_found: bool = False) -> PollState:
    """The schedule's view of a shipment."""
    expected = shipment.eta_p50
    day = shipment.carrier_eta or shipment.promised_date
    if expected is None and day is not None:
        expected = datetime.combine(day, EXPECTED_TIME, tzinfo=UTC)
    return PollState(
        carrier=shipment.carrier,
        status=shipment.status,
        risk_state=shipment.risk_state,
        declared_value=float(shipment.declared_value) if shipment.declared_value is not None else None,
        expected_at=expected,
        status_changed_at=shipment.status_changed_at,
        poll_failures=shipment.poll_failures,
        not_found=not_found,
    )


def reschedule(
    shipment: Shipment, now: datetime, *, not_found: bool = False, retry_after: float | None = None
) -> None:
    """Set `next_poll_at` (None stops polling); a carrier's Retry-After is a floor."""
    when = next_poll_at(poll_state(shipment, not_found=not_found), now, current_policy())
    if when is not None and retry_after:
        when = max(when, now + timedelta(seconds=retry_after))
    shipment.next_poll_at = when


def poll_soon(shipment: Shipment, now: datetime) -> None:
    """Bring a parcel at risk's next poll forward to the poll policy's at-risk rhythm after its last check
    (now, if that has passed) — unless its next poll is within one poll lease (it may be a worker's lease
    on a poll under way; that poll or the scheduled one comes soon enough)."""
    lease = timedelta(seconds=current_app.config["POLL_LEASE_SECONDS"])
    if shipment.next_poll_at is None or shipment.next_poll_at <= now + lease:
        return
    policy = current_policy()
    gap = max(policy.at_risk, policy.carrier_min_interval.get(shipment.carrier, policy.at_risk))
    rhythm = (shipment.last_checked_at or shipment.created_at) + gap
    shipment.next_poll_at = min(shipment.next_poll_at, max(now, rhythm))
