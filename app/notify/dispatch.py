"""The outbox dispatcher: claim due rows under a lease, send them, record the outcome.

Delivery is at-least-once: a row is claimed (`sending`, `lease_until`) and committed before it is
sent, and marked `sent` after. A crash between the two leaves it `sending`; once the lease expires
the next run sends it again, and the provider idempotency keys derived from the dedupe key (email
Message-ID, SMS `Idempotency-Key`, webhook event id) make that resend harmless to the receiver.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import and_, bindparam, insert, inspect, or_, select, update
from sqlalchemy.orm import selectinload

from app.database import is_postgresql
from app.extensions import db
from app.models import DeliveryAttempt, Notification, Shipment, Unsubscribe, WebhookEndpoint
from app.models.notification import OutboxState
from app.models.types import UTCDateTime, utcnow
from app.notify.channel_settings import sms_settings, smtp_settings, webhook_settings
from carriers.model import TERMINAL_STATUSES
from notifications.channels import channel_class
from notifications.email import EmailMessage
from notifications.errors import PermanentSendError, SendError
from notifications.model import Channel, SendResult, Trigger
from notifications.retry import MESSAGE_RETRY_SCHEDULE, RetrySchedule
from notifications.sms import SmsMessage
from notifications.webhooks import RETRY_SCHEDULE, WebhookEvent, WebhookMessage

log = logging.getLogger(__name__)

SCHEDULES: dict[str, RetrySchedule] = {
    "email": MESSAGE_RETRY_SCHEDULE,
    "sms": MESSAGE_RETRY_SCHEDULE,
    "webhook": RETRY_SCHEDULE,
}
# Messages about a risk that a finished parcel no longer has: never sent to the customer once it is over.
RISK_TRIGGERS = frozenset(t.value for t in (Trigger.PREDICTED_DELAY, Trigger.STUCK, Trigger.BACK_ON_TRACK))
_rng = random.Random()


@dataclass
class DispatchStats:
    """What one dispatcher run did."""

    claimed: int = 0
    sent: int = 0
    retried: int = 0
    dead: int = 0
    captured: int = 0
    cancelled: int = 0
    by_channel: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class _Outcome:
    attempted_at: datetime
    duration_ms: int
    result: SendResult | None
    error: SendError | None


def claim(now: datetime, limit: int, ids: Sequence[int] | None = None) -> list[int]:
    """Lease up to `limit` due rows (or exactly `ids`, if still pending) and commit; returns their ids.

    A row is due when pending and its time has come, or `sending` with an expired lease (its
    dispatcher died). The UPDATE picks rows in one statement, so concurrent dispatchers never share
    a row (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite: the write lock).
    """
    due = or_(
        and_(Notification.state == OutboxState.PENDING.value, Notification.next_attempt_at <= now),
        and_(Notification.state == OutboxState.SENDING.value, Notification.lease_until <= now),
    )
    if ids is not None:
        due = and_(Notification.id.in_(ids), Notification.state == OutboxState.PENDING.value)
    candidates = select(Notification.id).where(due).order_by(Notification.next_attempt_at).limit(limit)
    if is_postgresql():
        candidates = candidates.with_for_update(skip_locked=True)
    lease_until = now + timedelta(seconds=current_app.config["OUTBOX_LEASE_SECONDS"])
    claimed = db.session.scalars(
        update(Notification)
        .where(Notification.id.in_(candidates.scalar_subquery()))
        .values(
            state=OutboxState.SENDING.value,
            lease_until=lease_until,
            attempts=Notification.attempts + 1,
            updated_at=now,
        )
        .returning(Notification.id),
        execution_options={"synchronize_session": False},
    ).all()
    db.session.commit()
    return sorted(claimed)


def dispatch_due(now: datetime | None = None, limit: int | None = None) -> DispatchStats:
    """The dispatcher job: send every due row, a batch at a time."""
    config = current_app.config
    stats = DispatchStats()
    batch = limit or config["OUTBOX_BATCH_SIZE"]
    while True:
        ids = claim(now or utcnow(), batch)
        if ids:
            send_claimed(ids, stats)
        if len(ids) < batch or limit is not None:
            return stats


def deliver_now(notification_id: int) -> Notification:
    """Send one pending row right away (the webhook "send test event"), then return it."""
    ids = claim(utcnow(), 1, ids=[notification_id])
    if ids:
        send_claimed(ids, DispatchStats())
    return db.session.get(Notification, notification_id, populate_existing=True)


def replay(notification: Notification, now: datetime | None = None) -> None:
    """Queue a dead (or sent) row again with a fresh retry budget; same dedupe key and event id."""
    notification.state = OutboxState.PENDING.value
    notification.attempts = 0
    notification.next_attempt_at = now or utcnow()
    notification.lease_until = None


@dataclass(frozen=True)
class _Work:
    """A claimed row as plain values, so sending threads never touch the session."""

    notification_id: int
    channel: str
    attempts: int
    endpoint_id: int | None
    message: Any


def send_claimed(ids: Sequence[int], stats: DispatchStats) -> None:
    """Send rows this process has leased, OUTBOX_COMMIT_EVERY at a time, committing after each chunk."""
    config = current_app.config
    stats.claimed += len(ids)
    known = set(db.session.identity_map.keys())
    rows = db.session.scalars(
        select(Notification)
        .where(Notification.id.in_(ids))
        .options(selectinload(Notification.endpoint))
        .order_by(Notification.id)
    ).all()
    now = utcnow()
    settings = {
        "email": smtp_settings(config),
        "sms": sms_settings(config),
        "webhook": webhook_settings(config),
    }
    senders = {name: _factory(value, channel_class(name)) for name, value in settings.items()}
    blocked = _unsubscribed(rows)
    finished = _finished_parcels(rows)
    work: list[_Work] = []
    for row in rows:
        skip = _skip_reason(row, blocked, senders, finished)
        if skip is None:
            work.append(_Work(row.id, row.channel, row.attempts, row.endpoint_id, _message(row, now)))
        else:
            _finish(row, skip[0], skip[1], stats)
    db.session.commit()
    for row in rows:  # outcomes are written with plain statements: don't expire these on every commit
        if inspect(row).identity_key not in known:
            db.session.expunge(row)
    if not work:
        return
    pool = _ChannelPool(senders)
    # Sent-but-unrecorded rows are what a crash resends: at most one chunk of them at any moment.
    chunk = max(1, config["OUTBOX_COMMIT_EVERY"])
    try:
        with ThreadPoolExecutor(max_workers=max(1, config["OUTBOX_SEND_THREADS"])) as executor:
            for start in range(0, len(work), chunk):
                items = work[start : start + chunk]
                outcomes = executor.map(pool.send, items)
                results = [
                    _result(item, outcome, stats) for item, outcome in zip(items, outcomes, strict=True)
                ]
                _store(results)
                db.session.commit()
    finally:
        pool.close()


def _factory(settings: Any, channel: type[Channel]) -> Callable[[], Channel] | None:
    return None if settings is None else lambda: channel(settings)


def _unsubscribed(rows: Iterable[Notification]) -> set[tuple[int, str, str]]:
    customer = [row for row in rows if row.channel != "webhook"]
    if not customer:
        return set()
    found = db.session.execute(
        select(Unsubscribe.shop_id, Unsubscribe.channel, Unsubscribe.address).where(
            Unsubscribe.address.in_({row.recipient for row in customer})
        )
    )
    return {tuple(item) for item in found}


def _finished_parcels(rows: Iterable[Notification]) -> set[int]:
    """Shipments of risk messages in this batch that are finished now (checked in the dispatch transaction)."""
    ids = {row.shipment_id for row in rows if row.trigger in RISK_TRIGGERS and row.shipment_id is not None}
    if not ids:
        return set()
    finished = select(Shipment.id).where(Shipment.id.in_(ids), Shipment.status.in_(sorted(TERMINAL_STATUSES)))
    return set(db.session.scalars(finished))


def _skip_reason(
    row: Notification, blocked: set[tuple[int, str, str]], senders: dict[str, Any], finished: set[int]
) -> tuple[OutboxState, str | None] | None:
    if (row.shop_id, row.channel, row.recipient) in blocked:
        return OutboxState.CANCELLED, "the recipient unsubscribed"
    if row.shipment_id in finished and row.channel != "webhook":
        return OutboxState.CANCELLED, "the parcel was finished before the message went out"
    if row.channel == "webhook":
        endpoint = row.endpoint
        if endpoint is None or endpoint.deleted_at is not None:
            return OutboxState.CANCELLED, "the webhook endpoint was deleted"
        if not endpoint.enabled:
            return (
                OutboxState.CANCELLED,
                f"the webhook endpoint is disabled: {endpoint.disabled_reason or ''}",
            )
    elif senders[row.channel] is None:
        return OutboxState.CAPTURED, None
    return None


def _message(row: Notification, now: datetime) -> Any:
    if row.channel == "email":
        return EmailMessage(
            to=row.recipient,
            subject=row.subject or "",
            text=row.body_text,
            html=row.body_html or "",
            dedupe_key=row.dedupe_key,
            unsubscribe_url=row.unsubscribe_url or "",
            to_name=row.recipient_name or "",
            language=row.language or "en",
        )
    if row.channel == "sms":
        return SmsMessage(to=row.recipient, body=row.body_text, dedupe_key=row.dedupe_key)
    event = WebhookEvent(row.event_id or "", row.event_type or "", row.body_text.encode())
    return WebhookMessage(url=row.endpoint.url, event=event, secrets=row.endpoint.signing_secrets(now))


class _ChannelPool:
    """One channel instance per sending thread and channel name (channels hold a connection)."""

    def __init__(self, senders: dict[str, Callable[[], Channel] | None]) -> None:
        self._senders = senders
        self._local = threading.local()
        self._opened: list[Channel] = []
        self._lock = threading.Lock()

    def send(self, item: _Work) -> _Outcome:
        """Send on this thread's channel; errors become part of the outcome."""
        started = utcnow()
        clock = time.perf_counter()
        result, error = None, None
        try:
            result = self._channel(item.channel).send(item.message)
        except SendError as exc:
            error = exc
        except Exception as exc:  # a bug must not stall the outbox: record it, dead-letter the row
            log.exception("outbox row %s: unexpected error while sending", item.notification_id)
            error = PermanentSendError(f"internal error: {exc!r}", kind="internal")
        duration = int((time.perf_counter() - clock) * 1000)
        return _Outcome(started, duration, result, error)

    def _channel(self, name: str) -> Channel:
        channels = self._local.__dict__.setdefault("channels", {})
        if name not in channels:
            channels[name] = self._senders[name]()
            with self._lock:
                self._opened.append(channels[name])
        return channels[name]

    def close(self) -> None:
        """Close every channel opened by any thread."""
        for channel in self._opened:
            channel.close()


