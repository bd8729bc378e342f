"""Retry schedules: exponential backoff with jitter, ending in a dead letter."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class RetrySchedule:
    """Nominal delays before retry 1, 2, ... ; each is jittered by +/- `jitter` (a fraction)."""

    delays: tuple[float, ...]
    jitter: float = 0.1

    @property
    def max_attempts(self) -> int:
        """Total attempts including the first; after that many failures the message is dead-lettered."""
        return len(self.delays) + 1

    @property
    def nominal_total(self) -> float:
        """Seconds from the first attempt to the last, without jitter."""
        return sum(self.delays)

    def next_delay(self, attempt: int, rng: random.Random) -> float | None:
        """Seconds to wait after failed attempt number `attempt` (1-based); None means dead-letter."""
        if attempt < 1:
            raise ValueError(f"attempt numbers start at 1, got {attempt}")
        if attempt > len(self.delays):
            return None
        nominal = self.delays[attempt - 1]
        return nominal * rng.uniform(1 - self.jitter, 1 + self.jitter)


MINUTE, HOUR = 60.0, 3600.0
# Email and SMS go stale quickly ("out for delivery" is useless tomorrow): give up after about 6 hours.
MESSAGE_RETRY_SCHEDULE = RetrySchedule((1 * MINUTE, 5 * MINUTE, 30 * MINUTE, 2 * HOUR, 3.5 * HOUR))
