"""Business days and public holidays per country (Mon–Fri, minus the `holidays` package's days)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from functools import lru_cache

import holidays
import numpy as np

FIRST_YEAR = 2000
LAST_YEAR = 2040
WEEKMASK = "1111100"


@lru_cache(maxsize=64)
def _holiday_dates(country: str) -> frozenset[date]:
    try:
        table = holidays.country_holidays(country, years=range(FIRST_YEAR, LAST_YEAR + 1))
    except NotImplementedError:
        # A country the package does not know: weekends only, never a guess.
        return frozenset()
    return frozenset(table.keys())


@lru_cache(maxsize=256)
def _calendar(countries: tuple[str, ...]) -> np.busdaycalendar:
    days: set[date] = set()
    for country in countries:
        days |= _holiday_dates(country)
    return np.busdaycalendar(weekmask=WEEKMASK, holidays=sorted(days))


def business_calendar(countries: Iterable[str]) -> np.busdaycalendar:
    """A numpy business-day calendar closed on weekends and on any listed country's holidays."""
    return _calendar(tuple(sorted({c.upper() for c in countries if c})))


def holiday_name(day: date, country: str) -> str | None:
    """The public holiday on `day` in `country`, or None."""
    if day not in _holiday_dates(country.upper()):
        return None
    return holidays.country_holidays(country.upper(), years=day.year).get(day)


def is_business_day(day: date, countries: Iterable[str]) -> bool:
    """True when `day` is a working day in every listed country."""
    return bool(np.is_busday(np.datetime64(day, "D"), busdaycal=business_calendar(countries)))


def add_business_days(day: date, n: int, countries: Iterable[str]) -> date:
    """The business day `n` business days after `day` (rolled forward to a business day first)."""
    out = np.busday_offset(np.datetime64(day, "D"), n, roll="forward", busdaycal=business_calendar(countries))
    return out.astype(date)


def business_days_between(start: date, end: date, countries: Iterable[str]) -> int:
    """Business days in [start, end) (negative when end is before start)."""
    cal = business_calendar(countries)
    return int(np.busday_count(np.datetime64(start, "D"), np.datetime64(end, "D"), busdaycal=cal))


def per_calendar(
    fn: Callable[..., np.ndarray], keys: np.ndarray, calendars: list[tuple[str, ...]], *arrays: np.ndarray
) -> np.ndarray:
    """Apply a numpy business-day function row-wise, each row with the calendar `calendars[keys[i]]`."""
    out: np.ndarray | None = None
    for key in np.unique(keys):
        rows = np.flatnonzero(keys == key)
        part = fn(*(a[rows] for a in arrays), busdaycal=business_calendar(calendars[key]))
        if out is None:
            out = np.empty(len(keys), dtype=part.dtype)
        out[rows] = part
    if out is None:
        return np.empty(0, dtype="datetime64[D]")
    return out


def count_many(
    starts: np.ndarray, ends: np.ndarray, keys: np.ndarray, calendars: list[tuple[str, ...]]
) -> np.ndarray:
    """Vectorised `business_days_between` over datetime64[D] arrays with per-row calendars."""
    return per_calendar(np.busday_count, keys, calendars, starts, ends)


def roll_forward_many(days: np.ndarray, keys: np.ndarray, calendars: list[tuple[str, ...]]) -> np.ndarray:
    """Each day, or the next business day when it is not one."""
    return per_calendar(
        lambda d, busdaycal: np.busday_offset(d, 0, roll="forward", busdaycal=busdaycal),
        keys,
        calendars,
        days,
    )


def offset_many(
    days: np.ndarray, offsets: np.ndarray, keys: np.ndarray, calendars: list[tuple[str, ...]]
) -> np.ndarray:
    """Vectorised `add_business_days` (integer offsets) with per-row calendars."""
    return per_calendar(
        lambda d, n, busdaycal: np.busday_offset(d, n, roll="forward", busdaycal=busdaycal),
        keys,
        calendars,
        days,
        offsets,
    )
