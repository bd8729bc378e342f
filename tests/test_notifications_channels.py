from __future__ import annotations

import pytest

from notifications.channels import CHANNELS, channel_class
from notifications.email import EmailChannel
from notifications.sms import SmsChannel
from notifications.webhooks import WebhookChannel


def test_registry_names_every_channel() -> None:
    assert {"email": EmailChannel, "sms": SmsChannel, "webhook": WebhookChannel} == CHANNELS
    assert channel_class("sms") is SmsChannel


def test_unknown_channel_is_an_explicit_error() -> None:
    with pytest.raises(ValueError, match="unknown channel 'pigeon'; supported: email, sms, webhook"):
        channel_class("pigeon")
