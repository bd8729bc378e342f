"""Types shared by every notification channel: triggers, the send result and the channel interface."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import StrEnum
from types import TracebackType
from typing import Any, ClassVar, Self


class Trigger(StrEnum):
    """Why a customer is told something; one template per trigger and language."""

    SHIPPED = "shipped"
    OUT_FOR_DELIVERY = "out_for_delivery"
    ARRIVING_SOON = "arriving_soon"
    DELIVERED = "delivered"
    AVAILABLE_FOR_PICKUP = "available_for_pickup"
    PICKUP_REMINDER = "pickup_reminder"
    FAILED_ATTEMPT = "failed_attempt"
    EXCEPTION = "exception"
    PREDICTED_DELAY = "predicted_delay"
    STUCK = "stuck"
    BACK_ON_TRACK = "back_on_track"
    CLAIM_OPENED = "claim_opened"
    CLAIM_UPDATED = "claim_updated"
    CLAIM_RESOLVED = "claim_resolved"
    DELIVERY_SURVEY = "delivery_survey"
    CASE_REPLY = "case_reply"


@dataclass(frozen=True)
class SendResult:
    """What a provider accepted: its id for the message (SMTP Message-ID, SMS sid, webhook event id)."""

    provider_id: str


class Channel(ABC):
    """A way to reach someone; holds its connection across a batch, so use one per worker thread."""

    # Whether the receiver drops a resend that carries the same key (SMS Idempotency-Key, webhook event
    # id). SMTP cannot: a resent email is a second email, so the outbox sends those one at a time.
    receiver_drops_resends: ClassVar[bool] = True

    @abstractmethod
    def send(self, message: Any) -> SendResult:
        """Send one message, raising RetryableSendError or PermanentSendError on failure."""

    @abstractmethod
    def close(self) -> None:
        """Release the connection (safe to call twice)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
