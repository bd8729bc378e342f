"""The notification outbox, its attempt log, shop webhook endpoints, preferences and unsubscribes."""

from __future__ import annotations

import secrets
from datetime import datetime, time
from enum import StrEnum

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, utcnow

WEBHOOK_SECRET_PREFIX = "whsec_"


class OutboxState(StrEnum):
    """Where an outbox row is in its life."""

    PENDING = "pending"  # waiting for `next_attempt_at` (first try, a retry, or the end of quiet hours)
    # Claimed by the dispatcher `claimed_by` until `lease_until` (renewed while it works); once the lease
    # ends, another dispatcher claims it. `attempt_started_at` is set while the provider call is under way.
    SENDING = "sending"
    SENT = "sent"
    CAPTURED = "captured"  # the channel is not configured: rendered and kept, never sent
    DEAD = "dead"  # permanent failure or retry budget spent; webhooks can be replayed
    SUPERSEDED = "superseded"  # a newer status message for the same shipment and channel replaced it
    CANCELLED = "cancelled"  # the recipient unsubscribed, or the endpoint was deleted


OPEN_STATES = (OutboxState.PENDING, OutboxState.SENDING)


class Notification(db.Model):
    """One message to one recipient on one channel: the outbox row, unique on its dedupe key."""

    __table_args__ = (
        Index("ix_notification_due", "state", "next_attempt_at"),
        Index("ix_notification_shipment", "shipment_id", "channel", "collapse_group", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id"), index=True)
    shipment_id: Mapped[int | None] = mapped_column(ForeignKey("shipment.id", ondelete="SET NULL"))
    endpoint_id: Mapped[int | None] = mapped_column(
        ForeignKey("webhook_endpoint.id", ondelete="SET NULL"), index=True
    )
    channel: Mapped[str] = mapped_column(String(16))
    trigger: Mapped[str] = mapped_column(String(32), index=True)
    collapse_group: Mapped[str | None] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(500))
    recipient_name: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str | None] = mapped_column(String(8))
    subject: Mapped[str | None] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str | None] = mapped_column(Text)
    unsubscribe_url: Mapped[str | None] = mapped_column(String(500))
    event_id: Mapped[str | None] = mapped_column(String(64))
    event_type: Mapped[str | None] = mapped_column(String(40))

    state: Mapped[str] = mapped_column(String(16), default=OutboxState.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    attempt_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    provider_id: Mapped[str | None] = mapped_column(String(200))
    last_error: Mapped[str | None] = mapped_column(String(500))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    attempt_log: Mapped[list[DeliveryAttempt]] = relationship(
        back_populates="notification", order_by="DeliveryAttempt.id", passive_deletes=True
    )
    endpoint: Mapped[WebhookEndpoint | None] = relationship()


class DeliveryAttempt(db.Model):
    """One try at sending an outbox row: when, the outcome and what the provider said."""

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(
        ForeignKey("notification.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    duration_ms: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(16))  # sent, retry, dead, interrupted
    error_kind: Mapped[str | None] = mapped_column(String(40))
    error: Mapped[str | None] = mapped_column(String(500))
    provider_id: Mapped[str | None] = mapped_column(String(200))

    notification: Mapped[Notification] = relationship(back_populates="attempt_log")


class WebhookEndpoint(db.Model):
    """A shop's URL for signed events; while a secret is rotated, the previous one stays valid too."""

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id"), index=True)
    url: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(String(200), default="")
    event_types: Mapped[list] = mapped_column(JSON, default=list)  # empty: every event type
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(300))
    secret: Mapped[str] = mapped_column(String(100))
    previous_secret: Mapped[str | None] = mapped_column(String(100))
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    secret_rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @staticmethod
    def new_secret() -> str:
        """A fresh 256-bit signing secret."""
        return WEBHOOK_SECRET_PREFIX + secrets.token_urlsafe(32)

    def signing_secrets(self, now: datetime) -> tuple[str, ...]:
        """The secrets to sign with now: the current one, plus the previous one until it expires."""
        if self.previous_secret and self.previous_secret_expires_at and now < self.previous_secret_expires_at:
            return (self.secret, self.previous_secret)
        return (self.secret,)

    def wants(self, event_type: str) -> bool:
        """True when this endpoint subscribed to `event_type` (an empty list means all)."""
        return not self.event_types or event_type in self.event_types


class ShopNotificationSettings(db.Model):
    """A shop's choices: which triggers tell customers, on which channels, and the quiet-hours defaults."""

    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id"), primary_key=True)
    triggers: Mapped[list] = mapped_column(JSON)
    channels: Mapped[list] = mapped_column(JSON)
    quiet_start: Mapped[time] = mapped_column(Time)
    quiet_end: Mapped[time] = mapped_column(Time)
    urgent_triggers: Mapped[list] = mapped_column(JSON)
    survey_url: Mapped[str | None] = mapped_column(String(500))
    survey_delay_hours: Mapped[int] = mapped_column(Integer, default=24)
    pickup_reminder_hours: Mapped[int] = mapped_column(Integer, default=48)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class CustomerPreference(db.Model):
    """What the customer of one shipment chose; unset fields fall back to the shop's settings."""

    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipment.id", ondelete="CASCADE"), primary_key=True)
    channels: Mapped[list | None] = mapped_column(JSON)  # [] means "no messages"
    language: Mapped[str | None] = mapped_column(String(8))
    quiet_start: Mapped[time | None] = mapped_column(Time)
    quiet_end: Mapped[time | None] = mapped_column(Time)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class Unsubscribe(db.Model):
    """An address that asked for no more messages from a shop on a channel; checked before every send."""

    __table_args__ = (UniqueConstraint("shop_id", "channel", "address", name="uq_unsubscribe"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id"))
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(254))
    source: Mapped[str] = mapped_column(String(32))  # link, one-click, api
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
