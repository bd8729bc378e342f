"""Writing a change to the outbox: customer messages and shop webhook events, in the same transaction as
the change.

Every row's dedupe key is `s<shipment>:<trigger>:<episode>:<channel>[:<endpoint>]`; the episode names
the change (a scan time, a day, an ETA), so a carrier re-sending the same status writes nothing new.
A backlog collapses to the latest: a new status message supersedes the shipment's still-pending ones
on the same channel. Customer messages respect the shop's trigger choice, the customer's channels,
quiet hours and unsubscribes; webhooks go to every enabled endpoint subscribed to the event type.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app
from sqlalchemy import event, select, update

from app.admin.message_templates import render_for_shop, shop_templates
from app.database import insert_ignoring_conflicts
from app.extensions import db
from app.models import CustomerPreference, Notification, Shipment, Shop, Unsubscribe, WebhookEndpoint
from app.models.notification import OutboxState
from app.models.types import utcnow
from app.notify.links import tracking_url, unsubscribe_url
from app.notify.settings import shop_settings
from carriers.registry import DISPLAY_NAMES
from notifications.errors import InvalidRecipient, RenderError
from notifications.model import Trigger
from notifications.quiet_hours import QuietHours
from notifications.recipients import normalise_phone, validate_email
from notifications.webhooks import build_event

log = logging.getLogger(__name__)

CUSTOMER_CHANNELS = ("email", "sms")
# Messages about the parcel's state: they collapse, a newer one makes some unsent older ones pointless.
STATUS_GROUP = frozenset(
    {
        Trigger.SHIPPED,
        Trigger.OUT_FOR_DELIVERY,
        Trigger.ARRIVING_SOON,
        Trigger.DELIVERED,
        Trigger.AVAILABLE_FOR_PICKUP,
        Trigger.PICKUP_REMINDER,
        Trigger.FAILED_ATTEMPT,
        Trigger.EXCEPTION,
        Trigger.PREDICTED_DELAY,
        Trigger.STUCK,
        Trigger.BACK_ON_TRACK,
    }
)
_DELAY_ALERTS = frozenset({Trigger.PREDICTED_DELAY, Trigger.STUCK, Trigger.BACK_ON_TRACK})
# What a pending message is superseded by: news of where the parcel is replaces everything unsent; a delay
# alert replaces only older delay alerts (a customer must not hear "delayed" without ever hearing "shipped").
SUPERSEDES = {
    trigger: (_DELAY_ALERTS if trigger in _DELAY_ALERTS else STATUS_GROUP) for trigger in STATUS_GROUP
}
EVENT_TYPES = {
    **{trigger: f"shipment.{trigger.value}" for trigger in STATUS_GROUP},
    Trigger.CLAIM_OPENED: "claim.opened",
    Trigger.CLAIM_UPDATED: "claim.updated",
    Trigger.CLAIM_RESOLVED: "claim.resolved",
    Trigger.DELIVERY_SURVEY: "survey.sent",
    Trigger.CASE_REPLY: "case.replied",
}


def per_transaction(kind: str, key: object, load: Callable[[], Any]) -> Any:
    """Memoise within one transaction (one ingest chunk): a backlog of changes asks once per shop."""
    cache = db.session.info.setdefault("notify_cache", {})
    if (kind, key) not in cache:
        cache[(kind, key)] = load()
    return cache[(kind, key)]


@event.listens_for(db.session, "after_commit")
@event.listens_for(db.session, "after_rollback")
def _forget_cache(session) -> None:
    session.info.pop("notify_cache", None)


@dataclass(frozen=True)
class Change:
    """One meaningful change of a shipment: the trigger, what distinguishes it, and trigger-specific facts."""

    trigger: Trigger
    episode: str
    details: dict[str, Any]


@dataclass(frozen=True)
class Requested:
    """A message the customer asked for (staff's reply to their question): on the channel they chose, in
    the language they wrote in, whatever the shop's triggers and the customer's channel choice say."""

    channel: str
    language: str


def queue_change(
    shipment: Shipment,
    change: Change,
    now: datetime | None = None,
    *,
    tell_customer: bool = True,
    requested: Requested | None = None,
) -> int:
    """Write the outbox rows for `change` (customer channels unless `tell_customer` is False, webhook
    endpoints); flushes, never commits."""
    now = now or utcnow()
    with db.session.no_autoflush:  # queries here need none of the ingest's pending changes flushed
        shop = db.session.get(Shop, shipment.shop_id)
        base_key = f"s{shipment.id}:{change.trigger.value}:{change.episode}"
        customer = _customer_rows(shop, shipment, change, base_key, now, requested) if tell_customer else []
        rows = customer + _webhook_rows(shop, shipment, change, base_key, now)
    if not rows:
        return 0
    if change.trigger in SUPERSEDES:
        _supersede_pending(shipment.id, SUPERSEDES[change.trigger], [row["dedupe_key"] for row in rows])
    return len(insert_ignoring_conflicts(Notification, rows))


def withdraw_pending(shipment_id: int, triggers: frozenset[Trigger]) -> None:
    """Supersede the shipment's unsent customer messages of these triggers (they no longer hold)."""
    _supersede_pending(shipment_id, triggers, [])


def _supersede_pending(shipment_id: int, triggers: frozenset[Trigger], keeping: list[str]) -> None:
    db.session.execute(
        update(Notification)
        .where(
            Notification.shipment_id == shipment_id,
            Notification.collapse_group == "status",
            Notification.trigger.in_([t.value for t in triggers]),
            Notification.channel.in_(CUSTOMER_CHANNELS),
            Notification.state == OutboxState.PENDING.value,
            Notification.dedupe_key.not_in(keeping),
        )
        .values(state=OutboxState.SUPERSEDED.value, updated_at=utcnow()),
        execution_options={"synchronize_session": False},
    )


def _row(shop: Shop, shipment: Shipment, change: Change, key: str, channel: str, now: datetime) -> dict:
    return {
        "dedupe_key": key,
        "shop_id": shop.id,
        "shipment_id": shipment.id,
        "endpoint_id": None,
        "channel": channel,
        "trigger": change.trigger.value,
        "collapse_group": "status" if change.trigger in STATUS_GROUP else None,
        "recipient": "",
        "recipient_name": None,
        "language": None,
        "body_text": "",
        "subject": None,
        "body_html": None,
        "unsubscribe_url": None,
        "event_id": None,
        "event_type": None,
        "state": OutboxState.PENDING.value,
        "attempts": 0,
        "next_attempt_at": now,
        "last_error": None,
        "created_at": now,
        "updated_at": now,
    }


def _customer_rows(
    shop: Shop, shipment: Shipment, change: Change, base_key: str, now: datetime, requested: Requested | None
) -> list[dict]:
    settings = per_transaction("settings", shop.id, lambda: shop_settings(shop.id))
    if requested is None and change.trigger.value not in settings.triggers:
        return []
    addresses = {"email": shipment.customer_email, "sms": shipment.customer_phone}
    if not any(addresses.values()):
        return []
    preference = db.session.get(CustomerPreference, shipment.id)
    channels = preference.channels if preference and preference.channels is not None else settings.channels
    if requested is not None:
        channels = [requested.channel]
    wanted = [channel for channel in CUSTOMER_CHANNELS if channel in channels and addresses[channel]]
    if not wanted:
        return []
    blocked = _unsubscribed(shop.id, [addresses[channel] for channel in wanted])
    language = (preference and preference.language) or shipment.customer_language or shop.default_language
    language = requested.language if requested is not None else language
    zone = customer_zone(shipment, shop)
    quiet = QuietHours(
        start=(preference and preference.quiet_start) or settings.quiet_start,
        end=(preference and preference.quiet_end) or settings.quiet_end,
        urgent_triggers=frozenset(Trigger(t) for t in settings.urgent_triggers),
    )
    send_at = quiet.next_allowed_send(now, zone, change.trigger)
    rows = []
    for channel in wanted:
        row = _row(shop, shipment, change, f"{base_key}:{channel}", channel, now)
        try:
            row["recipient"] = normalised_address(channel, addresses[channel], shipment)
        except InvalidRecipient as exc:
            row.update(recipient=addresses[channel], state=OutboxState.DEAD.value, last_error=exc.message)
        if (channel, addresses[channel]) in blocked or (channel, row["recipient"]) in blocked:
            continue
        link = unsubscribe_url(current_app.config, shipment.id, channel)
        own_texts = per_transaction("templates", shop.id, lambda: shop_templates(shop.id))
        try:
            context = message_context(shop, shipment, change, link, zone)
            rendered = render_for_shop(change.trigger.value, language, context, own_texts)
        except RenderError as exc:
            log.warning("no %s for shipment %s: %s", change.trigger.value, shipment.id, exc)
            return []
        row.update(
            recipient_name=shipment.customer_name,
            language=rendered.language,
            subject=rendered.subject if channel == "email" else None,
            body_text=rendered.text if channel == "email" else rendered.sms,
            body_html=rendered.html if channel == "email" else None,
            unsubscribe_url=link,
        )
        if row["state"] == OutboxState.PENDING.value:
            row["next_attempt_at"] = send_at
        rows.append(row)
    return rows


def normalised_address(channel: str, address: str, shipment: Shipment) -> str:
    """The address as the outbox stores it (validated email, E.164 number); InvalidRecipient if unusable."""
    if channel == "email":
        return validate_email(address)
    region = shipment.destination_country or current_app.config["SMS_DEFAULT_REGION"]
    return normalise_phone(address, region)


def _unsubscribed(shop_id: int, addresses: list[str]) -> set[tuple[str, str]]:
    rows = db.session.execute(
        select(Unsubscribe.channel, Unsubscribe.address).where(
            Unsubscribe.shop_id == shop_id, Unsubscribe.address.in_(addresses)
        )
    )
    return {(channel, address) for channel, address in rows}


def _webhook_rows(shop: Shop, shipment: Shipment, change: Change, base_key: str, now: datetime) -> list[dict]:
    event_type = EVENT_TYPES[change.trigger]
    endpoints = [
        endpoint
        for endpoint in per_transaction("endpoints", shop.id, lambda: _endpoints(shop.id))
        if endpoint.wants(event_type)
    ]
    if not endpoints:
        return []
    event_id = "evt_" + hashlib.sha256(base_key.encode()).hexdigest()[:32]
    event = build_event(event_type, event_data(shipment, change), now, event_id=event_id)
    rows = []
    for endpoint in endpoints:
        row = _row(shop, shipment, change, f"{base_key}:webhook:{endpoint.id}", "webhook", now)
        row.update(
            endpoint_id=endpoint.id,
            collapse_group=None,
            recipient=endpoint.url,
            body_text=event.body.decode(),
            event_id=event.event_id,
            event_type=event.event_type,
        )
        rows.append(row)
    return rows


def _endpoints(shop_id: int) -> list[WebhookEndpoint]:
    return list(
        db.session.scalars(
            select(WebhookEndpoint).where(
                WebhookEndpoint.shop_id == shop_id,
                WebhookEndpoint.enabled.is_(True),
                WebhookEndpoint.deleted_at.is_(None),
            )
        )
    )


def event_data(shipment: Shipment, change: Change) -> dict[str, Any]:
    """The `data` of a webhook event: the shipment as the API shows it, and what changed."""
    return {
        "trigger": change.trigger.value,
        "details": {key: _plain(value) for key, value in change.details.items()},
        "shipment": {
            "id": shipment.id,
            "carrier": shipment.carrier,
            "tracking_number": shipment.tracking_number,
            "order_ref": shipment.order_ref,
            "status": shipment.status,
            "reason": shipment.reason,
            "risk_state": shipment.risk_state,
            "last_event_at": _plain(shipment.last_event_at),
            "delivered_at": _plain(shipment.delivered_at),
            "estimated_delivery": _plain(shipment.carrier_eta),
            "eta": {
                "p10": _plain(shipment.eta_p10),
                "p50": _plain(shipment.eta_p50),
                "p90": _plain(shipment.eta_p90),
            },
            "tracking_url": tracking_url(current_app.config, shipment.id),
        },
    }


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return value if value is None or isinstance(value, int | float | str | bool) else str(value)


def message_context(
    shop: Shop, shipment: Shipment, change: Change, unsubscribe: str, zone: ZoneInfo
) -> dict[str, Any]:
    """What a message about `change` is rendered with (the outbox's rows and the workbench's preview)."""
    return {
        "shop_name": shop.name,
        "tracking_number": shipment.tracking_number,
        "tracking_url": tracking_url(current_app.config, shipment.id),
        "unsubscribe_url": unsubscribe,
        "timezone": zone.key,
        "customer_name": shipment.customer_name,
        "carrier": DISPLAY_NAMES.get(shipment.carrier, shipment.carrier),
        "order_reference": shipment.order_ref,
        **change.details,
    }


def customer_zone(shipment: Shipment, shop: Shop | None = None) -> ZoneInfo:
    """The customer's time zone: theirs, else the shop's, else UTC."""
    shop = shop or db.session.get(Shop, shipment.shop_id)
    for name in (shipment.customer_timezone, shop.default_timezone):
        try:
            if name:
                return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return ZoneInfo("UTC")


def day_key(value: date | datetime, zone: ZoneInfo | None = None) -> str:
    if isinstance(value, datetime):
        return (value.astimezone(zone) if zone else value).date().isoformat()
    return value.isoformat()
