from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from notifications.model import Trigger
from notifications.quiet_hours import QuietHours, next_allowed_send

OSLO = ZoneInfo("Europe/Oslo")
BANGKOK = ZoneInfo("Asia/Bangkok")
NIGHT, MORNING = time(21, 0), time(8, 0)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2025, 1, 15, 12, 0, tzinfo=UTC), datetime(2025, 1, 15, 12, 0, tzinfo=UTC)),  # 13:00 local
        (datetime(2025, 1, 15, 19, 59, tzinfo=UTC), datetime(2025, 1, 15, 19, 59, tzinfo=UTC)),  # 20:59
        (datetime(2025, 1, 15, 20, 0, tzinfo=UTC), datetime(2025, 1, 16, 7, 0, tzinfo=UTC)),  # 21:00
        (
            datetime(2025, 1, 15, 23, 30, tzinfo=UTC),
            datetime(2025, 1, 16, 7, 0, tzinfo=UTC),
        ),  # 00:30 next day
        (datetime(2025, 1, 16, 6, 59, tzinfo=UTC), datetime(2025, 1, 16, 7, 0, tzinfo=UTC)),  # 07:59
        (datetime(2025, 1, 16, 7, 0, tzinfo=UTC), datetime(2025, 1, 16, 7, 0, tzinfo=UTC)),  # 08:00
    ],
)
def test_quiet_hours_across_midnight(now: datetime, expected: datetime) -> None:
    assert next_allowed_send(now, OSLO, NIGHT, MORNING, urgent=False) == expected


def test_quiet_hours_use_the_customers_timezone() -> None:
    now = datetime(2025, 1, 15, 15, 0, tzinfo=UTC)  # 16:00 in Oslo, 22:00 in Bangkok
    assert next_allowed_send(now, OSLO, NIGHT, MORNING, urgent=False) == now
    assert next_allowed_send(now, BANGKOK, NIGHT, MORNING, urgent=False) == datetime(
        2025, 1, 16, 1, 0, tzinfo=UTC
    )


def test_quiet_hours_end_on_local_clock_across_dst_changes() -> None:
    # Night of 29-30 March 2025: Oslo moves from UTC+1 to UTC+2, so 08:00 is 06:00 UTC.
    assert next_allowed_send(
        datetime(2025, 3, 29, 22, 0, tzinfo=UTC), OSLO, NIGHT, MORNING, urgent=False
    ) == datetime(2025, 3, 30, 6, 0, tzinfo=UTC)
    # Night of 25-26 October 2025: back to UTC+1, so 08:00 is 07:00 UTC.
    assert next_allowed_send(
        datetime(2025, 10, 25, 21, 0, tzinfo=UTC), OSLO, NIGHT, MORNING, urgent=False
    ) == datetime(2025, 10, 26, 7, 0, tzinfo=UTC)


def test_quiet_end_inside_the_spring_gap_is_the_jump() -> None:
    # 02:30 does not exist on 30 March 2025 in Oslo; the clock jumps 02:00 -> 03:00 at 01:00 UTC.
    assert next_allowed_send(
        datetime(2025, 3, 29, 22, 0, tzinfo=UTC), OSLO, NIGHT, time(2, 30), urgent=False
    ) == datetime(2025, 3, 30, 1, 0, tzinfo=UTC)


def test_quiet_end_in_the_autumn_fold_is_its_first_occurrence() -> None:
    assert next_allowed_send(
        datetime(2025, 10, 25, 22, 0, tzinfo=UTC), OSLO, NIGHT, time(2, 30), urgent=False
    ) == datetime(2025, 10, 26, 0, 30, tzinfo=UTC)


def test_daytime_window_and_disabled_window() -> None:
    now = datetime(2025, 1, 15, 11, 30, tzinfo=UTC)  # 12:30 Oslo
    assert next_allowed_send(now, OSLO, time(12), time(13), urgent=False) == datetime(
        2025, 1, 15, 12, 0, tzinfo=UTC
    )
    assert next_allowed_send(now, OSLO, time(12), time(12), urgent=False) == now


def test_urgent_messages_ignore_quiet_hours() -> None:
    now = datetime(2025, 1, 15, 22, 0, tzinfo=UTC)
    assert next_allowed_send(now, OSLO, NIGHT, MORNING, urgent=True) == now
    prefs = QuietHours()
    assert prefs.next_allowed_send(now, OSLO, Trigger.ARRIVING_SOON) == now
    assert prefs.next_allowed_send(now, OSLO, Trigger.DELIVERY_SURVEY) == datetime(
        2025, 1, 16, 7, 0, tzinfo=UTC
    )
    strict = QuietHours(urgent_triggers=frozenset())
    assert strict.next_allowed_send(now, OSLO, Trigger.ARRIVING_SOON) == datetime(
        2025, 1, 16, 7, 0, tzinfo=UTC
    )


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        next_allowed_send(datetime(2025, 1, 15, 12, 0), OSLO, NIGHT, MORNING, urgent=False)
