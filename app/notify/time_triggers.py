"""The job for triggers that depend on time passing: arriving soon, pickup reminder, delivery survey."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, select

from app.extensions import db
from app.models import Notification, Shipment, ShopNotificationSettings
from app.models.types import utcnow
from app.notify.enqueue import Change, customer_zone, day_key, queue_change
from app.notify.links import survey_url
from app.notify.settings import shop_settings
from app.notify.triggers import pickup_details
from carriers.model import Status
from notifications.model import Trigger


def scan_time_triggers(now: datetime | None = None) -> int:
    """The job for triggers that depend on time passing: arriving soon, pickup reminder, delivery survey."""
    now = now or utcnow()
    written = 0
    soon = now + timedelta(minutes=current_app.config["ARRIVING_SOON_MINUTES"])
    arriving = select(Shipment).where(
        Shipment.status == Status.OUT_FOR_DELIVERY,
        Shipment.deleted_at.is_(None),
        Shipment.eta_p10 <= soon,
        Shipment.eta_p90 > now,
        ~_already(Trigger.ARRIVING_SOON, since=now - timedelta(hours=20)),
    )
    for shipment in db.session.scalars(arriving):
        details = {"eta_start": shipment.eta_p10, "eta_end": shipment.eta_p90}
        change = Change(Trigger.ARRIVING_SOON, day_key(shipment.eta_p10, customer_zone(shipment)), details)
        written += queue_change(shipment, change, now)
    waiting = select(Shipment).where(
        Shipment.status == Status.AVAILABLE_FOR_PICKUP,
        Shipment.deleted_at.is_(None),
        ~_already(Trigger.PICKUP_REMINDER),
    )
    for shipment in db.session.scalars(waiting):
        hours = shop_settings(shipment.shop_id).pickup_reminder_hours
        if shipment.status_changed_at and shipment.status_changed_at <= now - timedelta(hours=hours):
            written += queue_change(
                shipment, Change(Trigger.PICKUP_REMINDER, "1", pickup_details(shipment, now)), now
            )
    delivered = select(Shipment).where(
        Shipment.status == Status.DELIVERED,
        Shipment.deleted_at.is_(None),
        Shipment.delivered_at > now - timedelta(days=7),
        Shipment.delivered_at >= Shipment.created_at,
        ~_already(Trigger.DELIVERY_SURVEY),
    )
    for shipment in db.session.scalars(delivered):
        settings = shop_settings(shipment.shop_id)
        if shipment.delivered_at <= now - timedelta(hours=settings.survey_delay_hours):
            change = Change(Trigger.DELIVERY_SURVEY, "1", {"survey_url": survey_link(shipment, settings)})
            written += queue_change(shipment, change, now)
    db.session.commit()
    return written


def survey_link(shipment: Shipment, settings: ShopNotificationSettings) -> str:
    """The shop's own survey when it set one (`{tracking_number}`, `{order_ref}` filled in), else ours."""
    if not settings.survey_url:
        return survey_url(current_app.config, shipment.id)
    return settings.survey_url.replace("{tracking_number}", shipment.tracking_number).replace(
        "{order_ref}", shipment.order_ref or ""
    )


def _already(trigger: Trigger, since: datetime | None = None):
    """EXISTS an outbox row of `trigger` for the scanned shipment (created after `since`, if given)."""
    condition = and_(Notification.shipment_id == Shipment.id, Notification.trigger == trigger.value)
    if since is not None:
        condition = and_(condition, Notification.created_at >= since)
    return select(Notification.id).where(condition).exists()