_TABLE = Notification.__table__
_STORE_OUTCOME = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("row_id"))
    .values(
        state=bindparam("new_state"),
        provider_id=bindparam("new_provider_id"),
        sent_at=bindparam("new_sent_at", type_=UTCDateTime()),
        next_attempt_at=bindparam("new_next_attempt_at", type_=UTCDateTime()),
        last_error=bindparam("new_last_error"),
        lease_until=None,
        updated_at=bindparam("new_updated_at", type_=UTCDateTime()),
    )
)


def _result(item: _Work, outcome: _Outcome, stats: DispatchStats) -> tuple[dict, dict]:
    """The row update and the attempt-log entry for one send's outcome."""
    error = outcome.error
    at = outcome.attempted_at
    provider_id = outcome.result.provider_id if outcome.result else None
    attempt = {
        "notification_id": item.notification_id,
        "number": item.attempts,
        "attempted_at": at,
        "duration_ms": outcome.duration_ms,
        "outcome": "sent",
        "error_kind": error.kind if error else None,
        "error": error.message[:500] if error else None,
        "provider_id": provider_id,
    }
    row = {
        "row_id": item.notification_id,
        "new_state": OutboxState.SENT.value,
        "new_provider_id": provider_id,
        "new_sent_at": at,
        "new_next_attempt_at": None,
        "new_last_error": None,
        "new_updated_at": at,
    }
    stats.by_channel[item.channel] = stats.by_channel.get(item.channel, 0) + 1
    if error is None:
        stats.sent += 1
        return row, attempt
    row.update(new_sent_at=None, new_last_error=f"{error.kind}: {error.message}"[:500])
    delay = SCHEDULES[item.channel].next_delay(item.attempts, _rng) if error.retryable else None
    if delay is None:
        attempt["outcome"] = "dead"
        row["new_state"] = OutboxState.DEAD.value
        stats.dead += 1
        if error.kind == "gone" and item.endpoint_id is not None:
            _disable_endpoint(item.endpoint_id, at)
    else:
        attempt["outcome"] = "retry"
        delay = max(delay, error.retry_after or 0.0)
        row.update(new_state=OutboxState.PENDING.value, new_next_attempt_at=at + timedelta(seconds=delay))
        stats.retried += 1
    return row, attempt


def _store(results: list[tuple[dict, dict]]) -> None:
    """One executemany for the rows and one for the attempt log (the dispatcher's hot path)."""
    db.session.execute(_STORE_OUTCOME, [row for row, _ in results])
    db.session.execute(insert(DeliveryAttempt.__table__), [attempt for _, attempt in results])


def _disable_endpoint(endpoint_id: int, when: datetime) -> None:
    db.session.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint_id)
        .values(enabled=False, disabled_reason=f"answered 410 Gone at {when:%Y-%m-%d %H:%M} UTC")
    )


def _finish(row: Notification, state: OutboxState, error: str | None, stats: DispatchStats) -> None:
    row.state = state.value
    row.lease_until = None
    if error is not None:
        row.last_error = error
    setattr(stats, state.value, getattr(stats, state.value) + 1)
