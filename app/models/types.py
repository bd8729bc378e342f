"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import DateTime, String
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """Stores naive UTC, returns aware UTC; refuses naive input (no silent local-time bugs)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


class EnumText(TypeDecorator):
    """A `StrEnum` stored as its plain value (VARCHAR, no database enum type to migrate) and read back as
    the enum; an unknown value is refused on write."""

    impl = String
    cache_ok = True

    def __init__(self, enum_class: type[StrEnum], length: int) -> None:
        super().__init__(length)
        self.enum_class = enum_class

    def process_bind_param(self, value: str | None, dialect) -> str | None:
        return None if value is None else self.enum_class(value).value

    def process_result_value(self, value: str | None, dialect) -> StrEnum | None:
        return None if value is None else self.enum_class(value)


def _wall_clock() -> datetime:
    return datetime.now(UTC)


_clock: Callable[[], datetime] = _wall_clock


def utcnow() -> datetime:
    """The service's current time, aware UTC (the wall clock, except in the accelerated demo)."""
    return _clock()


def use_clock(clock: Callable[[], datetime] | None) -> None:
    """Run the whole service on another clock (the embedded demo shares the sandbox's); None resets."""
    global _clock
    _clock = clock or _wall_clock
