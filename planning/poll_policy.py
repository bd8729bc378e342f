"""Adaptive polling: how long until a shipment is worth asking its carrier about again.

Fresh data where it matters (near delivery, at risk, high value, after exceptions), few calls where
nothing is expected to happen (quiet long-haul legs), none after a terminal state beyond a short
grace period for "delivered, then moved" corrections.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

HOUR = timedelta(hours=1)

ACTIVE_LAST_MILE = frozenset({"out_for_delivery", "failed_attempt", "available_for_pickup"})
TERMINAL = frozenset({"delivered", "returned", "cancelled", "expired"})
AT_RISK = frozenset({"at_risk", "late", "stuck", "lost"})


@dataclass(frozen=True)
class PollPolicy:
    """Intervals (and limits) of the adaptive schedule; all overridable from config."""

    last_mile: timedelta = timedelta(minutes=30)
    at_risk: timedelta = HOUR
    exception: timedelta = HOUR
    near_delivery: timedelta = 2 * HOUR
    high_value: timedelta = 2 * HOUR
    pre_transit: timedelta = 8 * HOUR
    quiet_transit: timedelta = 8 * HOUR
    long_haul: timedelta = 12 * HOUR
    not_found_first: timedelta = HOUR
    not_found_max: timedelta = 12 * HOUR
    error_first: timedelta = timedelta(minutes=5)
    error_max: timedelta = 2 * HOUR
    terminal_grace: timedelta = timedelta(hours=48)
    terminal_recheck: timedelta = 12 * HOUR
    high_value_threshold: float = 2000.0
    jitter: float = 0.1
    carrier_min_interval: dict[str, timedelta] | None = None


@dataclass(frozen=True)
class PollState:
    """What the schedule looks at for one shipment."""

    carrier: str
    status: str
    risk_state: str | None = None
    declared_value: float | None = None
    expected_date: date | None = None  # our p50 ETA, else the carrier's ETA, else the promised date
    status_changed_at: datetime | None = None
    poll_failures: int = 0
    not_found: bool = False


def poll_interval(state: PollState, now: datetime, policy: PollPolicy = PollPolicy()) -> timedelta | None:
    """The wait before the next poll, or None when the shipment no longer needs polling."""
    if state.not_found:
        return _backoff(policy.not_found_first, policy.not_found_max, state.poll_failures)
    if state.poll_failures:
        return _backoff(policy.error_first, policy.error_max, state.poll_failures - 1)
    if state.status in TERMINAL:
        since = now - state.status_changed_at if state.status_changed_at else policy.terminal_grace
        return policy.terminal_recheck if since < policy.terminal_grace else None
    interval = _base_interval(state, now, policy)
    minimum = (policy.carrier_min_interval or {}).get(state.carrier)
    return max(interval, minimum) if minimum else interval


def _base_interval(state: PollState, now: datetime, policy: PollPolicy) -> timedelta:
    candidates = [policy.quiet_transit]
    if state.status in ACTIVE_LAST_MILE:
        candidates.append(policy.last_mile)
    if state.status == "exception":
        candidates.append(policy.exception)
    if state.risk_state in AT_RISK:
        candidates.append(policy.at_risk)
    if state.declared_value is not None and state.declared_value >= policy.high_value_threshold:
        candidates.append(policy.high_value)
    if state.status in {"pending", "info_received"}:
        candidates.append(policy.pre_transit)
    if state.expected_date is not None:
        days_left = (state.expected_date - now.date()).days
        if days_left <= 1:
            candidates.append(policy.near_delivery)
        elif days_left >= 4 and state.status == "in_transit" and len(candidates) == 1:
            return policy.long_haul
    return min(candidates)


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
