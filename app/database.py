"""Engine-level settings and dialect-aware helpers shared by the use cases."""

from __future__ import annotations

import sqlite3

from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from app.extensions import db


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """WAL and a busy timeout let the web and the worker share one SQLite file safely."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def is_postgresql() -> bool:
    """True when the bound database is PostgreSQL."""
    return db.engine.dialect.name == "postgresql"


def insert_ignoring_conflicts(model, rows: list[dict], returning=None) -> list:
    """INSERT … ON CONFLICT DO NOTHING on either dialect, as one cached executemany statement.

    Returns the `returning` column (default: the primary key) of the rows actually inserted, or a tuple of
    values per row when `returning` is a tuple of columns.
    """
    if not rows:
        return []
    dialect_insert = postgresql.insert if is_postgresql() else sqlite.insert
    table = model.__table__
    if isinstance(returning, tuple):
        statement = (
            dialect_insert(table).on_conflict_do_nothing().returning(*(table.c[c.key] for c in returning))
        )
        return [tuple(row) for row in db.session.execute(statement, rows)]
    column = table.c[returning.key] if returning is not None else next(iter(table.primary_key.columns))
    # A Core statement on the Table (not the ORM entity): no ORM bulk-insert bookkeeping per row.
    statement = dialect_insert(table).on_conflict_do_nothing().returning(column)
    return list(db.session.execute(statement, rows).scalars())
