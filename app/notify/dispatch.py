"""The outbox dispatcher: claim due rows under a lease, send them, record each outcome as it comes.

Delivery is at-least-once. Each sending thread, per row: marks the attempt started (`attempt_started_at`,
only while this run still holds the row: app/notify/leases.py) and commits, calls the provider, and
records the outcome in the same short transaction that starts its next row. A crash so loses only the
attempts under way at that instant (at most one per thread); the next holder logs them as `interrupted`
and sends them again with the same key (email Message-ID, SMS `Idempotency-Key`, webhook event id). The
SMS provider and careful shops drop such a resend; mail servers deliver both copies of an email, so
emails go out one at a time per process (`_EMAIL_IN_FLIGHT`, held from the send until its outcome is
committed): a crash duplicates at most one email.
"""

from __future__ import annotations

import logging
import queue
import random
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import bindparam, insert, inspect, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import DeliveryAttempt, Notification, Shipment, Unsubscribe, WebhookEndpoint
from app.models.notification import OutboxState
from app.models.types import UTCDateTime, utcnow
from app.notify.channel_settings import sms_settings, smtp_settings, webhook_settings
from app.notify.leases import Heartbeat, claim, new_worker_id
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
# Held from the call to a provider that delivers resends twice (SMTP) until that outcome is committed.
_EMAIL_IN_FLIGHT = threading.Lock()


@dataclass
class DispatchStats:
    """What one dispatcher run did."""

    claimed: int = 0
    sent: int = 0
    retried: int = 0
    dead: int = 0
    captured: int = 0
    cancelled: int = 0
    interrupted: int = 0  # attempts a dead dispatcher left under way: sent again, perhaps a duplicate
    lost: int = 0  # rows another dispatcher took over before this one started them
    by_channel: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class _Outcome:
    attempted_at: datetime
    duration_ms: int
    result: SendResult | None
    error: SendError | None


def dispatch_due(now: datetime | None = None, limit: int | None = None) -> DispatchStats:
    """The dispatcher job: send every due row, a batch at a time."""
    stats = DispatchStats()
    batch = limit or current_app.config["OUTBOX_BATCH_SIZE"]
    with Heartbeat(new_worker_id()) as heartbeat:
        while True:
            ids = claim(now or utcnow(), batch, heartbeat.worker)
            if ids:
                send_claimed(ids, stats, heartbeat.worker)
            if len(ids) < batch or limit is not None:
                return stats


def deliver_now(notification_id: int) -> Notification:
    """Send one pending row right away (the webhook "send test event"), then return it."""
    with Heartbeat(new_worker_id()) as heartbeat:
        if claim(utcnow(), 1, heartbeat.worker, ids=[notification_id]):
            send_claimed([notification_id], DispatchStats(), heartbeat.worker)
    return db.session.get(Notification, notification_id, populate_existing=True)


def replay(notification: Notification, now: datetime | None = None) -> None:
    """Queue a dead (or sent) row again with a fresh retry budget; same dedupe key and event id."""
    notification.state = OutboxState.PENDING.value
    notification.attempts = 0
    notification.next_attempt_at = now or utcnow()
    notification.lease_until = None
    notification.claimed_by = None


@dataclass(frozen=True)
class _Work:
    """A claimed row as plain values, so sending threads never touch the session."""

    notification_id: int
    channel: str
    attempt: int  # the number of this attempt
    endpoint_id: int | None
    message: Any


def send_claimed(ids: Sequence[int], stats: DispatchStats, worker: str) -> None:
    """Send rows `worker` holds on OUTBOX_SEND_THREADS threads; each outcome is committed as it comes."""
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
        if row.attempt_started_at is not None:
            _log_interrupted(row, stats)
        skip = _skip_reason(row, blocked, senders, finished)
        if skip is None:
            work.append(_Work(row.id, row.channel, row.attempts + 1, row.endpoint_id, _message(row, now)))
        else:
            _finish(row, skip[0], skip[1], stats)
    db.session.commit()
    for row in rows:  # outcomes are written with plain statements: don't expire these on every commit
        if inspect(row).identity_key not in known:
            db.session.expunge(row)
    if not work:
        return
    pool = _ChannelPool(senders, db.engine, worker)
    todo: queue.SimpleQueue[_Work] = queue.SimpleQueue()
    for item in work:
        todo.put(item)
    threads = min(len(work), max(1, config["OUTBOX_SEND_THREADS"]))
    try:
        with ThreadPoolExecutor(max_workers=threads) as executor:
            for done in [executor.submit(pool.drain, todo) for _ in range(threads)]:
                for item, attempt in done.result():
                    _count(item, attempt, stats)
    finally:
        pool.close()


def _log_interrupted(row: Notification, stats: DispatchStats) -> None:
    """A dispatcher died during this row's last attempt: log it; the provider may have the message."""
    log.warning("outbox row %s: attempt %s was cut off; sending it again", row.id, row.attempts)
    db.session.add(
        DeliveryAttempt(
            notification_id=row.id,
            number=row.attempts,
            attempted_at=row.attempt_started_at,
            duration_ms=0,
            outcome="interrupted",
            error_kind="interrupted",
            error="the dispatcher stopped during this attempt; it is sent again with the same key",
        )
    )
    row.attempt_started_at = None
    stats.interrupted += 1


