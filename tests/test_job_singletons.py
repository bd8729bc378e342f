"""Whole-book jobs run on one worker at a time: a PostgreSQL advisory lock per job."""

from __future__ import annotations

import zlib

import pytest
from sqlalchemy import text

from app.database import is_postgresql
from app.extensions import db
from app.jobs import JOBS, Job, _in_app_context


def test_the_whole_book_passes_are_singletons() -> None:
    assert {job.name for job in JOBS if job.singleton} == {
        "rescore-risk",
        "retrain-risk-model",
        "detect-claims",
    }


def test_a_singleton_runs_when_no_other_worker_holds_it(app) -> None:
    ran = []
    _in_app_context(app, Job("test-singleton", lambda: ran.append(1), "POLL_INTERVAL_SECONDS", True))()
    _in_app_context(app, Job("test-singleton", lambda: ran.append(2), "POLL_INTERVAL_SECONDS", True))()
    assert ran == [1, 2]  # the lock is released after each run


def test_a_singleton_skips_its_turn_while_another_worker_runs_it(app) -> None:
    if not is_postgresql():
        pytest.skip("one process on SQLite: no other worker to wait for")
    key = zlib.crc32(b"leveranse-job:test-singleton")
    other = db.engine.connect()  # another worker, mid-run
    try:
        assert other.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
        ran = []
        _in_app_context(app, Job("test-singleton", lambda: ran.append(1), "POLL_INTERVAL_SECONDS", True))()
        plain = Job("test-plain", lambda: ran.append(2), "POLL_INTERVAL_SECONDS")
        _in_app_context(app, plain)()
        assert ran == [2]
    finally:
        other.invalidate()  # a worker that dies drops its connection, and the server frees the lock
        other.close()
    _in_app_context(app, Job("test-singleton", lambda: ran.append(3), "POLL_INTERVAL_SECONDS", True))()
    assert ran == [2, 3]
