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


def insert_ignoring_conflicts(model, rows: list[dict]) -> int:
    """INSERT … ON CONFLICT DO NOTHING on either dialect; returns the number of rows inserted."""
    if not rows:
        return 0
    dialect_insert = postgresql.insert if is_postgresql() else sqlite.insert
    statement = dialect_insert(model).values(rows).on_conflict_do_nothing()
    return db.session.execute(statement).rowcount or 0