def _count(item: _Work, attempt: dict | None, stats: DispatchStats) -> None:
    if attempt is None:
        stats.lost += 1
        return
    stats.by_channel[item.channel] = stats.by_channel.get(item.channel, 0) + 1
    kind = attempt["outcome"]
    if kind == "sent":
        stats.sent += 1
    elif kind == "retry":
        stats.retried += 1
    else:
        stats.dead += 1


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

    def __init__(self, senders: dict[str, Callable[[], Channel] | None], engine: Engine, worker: str) -> None:
        self._senders = senders
        self._engine = engine
        self._worker = worker
        self._local = threading.local()
        self._opened: list[Channel] = []
        self._lock = threading.Lock()

    def drain(self, todo: queue.SimpleQueue[_Work]) -> list[tuple[_Work, dict | None]]:
        """One sending thread: start, send and record rows until none is left; returns their attempts.

        A row's outcome is committed in the transaction that starts the thread's next row (one commit
        per row), before that row is sent: a thread never has more than one row sent but unrecorded, and
        a process never more than one email. None stands for a row another dispatcher took over before
        this one started it.
        """
        done: list[tuple[_Work, dict | None]] = []
        sent: tuple[_Work, _Outcome] | None = None
        with self._engine.connect() as connection:
            while True:
                item = _take(todo)
                started = False
                try:
                    with connection.begin():
                        if sent is not None:
                            done.append((sent[0], self._record(connection, *sent)))
                        if item is not None:
                            started = self._start(connection, item)
                finally:
                    if sent is not None and self._one_at_a_time(sent[0].channel):
                        _EMAIL_IN_FLIGHT.release()
                    sent = None
                if item is None:
                    return done
                if started:
                    sent = (item, self.send(item))
                else:
                    done.append((item, None))

    def _start(self, connection: Connection, item: _Work) -> bool:
        values = {"row_id": item.notification_id, "worker": self._worker, "at": utcnow()}
        if connection.execute(_START_ATTEMPT, values).rowcount == 1:
            return True
        log.warning("outbox row %s: another dispatcher holds it now", item.notification_id)
        return False

    def _record(self, connection: Connection, item: _Work, outcome: _Outcome) -> dict:
        row, attempt = _result(item, outcome)
        connection.execute(_STORE_OUTCOME, row | {"worker": self._worker})
        connection.execute(insert(DeliveryAttempt.__table__), attempt)
        if attempt["outcome"] == "dead" and attempt["error_kind"] == "gone" and item.endpoint_id:
            _disable_endpoint(connection, item.endpoint_id, outcome.attempted_at)
        return attempt

    def _one_at_a_time(self, channel: str) -> bool:
        return not channel_class(channel).receiver_drops_resends

    def send(self, item: _Work) -> _Outcome:
        """Send on this thread's channel; errors become part of the outcome.

        For an email this takes `_EMAIL_IN_FLIGHT`, which `drain` releases once the outcome is committed.
        """
        if self._one_at_a_time(item.channel):
            _EMAIL_IN_FLIGHT.acquire()
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


def _take(todo: queue.SimpleQueue[_Work]) -> _Work | None:
    try:
        return todo.get_nowait()
    except queue.Empty:
        return None


_TABLE = Notification.__table__
_HELD = (
    _TABLE.c.id == bindparam("row_id"),
    _TABLE.c.claimed_by == bindparam("worker"),
    _TABLE.c.state == OutboxState.SENDING.value,
)
_START_ATTEMPT = (
    update(_TABLE)
    .where(*_HELD)
    .values(
        attempts=_TABLE.c.attempts + 1,
        attempt_started_at=bindparam("at", type_=UTCDateTime()),
        updated_at=bindparam("at", type_=UTCDateTime()),
    )
)
_STORE_OUTCOME = (
    update(_TABLE)
    .where(*_HELD)
    .values(
        state=bindparam("new_state"),
        provider_id=bindparam("new_provider_id"),
        sent_at=bindparam("new_sent_at", type_=UTCDateTime()),
        next_attempt_at=bindparam("new_next_attempt_at", type_=UTCDateTime()),
        last_error=bindparam("new_last_error"),
        lease_until=None,
        claimed_by=None,
        attempt_started_at=None,
        updated_at=bindparam("new_updated_at", type_=UTCDateTime()),
    )
)


def _result(item: _Work, outcome: _Outcome) -> tuple[dict, dict]:
    """The row update and the attempt-log entry for one send's outcome."""
    error = outcome.error
    at = outcome.attempted_at
    provider_id = outcome.result.provider_id if outcome.result else None
    attempt = {
        "notification_id": item.notification_id,
        "number": item.attempt,
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
    if error is None:
        return row, attempt
    row.update(new_sent_at=None, new_last_error=f"{error.kind}: {error.message}"[:500])
    delay = SCHEDULES[item.channel].next_delay(item.attempt, _rng) if error.retryable else None
    if delay is None:
        attempt["outcome"] = "dead"
        row["new_state"] = OutboxState.DEAD.value
    else:
        attempt["outcome"] = "retry"
        delay = max(delay, error.retry_after or 0.0)
        row.update(new_state=OutboxState.PENDING.value, new_next_attempt_at=at + timedelta(seconds=delay))
    return row, attempt


def _disable_endpoint(connection: Connection, endpoint_id: int, when: datetime) -> None:
    connection.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint_id)
        .values(enabled=False, disabled_reason=f"answered 410 Gone at {when:%Y-%m-%d %H:%M} UTC")
    )


def _finish(row: Notification, state: OutboxState, error: str | None, stats: DispatchStats) -> None:
    row.state = state.value
    row.lease_until = None
    row.claimed_by = None
    if error is not None:
        row.last_error = error
    setattr(stats, state.value, getattr(stats, state.value) + 1)
