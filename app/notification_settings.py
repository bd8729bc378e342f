"""Notification settings from the config: channel settings, signed links, local channels for the demo."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import time
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

from notifications.email import SmtpSettings
from notifications.sms import SmsSettings
from notifications.webhooks import WebhookSettings

_TRACKING_SALT = "leveranse.tracking"
_UNSUBSCRIBE_SALT = "leveranse.unsubscribe"


def smtp_settings(config: Mapping[str, Any]) -> SmtpSettings | None:
    """SMTP submission settings, or None when no SMTP server is configured (emails are captured)."""
    if not config["SMTP_HOST"]:
        return None
    return SmtpSettings(
        host=config["SMTP_HOST"],
        port=config["SMTP_PORT"],
        from_address=config["SMTP_FROM_ADDRESS"],
        from_name=config["SMTP_FROM_NAME"],
        username=config["SMTP_USERNAME"] or None,
        password=config["SMTP_PASSWORD"] or None,
        starttls=config["SMTP_STARTTLS"],
        ssl=config["SMTP_SSL"],
        timeout=config["SEND_TIMEOUT_SECONDS"],
    )


def sms_settings(config: Mapping[str, Any]) -> SmsSettings | None:
    """SMS provider settings, or None when no provider is configured (SMS are captured)."""
    if not config["SMS_BASE_URL"]:
        return None
    return SmsSettings(
        base_url=config["SMS_BASE_URL"],
        account_sid=config["SMS_ACCOUNT_SID"],
        auth_token=config["SMS_AUTH_TOKEN"],
        sender=config["SMS_SENDER"],
        default_region=config["SMS_DEFAULT_REGION"],
        timeout=config["SEND_TIMEOUT_SECONDS"],
    )


def webhook_settings(config: Mapping[str, Any]) -> WebhookSettings:
    """Webhook sending settings; the SSRF guard is on unless WEBHOOKS_ALLOW_PRIVATE."""
    return WebhookSettings(
        timeout=config["SEND_TIMEOUT_SECONDS"], allow_private=config["WEBHOOKS_ALLOW_PRIVATE"]
    )


def parse_clock(value: str) -> time:
    """`"21:00"` as a time of day."""
    return time.fromisoformat(value)


def tracking_token(config: Mapping[str, Any], shipment_id: int) -> str:
    """The signed shipment id of a tracking link."""
    return URLSafeSerializer(config["SECRET_KEY"], salt=_TRACKING_SALT).dumps(shipment_id)


def read_tracking_token(config: Mapping[str, Any], token: str) -> int | None:
    """The shipment id of a tracking token, or None when it is forged or malformed."""
    try:
        shipment_id = URLSafeSerializer(config["SECRET_KEY"], salt=_TRACKING_SALT).loads(token)
    except BadSignature:
        return None
    return shipment_id if isinstance(shipment_id, int) else None


def tracking_url(config: Mapping[str, Any], shipment_id: int) -> str:
    """The customer's tracking page: PUBLIC_BASE_URL + /t/<signed shipment id>."""
    return f"{config['PUBLIC_BASE_URL'].rstrip('/')}/t/{tracking_token(config, shipment_id)}"


def unsubscribe_url(config: Mapping[str, Any], shipment_id: int, channel: str) -> str:
    """A one-click unsubscribe link for the customer of `shipment_id` on `channel`; it never expires."""
    token = URLSafeSerializer(config["SECRET_KEY"], salt=_UNSUBSCRIBE_SALT).dumps([shipment_id, channel])
    return f"{config['PUBLIC_BASE_URL'].rstrip('/')}/u/{token}"


def read_unsubscribe_token(config: Mapping[str, Any], token: str) -> tuple[int, str] | None:
    """(shipment id, channel) from an unsubscribe token, or None when it is forged or malformed."""
    try:
        shipment_id, channel = URLSafeSerializer(config["SECRET_KEY"], salt=_UNSUBSCRIBE_SALT).loads(token)
    except (BadSignature, TypeError, ValueError):
        return None
    if not isinstance(shipment_id, int) or not isinstance(channel, str):
        return None
    return shipment_id, channel


class _CountingSink:
    """An aiosmtpd handler that accepts every message (the outbox viewer shows what was sent)."""

    def __init__(self) -> None:
        self.received = 0

    async def handle_DATA(self, server, session, envelope) -> str:
        self.received += 1
        return "250 Message accepted"


def start_local_channels(config: dict[str, Any], smtp_port: int = 8025, sms_port: int = 8030) -> list[str]:
    """For the embedded default: start a local SMTP sink and SMS sandbox where none is configured.

    Updates `config` to point at them (and allows loopback webhooks); returns lines to print.
    """
    from aiosmtpd.controller import Controller

    from notifications.sms_sandbox import SmsSandbox

    started = []
    if not config["SMTP_HOST"]:
        controller = Controller(_CountingSink(), hostname="127.0.0.1", port=smtp_port)
        controller.start()
        config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp_port)
        started.append(f"local SMTP sink on 127.0.0.1:{smtp_port}")
    if not config["SMS_BASE_URL"]:
        sandbox = SmsSandbox("ACembedded", "embedded-token", port=sms_port).start()
        config.update(SMS_BASE_URL=sandbox.url, SMS_ACCOUNT_SID="ACembedded", SMS_AUTH_TOKEN="embedded-token")
        started.append(f"SMS sandbox on {sandbox.url}")
    config["WEBHOOKS_ALLOW_PRIVATE"] = True
    return started
