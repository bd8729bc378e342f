"""The adaptive schedule: fresh where it matters, quiet where nothing happens, silent after the end."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest

from planning.poll_policy import PollPolicy, PollState, next_poll_at, poll_interval

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (PollState("bring", "out_for_delivery"), timedelta(minutes=30)),
        (PollState("bring", "available_for_pickup"), timedelta(minutes=30)),
        (PollState("bring", "exception"), H),
        (PollState("bring", "in_transit", risk_state="at_risk"), H),
        (PollState("bring", "in_transit", declared_value=5000.0), 2 * H),
        (PollState("bring", "in_transit", expected_date=date(2026, 11, 24)), 2 * H),
        (PollState("bring", "in_transit", expected_date=date(2026, 11, 25)), 8 * H),
        (PollState("bring", "in_transit", expected_date=date(2026, 11, 30)), 12 * H),
        (PollState("bring", "in_transit", risk_state="late", expected_date=date(2026, 11, 30)), H),
        (PollState("bring", "info_received"), 8 * H),
        (PollState("bring", "in_transit", not_found=True, poll_failures=0), H),
        (PollState("bring", "in_transit", not_found=True, poll_failures=3), 8 * H),
        (PollState("bring", "in_transit", not_found=True, poll_failures=9), 12 * H),
        (PollState("bring", "in_transit", poll_failures=1), timedelta(minutes=5)),
        (PollState("bring", "in_transit", poll_failures=4), timedelta(minutes=40)),
    ],
)
def test_interval_follows_what_matters(state: PollState, expected: timedelta) -> None:
    assert poll_interval(state, NOW) == expected


def test_terminal_state_gets_a_grace_recheck_then_stops() -> None:
    recent = PollState("ups", "delivered", status_changed_at=NOW - 10 * H)
    old = PollState("ups", "delivered", status_changed_at=NOW - 49 * H)
    assert poll_interval(recent, NOW) == 12 * H
    assert poll_interval(old, NOW) is None
    assert next_poll_at(old, NOW) is None


def test_carrier_minimum_interval_is_a_floor() -> None:
    policy = PollPolicy(carrier_min_interval={"dhl": timedelta(hours=2.4)})
    assert poll_interval(PollState("dhl", "out_for_delivery"), NOW, policy) == timedelta(hours=2.4)
    assert poll_interval(PollState("bring", "out_for_delivery"), NOW, policy) == timedelta(minutes=30)


def test_jitter_spreads_within_bounds() -> None:
    rng = random.Random(1)
    state = PollState("bring", "in_transit")
    times = {next_poll_at(state, NOW, rng=rng) for _ in range(50)}
    assert len(times) > 40
    assert all(NOW + 8 * H * 0.9 <= t <= NOW + 8 * H * 1.1 for t in times)
