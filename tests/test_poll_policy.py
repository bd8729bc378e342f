"""The adaptive schedule: fresh where it matters, quiet where nothing happens, silent after the end."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from planning.poll_policy import PollPolicy, PollState, next_poll_at, poll_interval

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)
M = timedelta(minutes=1)


def in_hours(hours: float) -> datetime:
    return NOW + timedelta(hours=hours)


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (PollState("bring", "out_for_delivery"), 2 * H),
        (PollState("bring", "failed_attempt"), 4 * H),
        (PollState("bring", "available_for_pickup"), 12 * H),
        (PollState("bring", "exception"), 2 * H),
        (PollState("bring", "info_received"), 12 * H),
        (PollState("bring", "in_transit", expected_at=in_hours(5)), 3 * H),
        (PollState("bring", "in_transit", expected_at=in_hours(12)), 4 * H),  # wakes as arrival nears
        (PollState("bring", "in_transit", expected_at=in_hours(22)), 12 * H),
        (PollState("bring", "in_transit", expected_at=in_hours(34)), 12 * H),
        (PollState("bring", "in_transit", expected_at=in_hours(90)), 12 * H),
        (PollState("bring", "in_transit"), 12 * H),
        (PollState("bring", "in_transit", risk_state="at_risk", expected_at=in_hours(90)), 105 * M),
        (PollState("bring", "in_transit", risk_state="late", expected_at=in_hours(-5)), 105 * M),
        (PollState("bring", "in_transit", risk_state="stuck", expected_at=in_hours(-30)), 2 * H),
        (PollState("bring", "exception", status_changed_at=NOW - 30 * H), 6 * H),  # parked: back off
        (PollState("bring", "in_transit", risk_state="stuck", status_changed_at=NOW - 80 * H), 12 * H),
        (PollState("bring", "in_transit", risk_state="late", status_changed_at=NOW - 30 * H), 105 * M),
        (PollState("bring", "in_transit", declared_value=5000.0, expected_at=in_hours(90)), 4 * H),
        (PollState("bring", "in_transit", not_found=True, poll_failures=0), H),
        (PollState("bring", "in_transit", not_found=True, poll_failures=3), 8 * H),
        (PollState("bring", "in_transit", not_found=True, poll_failures=9), 12 * H),
        (PollState("bring", "in_transit", poll_failures=1), 5 * M),
        (PollState("bring", "in_transit", poll_failures=4), 40 * M),
    ],
)
def test_interval_follows_what_matters(state: PollState, expected: timedelta) -> None:
    assert poll_interval(state, NOW) == expected


def test_terminal_state_gets_one_grace_recheck_then_stops() -> None:
    recent = PollState("ups", "delivered", status_changed_at=NOW - 10 * H)
    old = PollState("ups", "delivered", status_changed_at=NOW - 25 * H)
    assert poll_interval(recent, NOW) == 24 * H
    assert poll_interval(old, NOW) is None
    assert next_poll_at(old, NOW) is None


def test_carrier_minimum_interval_is_a_floor() -> None:
    policy = PollPolicy(carrier_min_interval={"dhl": timedelta(hours=2.4)})
    assert poll_interval(PollState("dhl", "exception"), NOW, policy) == timedelta(hours=2.4)
    assert poll_interval(PollState("bring", "exception"), NOW, policy) == 2 * H


def test_jitter_spreads_within_bounds() -> None:
    rng = random.Random(1)
    state = PollState("bring", "info_received")
    times = {next_poll_at(state, NOW, rng=rng) for _ in range(50)}
    assert len(times) > 40
    assert all(NOW + 12 * H * 0.9 <= t <= NOW + 12 * H * 1.1 for t in times)
