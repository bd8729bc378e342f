"""Outbox leases against a real SMTP server: a killed dispatcher leaves only its send in flight to
resend, its rows are taken over within 30 s, a live one keeps its rows past the lease, and three
dispatchers racing send every row once."""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from app.extensions import db
from app.models import DeliveryAttempt, Notification, Shipment, ShopNotificationSettings
from app.models.types import utcnow
from app.notify.dispatch import DispatchStats, dispatch_due
from app.notify.enqueue import Change, queue_change
from app.notify.leases import claim
from app.notify.settings import default_settings
from notifications.mail_sandbox import MailSandbox
from notifications.model import Trigger
from tests.factories import make_shop

REPO = Path(__file__).resolve().parents[1]


class SlowMailSandbox(MailSandbox):
    """Keeps every message as it arrives, but answers the ones after the first `prompt` only after
    `delay` seconds (None: not until `release()`), so the sender is caught mid-send."""

    def __init__(self, prompt: int = 0, delay: float | None = None) -> None:
        super().__init__()
        self.prompt, self.delay = prompt, delay
        self._released = threading.Event()

    def release(self) -> None:
        """Answer held messages, and every later one, at once."""
        self._released.set()

    async def handle_DATA(self, server, session, envelope) -> str:
        """Keep the message, then hold the reply."""
        reply = await super().handle_DATA(server, session, envelope)
        if len(self.messages) > self.prompt:
            started = time.monotonic()
            while not self._released.is_set() and (
                self.delay is None or time.monotonic() - started < self.delay
            ):
                await asyncio.sleep(0.01)
        return reply


def _fill_outbox(count: int) -> None:
    shop, _ = make_shop("Lease shop")
    settings: ShopNotificationSettings = default_settings(shop.id)
    settings.channels = ["email"]
    db.session.add(settings)
    shipments = [
        Shipment(
            shop_id=shop.id,
            carrier="bring",
            tracking_number=f"LEASE{i:05d}",
            customer_email=f"kunde{i}@example.no",
            customer_timezone="UTC",
            poll_failures=0,
        )
        for i in range(count)
    ]
    db.session.add_all(shipments)
    db.session.flush()
    for shipment in shipments:
        queue_change(shipment, Change(Trigger.OUT_FOR_DELIVERY, "2026-11-23", {}))
    db.session.commit()


def _message_ids(inbox: MailSandbox) -> Counter:
    return Counter(
        email.message_from_bytes(raw, policy=email.policy.default)["Message-ID"]
        for _, _, raw in inbox.messages
    )


def _states() -> dict[str, int]:
    db.session.remove()
    found = db.session.execute(select(Notification.state, func.count()).group_by(Notification.state))
    return dict(found.all())


def _wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_sigkill_after_accepted_sends_leaves_only_the_send_in_flight(app, database_url) -> None:
    accepted, total = 7, 20
    _fill_outbox(total)
    db.session.remove()
    with SlowMailSandbox(prompt=accepted) as inbox:
        app.config.update(SMTP_HOST=inbox.host, SMTP_PORT=inbox.port)
        child = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.outbox_crash_child",
                database_url,
                str(inbox.port),
                "http://127.0.0.1:9",
                "1",
            ],
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            stdout=subprocess.DEVNULL,
        )
        try:
            assert _wait_for(lambda: len(inbox.messages) == accepted + 1, 60), "the dispatcher sent nothing"
            # The provider has 8 messages and has answered 7; the dispatcher waits for the 8th answer.
            _wait_for(lambda: _states().get("sent", 0) == accepted, 5)
        finally:
            os.kill(child.pid, signal.SIGKILL)
            child.wait()
            inbox.release()

        assert _states() == {"sent": accepted, "sending": total - accepted}
        started = db.session.scalars(select(Notification).where(Notification.attempt_started_at.is_not(None)))
        [in_flight_id] = [row.id for row in started]
        assert dispatch_due().claimed == 0, "the dead dispatcher's lease had not ended yet"

        stats = dispatch_due(now=utcnow() + timedelta(seconds=30))
        assert (stats.claimed, stats.sent, stats.interrupted) == (total - accepted, total - accepted, 1)
        assert _states() == {"sent": total}
        ids = _message_ids(inbox)
        assert (len(ids), sum(ids.values())) == (total, total + 1)
        [twice] = [message_id for message_id, n in ids.items() if n == 2]
        in_flight = db.session.get(Notification, in_flight_id)
        assert twice == in_flight.provider_id
        outcomes = db.session.execute(
            select(DeliveryAttempt.number, DeliveryAttempt.outcome)
            .where(DeliveryAttempt.notification_id == in_flight.id)
            .order_by(DeliveryAttempt.id)
        )
        assert outcomes.all() == [(1, "interrupted"), (2, "sent")]
        assert in_flight.attempts == 2 and in_flight.claimed_by is None


