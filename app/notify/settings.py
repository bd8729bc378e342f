"""A shop's notification settings: what it stored, or the defaults from the config."""

from __future__ import annotations

from flask import current_app

from app.extensions import db
from app.models import ShopNotificationSettings
from app.notify.channel_settings import parse_clock
from notifications.model import Trigger
from notifications.quiet_hours import DEFAULT_URGENT_TRIGGERS


def default_settings(shop_id: int) -> ShopNotificationSettings:
    """A shop's settings before it chose any: every trigger, email, quiet hours from the config."""
    config = current_app.config
    return ShopNotificationSettings(
        shop_id=shop_id,
        triggers=[t.value for t in Trigger],
        channels=["email"],
        quiet_start=parse_clock(config["QUIET_HOURS_START"]),
        quiet_end=parse_clock(config["QUIET_HOURS_END"]),
        urgent_triggers=sorted(t.value for t in DEFAULT_URGENT_TRIGGERS),
        survey_url=None,
        survey_delay_hours=24,
        pickup_reminder_hours=48,
    )


def shop_settings(shop_id: int) -> ShopNotificationSettings:
    """The shop's stored settings, or the (unsaved) defaults."""
    return db.session.get(ShopNotificationSettings, shop_id) or default_settings(shop_id)
