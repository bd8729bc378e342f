"""What every analytics query is scoped by: a range of UTC days, optionally one carrier and one shop."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import Shipment

EPOCH = date(1970, 1, 1)


def carriers_in_use(shop_id: int | None) -> list[str]:
    """The carriers of the shop's shipments (of every shop for None): the carrier filter's choices."""
    query = select(Shipment.carrier).distinct().order_by(Shipment.carrier)
    if shop_id is not None:
        query = query.where(Shipment.shop_id == shop_id)
    return list(db.session.scalars(query))


@dataclass(frozen=True)
class Filters:
    """Days `since`..`until` (inclusive, UTC); `carrier` and `shop_id` None mean all."""

    since: date
    until: date
    carrier: str | None = None
    shop_id: int | None = None

    @property
    def start(self) -> datetime:
        """Midnight UTC opening the range."""
        return datetime.combine(self.since, time(0), UTC)

    @property
    def end(self) -> datetime:
        """Midnight UTC after the range's last day (exclusive)."""
        return datetime.combine(self.until + timedelta(days=1), time(0), UTC)

    def weeks(self) -> list[int]:
        """The week numbers (see `app.analytics.sql.week_number`) the range touches, oldest first."""
        return list(range(week_of(self.since), week_of(self.until) + 1))


def week_of(day: date) -> int:
    """The week number of `day` (weeks start on Monday)."""
    return ((day - EPOCH).days + 3) // 7


def week_monday(week: int) -> date:
    """The Monday of week number `week`."""
    return EPOCH + timedelta(days=7 * week - 3)


def week_label(week: int) -> str:
    """`2026-W48` (ISO week of the Monday)."""
    year, number, _ = week_monday(week).isocalendar()
    return f"{year}-W{number:02d}"


def day_of(number: int) -> date:
    """The date of a day number (days since 1970-01-01)."""
    return EPOCH + timedelta(days=int(number))


def nearest_rank(ordered: Sequence[tuple[float, int]], share: float) -> float | None:
    """The ⌈share·n⌉-th smallest value of a histogram given as (value, count) pairs sorted by value."""
    total = sum(count for _, count in ordered)
    if not total:
        return None
    rank = max(math.ceil(share * total), 1)
    seen = 0
    for value, count in ordered:
        seen += count
        if seen >= rank:
            return value
    return ordered[-1][0]


def share(part: float, whole: float) -> float | None:
    """`part / whole`, None for an empty whole."""
    return part / whole if whole else None
