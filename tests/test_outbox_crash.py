"""SIGKILL the dispatcher (a separate process) mid-batch: nothing is lost, its rows are taken over within
30 s, and only the sends in flight at the kill (one per thread) reach a receiver twice, with the same key."""

from __future__ import annotations

import email
import email.policy
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from app.extensions import db
from app.models import Notification, Shipment, ShopNotificationSettings, WebhookEndpoint
from app.models.types import utcnow
from app.notify.dispatch import dispatch_due
from app.notify.enqueue import Change, queue_change
from app.notify.settings import default_settings
from notifications.email import message_id
from notifications.model import Trigger
from notifications.webhook_sandbox import WebhookSandbox
from tests.factories import SMS_ACCOUNT_SID, SMS_AUTH_TOKEN, WEBHOOK_SECRET, make_shop

SHIPMENTS = 200
REPO = Path(__file__).resolve().parents[1]


def _fill_outbox(hooks: WebhookSandbox) -> None:
    shop, _ = make_shop("Crash shop")
    settings: ShopNotificationSettings = default_settings(shop.id)
    settings.channels = ["email", "sms"]
    db.session.add(settings)
    db.session.add(WebhookEndpoint(shop_id=shop.id, url=hooks.endpoint, secret=WEBHOOK_SECRET))
    shipments = [
        Shipment(
            shop_id=shop.id,
            carrier="bring",
            tracking_number=f"CRASH{i:05d}",
            customer_email=f"kunde{i}@example.no",
            customer_phone=f"+479{i:07d}",
            customer_timezone="UTC",
            poll_failures=0,
        )
        for i in range(SHIPMENTS)
    ]
    db.session.add_all(shipments)
    db.session.flush()
    for shipment in shipments:
        queue_change(shipment, Change(Trigger.OUT_FOR_DELIVERY, "2026-11-23", {}))
    db.session.commit()


def test_sigkill_mid_batch_loses_nothing_and_sends_no_key_twice(
    app, smtp_server, sms_provider, webhook_receiver, database_url
) -> None:
    inbox, sms, hooks = smtp_server, sms_provider, webhook_receiver
    app.config.update(
        SMTP_HOST=inbox.host,
        SMTP_PORT=inbox.port,
        SMS_BASE_URL=sms.url,
        SMS_ACCOUNT_SID=SMS_ACCOUNT_SID,
        SMS_AUTH_TOKEN=SMS_AUTH_TOKEN,
    )
    _fill_outbox(hooks)
    total = 3 * SHIPMENTS
    assert db.session.scalar(select(func.count()).select_from(Notification)) == total
    db.session.remove()

    child = subprocess.Popen(
        [sys.executable, "-m", "tests.outbox_crash_child", database_url, str(inbox.port), sms.url],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while len(inbox.messages) + len(sms.messages) + len(hooks.events) < total // 3:
        assert child.poll() is None, "the dispatcher exited on its own"
        assert time.monotonic() < deadline, "the dispatcher sent nothing"
        time.sleep(0.002)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()

    states = dict(
        db.session.execute(select(Notification.state, func.count()).group_by(Notification.state)).all()
    )
    assert states.get("sent", 0) < total, "killed too late to be mid-batch"
    assert set(states) <= {"sent", "sending"}

    later = utcnow() + timedelta(seconds=30)
    stats = dispatch_due(now=later)
    assert stats.sent == total - states.get("sent", 0)
    assert dict(
        db.session.execute(select(Notification.state, func.count()).group_by(Notification.state)).all()
    ) == {"sent": total}

    rows = db.session.scalars(select(Notification)).all()
    message_ids = Counter(
        email.message_from_bytes(raw, policy=email.policy.default)["Message-ID"]
        for _, _, raw in inbox.messages
    )
    event_ids = Counter(event.event_id for event in hooks.events)
    expected_mail = {message_id(r.dedupe_key, "leveranse.test") for r in rows if r.channel == "email"}
    expected_events = {r.event_id for r in rows if r.channel == "webhook"}
    assert set(message_ids) == expected_mail
    assert set(event_ids) == expected_events
    assert sorted(m.to for m in sms.messages) == sorted(r.recipient for r in rows if r.channel == "sms")
    # At-least-once: only rows in flight at the kill may arrive twice, and then with the same key.
    # The SMS provider drops a resend by its Idempotency-Key: every SMS arrived exactly once (above).
    resent = sum(n - 1 for n in message_ids.values()) + sum(n - 1 for n in event_ids.values())
    assert resent <= stats.interrupted <= app.config["OUTBOX_SEND_THREADS"]
