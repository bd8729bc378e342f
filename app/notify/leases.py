"""Outbox leases: which dispatcher holds which rows, kept alive by a heartbeat while it works.

A dispatcher claims due rows under a short lease (OUTBOX_LEASE_SECONDS) in its own name, and a heartbeat
thread renews the lease every OUTBOX_HEARTBEAT_SECONDS until the run ends. A long batch so keeps its rows,
and the rows of a dispatcher that died are due again one lease after its last heartbeat.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from collections.abc import Sequence
from datetime import datetime, timedelta
from types import TracebackType

from flask import current_app
from sqlalchemy import and_, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from app.database import is_postgresql
from app.extensions import db
from app.models import Notification
from app.models.notification import OutboxState
from app.models.types import utcnow

log = logging.getLogger(__name__)


def new_worker_id() -> str:
    """A name for one dispatcher run, unique across hosts, processes and runs."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"


def claim(now: datetime, limit: int, worker: str, ids: Sequence[int] | None = None) -> list[int]:
    """Lease up to `limit` due rows (or exactly `ids`, if still pending) to `worker` and commit.

    A row is due when pending and its time has come, or `sending` with an expired lease (its
    dispatcher died). The UPDATE picks rows in id order in one statement, so concurrent dispatchers
    never share a row and never wait for each other (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite: the
    write lock). `attempt_started_at` is kept: it tells the new holder an attempt was cut off.
    """
    due = or_(
        and_(Notification.state == OutboxState.PENDING.value, Notification.next_attempt_at <= now),
        and_(Notification.state == OutboxState.SENDING.value, Notification.lease_until <= now),
    )
    if ids is not None:
        due = and_(Notification.id.in_(ids), Notification.state == OutboxState.PENDING.value)
    candidates = select(Notification.id).where(due).order_by(Notification.id).limit(limit)
    if is_postgresql():
        candidates = candidates.with_for_update(skip_locked=True)
    claimed = db.session.scalars(
        update(Notification)
        .where(Notification.id.in_(candidates.scalar_subquery()))
        .values(
            state=OutboxState.SENDING.value,
            claimed_by=worker,
            lease_until=now + timedelta(seconds=current_app.config["OUTBOX_LEASE_SECONDS"]),
            updated_at=now,
        )
        .returning(Notification.id),
        execution_options={"synchronize_session": False},
    ).all()
    db.session.commit()
    return sorted(claimed)


_TABLE = Notification.__table__


class Heartbeat:
    """Renews the leases of `worker`'s rows on a background thread, as a context manager."""

    def __init__(self, worker: str) -> None:
        config = current_app.config
        self.worker = worker
        self._engine: Engine = db.engine
        self._lease = timedelta(seconds=config["OUTBOX_LEASE_SECONDS"])
        self._interval = config["OUTBOX_HEARTBEAT_SECONDS"]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"outbox-heartbeat-{worker}", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join()

    def renew(self) -> int:
        """Extend the lease on every row this worker still holds; returns how many.

        Rows locked right now (a sending thread is recording one) are skipped, so the heartbeat never
        waits for, or deadlocks with, the senders; the next beat renews them if they are still held.
        """
        held = select(_TABLE.c.id).where(
            _TABLE.c.claimed_by == self.worker, _TABLE.c.state == OutboxState.SENDING.value
        )
        if self._engine.dialect.name == "postgresql":
            held = held.with_for_update(skip_locked=True)
        with self._engine.begin() as connection:
            return connection.execute(
                update(_TABLE)
                .where(_TABLE.c.id.in_(held.scalar_subquery()))
                .values(lease_until=utcnow() + self._lease)
            ).rowcount

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.renew()
            except SQLAlchemyError:  # the next beat tries again; the lease covers a few missed ones
                log.warning("outbox worker %s: renewing its leases failed", self.worker, exc_info=True)
