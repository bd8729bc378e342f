"""SQL expressions that SQLite and PostgreSQL spell differently, compiled per dialect.

Datetimes are stored as naive UTC (app/models/types.py), so day numbers and seconds are UTC too.
"""

from __future__ import annotations

from sqlalchemy import Float, Integer
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class day_number(FunctionElement):  # noqa: N801  (used like a SQL function)
    """Whole days from 1970-01-01 to the (UTC) day of a date or datetime column."""

    type = Integer()
    inherit_cache = True


class epoch_seconds(FunctionElement):  # noqa: N801
    """Seconds from 1970-01-01T00:00Z to a datetime column (whole seconds on SQLite)."""

    type = Float()
    inherit_cache = True


@compiles(day_number, "sqlite")
def _day_number_sqlite(element, compiler, **kw) -> str:
    return f"CAST(julianday(date({compiler.process(element.clauses, **kw)})) - 2440587.5 AS INTEGER)"


@compiles(day_number, "postgresql")
def _day_number_postgresql(element, compiler, **kw) -> str:
    return f"(CAST({compiler.process(element.clauses, **kw)} AS DATE) - DATE '1970-01-01')"


@compiles(epoch_seconds, "sqlite")
def _epoch_sqlite(element, compiler, **kw) -> str:
    # whole seconds, exact (julianday's float loses an hour boundary to rounding)
    return f"CAST(strftime('%s', {compiler.process(element.clauses, **kw)}) AS INTEGER)"


@compiles(epoch_seconds, "postgresql")
def _epoch_postgresql(element, compiler, **kw) -> str:
    return f"CAST(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)}) AS DOUBLE PRECISION)"


class whole(FunctionElement):  # noqa: N801
    """A number rounded down to an integer (SQLite builds may lack `floor`)."""

    type = Integer()
    inherit_cache = True


@compiles(whole, "sqlite")
def _whole_sqlite(element, compiler, **kw) -> str:
    value = compiler.process(element.clauses, **kw)
    # CAST truncates towards zero; one less for negative non-integers makes it a floor
    return f"(CAST({value} AS INTEGER) - (({value}) < CAST({value} AS INTEGER)))"


@compiles(whole, "postgresql")
def _whole_postgresql(element, compiler, **kw) -> str:
    return f"CAST(FLOOR({compiler.process(element.clauses, **kw)}) AS INTEGER)"


def week_number(column):
    """Whole weeks from Monday 1969-12-29 (Monday-based weeks: week w starts on day 7·w − 3)."""
    return (day_number(column) + 3) // 7
