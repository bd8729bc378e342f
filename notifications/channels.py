"""The channel registry: how the dispatcher finds the sender for an outbox row's channel."""

from __future__ import annotations

from notifications.email import EmailChannel
from notifications.model import Channel
from notifications.sms import SmsChannel
from notifications.webhooks import WebhookChannel

CHANNELS: dict[str, type[Channel]] = {
    "email": EmailChannel,
    "sms": SmsChannel,
    "webhook": WebhookChannel,
}


def channel_class(name: str) -> type[Channel]:
    """The channel class for `name`, or ValueError naming the supported ones."""
    try:
        return CHANNELS[name]
    except KeyError:
        raise ValueError(f"unknown channel {name!r}; supported: {', '.join(sorted(CHANNELS))}") from None