def test_a_dead_dispatchers_rows_are_due_again_within_30_seconds(app, smtp_server) -> None:
    app.config.update(SMTP_HOST=smtp_server.host, SMTP_PORT=smtp_server.port)
    _fill_outbox(3)
    now = datetime.now(UTC)
    claimed = claim(now, 10, "dead-worker")  # a dispatcher that dies right after claiming
    lease = app.config["OUTBOX_LEASE_SECONDS"]
    assert len(claimed) == 3 and lease <= 30
    assert dispatch_due(now=now + timedelta(seconds=lease - 1)).claimed == 0
    stats = dispatch_due(now=now + timedelta(seconds=lease))
    assert (stats.claimed, stats.sent, stats.interrupted) == (3, 3, 0)
    rows = db.session.scalars(select(Notification)).all()
    assert {(row.state, row.attempts, row.claimed_by) for row in rows} == {("sent", 1, None)}
    assert len(smtp_server.messages) == 3


def test_a_live_dispatcher_keeps_its_rows_past_the_lease(app) -> None:
    app.config.update(OUTBOX_LEASE_SECONDS=1.0, OUTBOX_HEARTBEAT_SECONDS=0.2, OUTBOX_SEND_THREADS=1)
    _fill_outbox(8)
    db.session.remove()
    with SlowMailSandbox(delay=0.25) as inbox:
        app.config.update(SMTP_HOST=inbox.host, SMTP_PORT=inbox.port)

        def first() -> DispatchStats:
            with app.app_context():
                try:
                    return dispatch_due()
                finally:
                    db.session.remove()

        with ThreadPoolExecutor(max_workers=1) as executor:
            running = executor.submit(first)
            assert _wait_for(lambda: len(inbox.messages) >= 6, 30)  # 1.5 s into a batch leased for 1 s
            second = dispatch_due()
            stats = running.result()
    assert (second.claimed, stats.claimed, stats.sent) == (0, 8, 8)
    assert set(_message_ids(inbox).values()) == {1}


def test_three_dispatchers_racing_send_every_row_once(app, smtp_server) -> None:
    app.config.update(SMTP_HOST=smtp_server.host, SMTP_PORT=smtp_server.port, OUTBOX_BATCH_SIZE=10)
    total = 120
    _fill_outbox(total)
    db.session.remove()

    def run() -> DispatchStats:
        with app.app_context():
            try:
                return dispatch_due()
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=3) as executor:
        runs = [executor.submit(run) for _ in range(3)]
        results = [future.result() for future in runs]
    leftover = dispatch_due()  # a dispatcher that got a short batch stops early; this one finishes up
    assert sum(r.sent for r in results) + leftover.sent == total
    assert sum(r.claimed for r in results) + leftover.claimed == total
    assert _states() == {"sent": total}
    ids = _message_ids(smtp_server)
    assert (len(ids), set(ids.values())) == (total, {1})
    assert (
        db.session.scalar(select(func.count(Notification.id)).where(Notification.claimed_by.is_not(None)))
        == 0
    )
