"""Channel settings from the config: SMTP, the SMS provider, shop webhooks, and clock values."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import time
from typing import Any

from notifications.email import SmtpSettings
from notifications.sms import SmsSettings
from notifications.webhooks import WebhookSettings


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
