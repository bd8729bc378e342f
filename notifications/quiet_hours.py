"""Quiet hours: when a non-urgent message may be sent, in the customer's own timezone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from notifications.model import Trigger

DEFAULT_QUIET_START = time(21, 0)
DEFAULT_QUIET_END = time(8, 0)
# A courier at the door cannot wait until morning; everything else can.
DEFAULT_URGENT_TRIGGERS = frozenset({Trigger.OUT_FOR_DELIVERY, Trigger.ARRIVING_SOON})


@dataclass(frozen=True)
class QuietHours:
    """A customer's quiet-hours preference; start == end means no quiet hours."""

    start: time = DEFAULT_QUIET_START
    end: time = DEFAULT_QUIET_END
    urgent_triggers: frozenset[Trigger] = DEFAULT_URGENT_TRIGGERS

    def next_allowed_send(self, now_utc: datetime, tz: ZoneInfo, trigger: Trigger) -> datetime:
        """When a message for `trigger` may go out, given this preference."""
        return next_allowed_send(now_utc, tz, self.start, self.end, trigger in self.urgent_triggers)


def next_allowed_send(
    now_utc: datetime, tz: ZoneInfo, quiet_start: time, quiet_end: time, urgent: bool
) -> datetime:
    """Return `now_utc` if sending is allowed now, else the UTC instant the quiet hours end locally."""
    if now_utc.tzinfo is None:
        raise ValueError("now_utc must be timezone-aware")
    now_utc = now_utc.astimezone(UTC)
    if urgent or quiet_start == quiet_end:
        return now_utc
    local = now_utc.astimezone(tz)
    wall = local.time().replace(tzinfo=None)
    if quiet_start < quiet_end:
        quiet = quiet_start <= wall < quiet_end
        end_day = local.date()
    else:  # the window wraps midnight, e.g. 21:00-08:00
        quiet = wall >= quiet_start or wall < quiet_end
        end_day = local.date() + timedelta(days=1) if wall >= quiet_start else local.date()
    if not quiet:
        return now_utc
    return _first_instant_at(end_day, quiet_end, tz)


def _first_instant_at(day: date, wall: time, tz: ZoneInfo) -> datetime:
    """The first UTC instant at which the local clock shows `wall` (or later) on `day`, DST-safe."""
    naive = datetime.combine(day, wall)
    first = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if first.astimezone(tz).replace(tzinfo=None) == naive:
        return first  # exists (for an ambiguous time, fold=0 is the earlier instant)
    # `wall` falls in a spring-forward gap: the answer is the moment the clock jumps past it.
    low = int(naive.replace(tzinfo=tz, fold=1).timestamp())
    high = int(first.timestamp())
    while high - low > 1:  # transitions fall on whole seconds
        mid = (low + high) // 2
        if datetime.fromtimestamp(mid, tz).replace(tzinfo=None) >= naive:
            high = mid
        else:
            low = mid
    return datetime.fromtimestamp(high, UTC)
