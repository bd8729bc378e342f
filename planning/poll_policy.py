"""Adaptive polling: how long until a shipment is worth asking its carrier about again.

Fresh data where it matters (out for delivery, close to the expected arrival, at risk, high value,
after exceptions), few calls where nothing is expected to happen (before pickup, quiet long-haul
legs, parcels waiting at a pickup point), none after a terminal state beyond one grace re-check
for "delivered, then moved" corrections.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from carriers.model import TERMINAL_STATUSES

MINUTE, HOUR = timedelta(minutes=1), timedelta(hours=1)


@dataclass(frozen=True)
class PollPolicy:
    """Intervals (and limits) of the adaptive schedule; all overridable from config."""

    out_for_delivery: timedelta = 2 * HOUR
    failed_attempt: timedelta = 4 * HOUR
    awaiting_pickup: timedelta = 12 * HOUR
    exception: timedelta = 2 * HOUR
    at_risk: timedelta = 105 * MINUTE  # at_risk / late: fresher than a fixed 2-hour rhythm
    stuck: timedelta = 2 * HOUR  # stuck / lost: first day as fresh too; the quiet back-off follows
    high_value: timedelta = 4 * HOUR
    pre_transit: timedelta = 12 * HOUR  # labels are printed long before the carrier collects
    arriving: timedelta = 3 * HOUR  # expected within `arriving_within`
    approaching: timedelta = 12 * HOUR  # expected within `approaching_within`
    in_transit: timedelta = 12 * HOUR
    arriving_within: timedelta = 8 * HOUR
    approaching_within: timedelta = 24 * HOUR
    not_found_first: timedelta = HOUR
    not_found_max: timedelta = 12 * HOUR
    error_first: timedelta = 5 * MINUTE
    error_max: timedelta = 2 * HOUR
    quiet_after: timedelta = 24 * HOUR  # no change for this long: poll at most every `quiet_interval`
    quiet_interval: timedelta = 6 * HOUR
    silent_after: timedelta = 72 * HOUR  # … and after this long at most every `silent_interval`
    silent_interval: timedelta = 12 * HOUR
    terminal_grace: timedelta = 24 * HOUR
    terminal_recheck: timedelta = 24 * HOUR
    high_value_threshold: float = 2000.0
    jitter: float = 0.1
    carrier_min_interval: dict[str, timedelta] = field(default_factory=dict)


@dataclass(frozen=True)
class PollState:
    """What the schedule looks at for one shipment."""

    carrier: str
    status: str
    risk_state: str | None = None
    declared_value: float | None = None
    expected_at: datetime | None = None  # our p50 ETA, else the carrier's ETA, else the promised date
    status_changed_at: datetime | None = None
    poll_failures: int = 0
    not_found: bool = False


def poll_interval(state: PollState, now: datetime, policy: PollPolicy = PollPolicy()) -> timedelta | None:
    """The wait before the next poll, or None when the shipment no longer needs polling."""
    if state.not_found:
        return _backoff(policy.not_found_first, policy.not_found_max, state.poll_failures)
    if state.poll_failures:
        return _backoff(policy.error_first, policy.error_max, state.poll_failures - 1)
    if state.status in TERMINAL_STATUSES:
        since = now - state.status_changed_at if state.status_changed_at else policy.terminal_grace
        return policy.terminal_recheck if since < policy.terminal_grace else None
    interval = min(_candidates(state, now, policy))
    if state.status_changed_at is not None:
        # Nothing has happened for a long while (a parked exception, a parcel gone silent): back off;
        # parcels about to miss their promise keep their pace for the first days.
        unchanged = now - state.status_changed_at
        if unchanged > policy.silent_after:
            interval = max(interval, policy.silent_interval)
        elif unchanged > policy.quiet_after and state.risk_state not in {"at_risk", "late"}:
            interval = max(interval, policy.quiet_interval)
    minimum = policy.carrier_min_interval.get(state.carrier)
    return max(interval, minimum) if minimum else interval


def _candidates(state: PollState, now: datetime, policy: PollPolicy) -> list[timedelta]:
    by_status = {
        "out_for_delivery": policy.out_for_delivery,
        "failed_attempt": policy.failed_attempt,
        "available_for_pickup": policy.awaiting_pickup,
        "exception": policy.exception,
        "pending": policy.pre_transit,
        "info_received": policy.pre_transit,
    }
    candidates = [by_status.get(state.status, _transit_interval(state, now, policy))]
    if state.risk_state in {"at_risk", "late"}:
        candidates.append(policy.at_risk)
    if state.risk_state in {"stuck", "lost"}:
        candidates.append(policy.stuck)
    if state.declared_value is not None and state.declared_value >= policy.high_value_threshold:
        candidates.append(policy.high_value)
    return candidates


def _transit_interval(state: PollState, now: datetime, policy: PollPolicy) -> timedelta:
    if state.expected_at is None:
        return policy.approaching
    left = state.expected_at - now
    if left <= policy.arriving_within:
        return policy.arriving
    # Never sleep past the start of the next, busier band.
    if left <= policy.approaching_within:
        return min(policy.approaching, max(policy.arriving, left - policy.arriving_within))
    return min(policy.in_transit, max(policy.approaching, left - policy.approaching_within))


def _backoff(first: timedelta, cap: timedelta, failures: int) -> timedelta:
    return min(first * (2 ** min(failures, 16)), cap)


def next_poll_at(
    state: PollState, now: datetime, policy: PollPolicy = PollPolicy(), rng: random.Random | None = None
) -> datetime | None:
    """`now` plus the interval, with jitter so that shipments registered together spread out."""
    interval = poll_interval(state, now, policy)
    if interval is None:
        return None
    spread = (rng or random).uniform(-policy.jitter, policy.jitter)
    return now + interval * (1 + spread)
