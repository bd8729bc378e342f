"""Triggers: decide which customer messages and shop webhook events a change causes, and write them
to the outbox in the same transaction as the change.

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
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app
from sqlalchemy import and_, event, select, update

from app.database import insert_ignoring_conflicts
from app.extensions import db
from app.models import (
    CustomerPreference,
    Notification,
    Shipment,
    Shop,
    ShopNotificationSettings,
    TrackingEvent,
    Unsubscribe,
    WebhookEndpoint,
)
from app.models.notification import OutboxState
from app.models.types import utcnow
from app.notification_settings import parse_clock, tracking_url, unsubscribe_url
from app.signals import risk_state_changed, shipment_status_changed
from carriers.model import Status
from notifications.errors import InvalidRecipient, RenderError
from notifications.model import Trigger
from notifications.quiet_hours import DEFAULT_URGENT_TRIGGERS, QuietHours
from notifications.recipients import normalise_phone, validate_email
from notifications.render import render
from notifications.webhooks import build_event

log = logging.getLogger(__name__)

CUSTOMER_CHANNELS = ("email", "sms")
STATUS_TRIGGERS = {
    Status.OUT_FOR_DELIVERY: Trigger.OUT_FOR_DELIVERY,
    Status.FAILED_ATTEMPT: Trigger.FAILED_ATTEMPT,
    Status.AVAILABLE_FOR_PICKUP: Trigger.AVAILABLE_FOR_PICKUP,
    Status.DELIVERED: Trigger.DELIVERED,
    Status.EXCEPTION: Trigger.EXCEPTION,
}
_BEFORE_TRANSIT = frozenset({Status.PENDING, Status.INFO_RECEIVED, Status.UNKNOWN})
_DELAY_STATES = frozenset({"at_risk", "late"})
# Messages about where the parcel is now: a newer one makes an unsent older one pointless.
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
    }
)
EVENT_TYPES = {
    **{trigger: f"shipment.{trigger.value}" for trigger in STATUS_GROUP},
    Trigger.CLAIM_OPENED: "claim.opened",
    Trigger.CLAIM_UPDATED: "claim.updated",
    Trigger.CLAIM_RESOLVED: "claim.resolved",
    Trigger.DELIVERY_SURVEY: "survey.sent",
}
CARRIER_NAMES = {
    "bring": "Bring",
    "postnord": "PostNord",
    "dhl": "DHL",
    "ups": "UPS",
    "fedex": "FedEx",
    "usps": "USPS",
    "gls": "GLS",
    "thailandpost": "Thailand Post",
}


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


def _per_transaction(kind: str, key: object, load: Callable[[], Any]) -> Any:
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


def on_status_changed(shipment: Shipment, previous_status: str, source: str = "") -> None:
    """Signal receiver: write the outbox rows for a status change (inside the ingest's transaction)."""
    with db.session.no_autoflush:  # the ingest flushes once per chunk, not once per change
        change = status_change(shipment, Status(previous_status), utcnow())
    if change is not None:
        queue_change(shipment, change)


def on_risk_state_changed(shipment: Shipment, previous_state: str | None = None) -> None:
    """Signal receiver: predicted delay (entering at_risk/late) and stuck."""
    if Status(shipment.status) in (Status.DELIVERED, Status.RETURNED, Status.CANCELLED, Status.EXPIRED):
        return
    state = shipment.risk_state
    if state in _DELAY_STATES and previous_state not in _DELAY_STATES:
        eta = eta_window(shipment)
        if eta is None:
            return
        details = {"eta_start": eta[0], "eta_end": eta[1], "previous_eta": shipment.promised_date}
        queue_change(shipment, Change(Trigger.PREDICTED_DELAY, _day_key(eta[1]), details))
    elif state == "stuck":
        since = shipment.last_event_at or shipment.created_at
        queue_change(shipment, Change(Trigger.STUCK, since.isoformat(), {"last_event_at": since}))


def connect_signals() -> None:
    """Subscribe the triggers to the domain signals (idempotent)."""
    shipment_status_changed.connect(on_status_changed)
    risk_state_changed.connect(on_risk_state_changed)


def status_change(shipment: Shipment, previous: Status, now: datetime) -> Change | None:
    """The change a status move means for the customer, or None when it means nothing to tell."""
    status = Status(shipment.status)
    if status is Status.IN_TRANSIT and previous in _BEFORE_TRANSIT:
        eta = eta_window(shipment)
        details = {"eta_start": eta[0], "eta_end": eta[1]} if eta else {}
        return Change(Trigger.SHIPPED, "1", details)
    trigger = STATUS_TRIGGERS.get(status)
    if trigger is None:
        return None
    scan_at = shipment.last_event_at or now
    if scan_at < shipment.created_at and status is Status.DELIVERED:
        return None  # registered after it was delivered: the customer knows
    if trigger is Trigger.OUT_FOR_DELIVERY:
        details = {}
        if shipment.eta_p10 and shipment.eta_p90 and shipment.eta_p90 > now:
            details = {"eta_start": shipment.eta_p10, "eta_end": shipment.eta_p90}
        return Change(trigger, _day_key(scan_at, customer_zone(shipment)), details)
    if trigger is Trigger.FAILED_ATTEMPT:
        return Change(trigger, scan_at.isoformat(), {"attempted_at": scan_at})
    if trigger is Trigger.EXCEPTION:
        reason = shipment.reason or "other"
        return Change(trigger, f"{reason}:{_day_key(scan_at, customer_zone(shipment))}", {"reason": reason})
    if trigger is Trigger.AVAILABLE_FOR_PICKUP:
        return Change(trigger, "1", _pickup_details(shipment, now))
    return Change(trigger, "1", {"delivered_at": shipment.delivered_at or scan_at})


def notify_claim(shipment: Shipment, trigger: Trigger, claim_reference: str, version: str, **details) -> int:
    """For the claims module: a claim was opened / updated / resolved (`version` tells updates apart).

    `details` are the render keys: claim_reason, claim_state, or claim_resolution (+ claim_amount, currency).
    """
    if trigger not in (Trigger.CLAIM_OPENED, Trigger.CLAIM_UPDATED, Trigger.CLAIM_RESOLVED):
        raise ValueError(f"{trigger} is not a claim trigger")
    change = Change(trigger, f"{claim_reference}:{version}", {"claim_reference": claim_reference, **details})
    return queue_change(shipment, change)


def queue_change(shipment: Shipment, change: Change, now: datetime | None = None) -> int:
    """Write the outbox rows for `change` (customer channels, webhook endpoints); flushes, never commits."""
    now = now or utcnow()
    with db.session.no_autoflush:  # queries here need none of the ingest's pending changes flushed
        shop = db.session.get(Shop, shipment.shop_id)
        base_key = f"s{shipment.id}:{change.trigger.value}:{change.episode}"
        rows = _customer_rows(shop, shipment, change, base_key, now) + _webhook_rows(
            shop, shipment, change, base_key, now
        )
    if not rows:
        return 0
    if change.trigger in STATUS_GROUP:
        _supersede_pending(shipment.id, [row["dedupe_key"] for row in rows])
    return len(insert_ignoring_conflicts(Notification, rows))


def _supersede_pending(shipment_id: int, keeping: list[str]) -> None:
    db.session.execute(
        update(Notification)
        .where(
            Notification.shipment_id == shipment_id,
            Notification.collapse_group == "status",
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
    shop: Shop, shipment: Shipment, change: Change, base_key: str, now: datetime
) -> list[dict]:
    settings = _per_transaction("settings", shop.id, lambda: shop_settings(shop.id))
    if change.trigger.value not in settings.triggers:
        return []
    addresses = {"email": shipment.customer_email, "sms": shipment.customer_phone}
    if not any(addresses.values()):
        return []
    preference = db.session.get(CustomerPreference, shipment.id)
    channels = preference.channels if preference and preference.channels is not None else settings.channels
    wanted = [channel for channel in CUSTOMER_CHANNELS if channel in channels and addresses[channel]]
    if not wanted:
        return []
    blocked = _unsubscribed(shop.id, [addresses[channel] for channel in wanted])
    language = (preference and preference.language) or shipment.customer_language or shop.default_language
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
        try:
            rendered = render(change.trigger.value, language, _context(shop, shipment, change, link, zone))
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
        for endpoint in _per_transaction("endpoints", shop.id, lambda: _endpoints(shop.id))
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


def _context(
    shop: Shop, shipment: Shipment, change: Change, unsubscribe: str, zone: ZoneInfo
) -> dict[str, Any]:
    return {
        "shop_name": shop.name,
        "tracking_number": shipment.tracking_number,
        "tracking_url": tracking_url(current_app.config, shipment.id),
        "unsubscribe_url": unsubscribe,
        "timezone": zone.key,
        "customer_name": shipment.customer_name,
        "carrier": CARRIER_NAMES.get(shipment.carrier, shipment.carrier),
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


def _day_key(value: date | datetime, zone: ZoneInfo | None = None) -> str:
    if isinstance(value, datetime):
        return (value.astimezone(zone) if zone else value).date().isoformat()
    return value.isoformat()


def eta_window(shipment: Shipment) -> tuple[date | datetime, date | datetime] | None:
    """The predicted arrival window (p10..p90), else the carrier's ETA day, else None."""
    if shipment.eta_p10 and shipment.eta_p90:
        return shipment.eta_p10, shipment.eta_p90
    if shipment.carrier_eta:
        return shipment.carrier_eta, shipment.carrier_eta
    return None


def _pickup_details(shipment: Shipment, now: datetime) -> dict[str, Any]:
    """Where the parcel waits (the pickup scan's location) and until when (available since + hold days)."""
    location = db.session.scalar(
        select(TrackingEvent.location)
        .where(
            TrackingEvent.shipment_id == shipment.id,
            TrackingEvent.status == Status.AVAILABLE_FOR_PICKUP.value,
        )
        .order_by(TrackingEvent.occurred_at.desc())
        .limit(1)
    )
    since = shipment.status_changed_at or now
    deadline = since + timedelta(days=current_app.config["PICKUP_HOLD_DAYS"])
    return {"pickup_point": location or None, "pickup_deadline": deadline}


def scan_time_triggers(now: datetime | None = None) -> int:
    """The job for triggers that depend on time passing: arriving soon, pickup reminder, delivery survey."""
    now = now or utcnow()
    written = 0
    soon = now + timedelta(minutes=current_app.config["ARRIVING_SOON_MINUTES"])
    arriving = select(Shipment).where(
        Shipment.status == Status.OUT_FOR_DELIVERY.value,
        Shipment.deleted_at.is_(None),
        Shipment.eta_p10 <= soon,
        Shipment.eta_p90 > now,
        ~_already(Trigger.ARRIVING_SOON, since=now - timedelta(hours=20)),
    )
    for shipment in db.session.scalars(arriving):
        details = {"eta_start": shipment.eta_p10, "eta_end": shipment.eta_p90}
        change = Change(Trigger.ARRIVING_SOON, _day_key(shipment.eta_p10, customer_zone(shipment)), details)
        written += queue_change(shipment, change, now)
    waiting = select(Shipment).where(
        Shipment.status == Status.AVAILABLE_FOR_PICKUP.value,
        Shipment.deleted_at.is_(None),
        ~_already(Trigger.PICKUP_REMINDER),
    )
    for shipment in db.session.scalars(waiting):
        hours = shop_settings(shipment.shop_id).pickup_reminder_hours
        if shipment.status_changed_at and shipment.status_changed_at <= now - timedelta(hours=hours):
            written += queue_change(
                shipment, Change(Trigger.PICKUP_REMINDER, "1", _pickup_details(shipment, now)), now
            )
    delivered = select(Shipment).where(
        Shipment.status == Status.DELIVERED.value,
        Shipment.deleted_at.is_(None),
        Shipment.delivered_at > now - timedelta(days=7),
        Shipment.delivered_at >= Shipment.created_at,
        ~_already(Trigger.DELIVERY_SURVEY),
    )
    for shipment in db.session.scalars(delivered):
        settings = shop_settings(shipment.shop_id)
        if settings.survey_url and shipment.delivered_at <= now - timedelta(
            hours=settings.survey_delay_hours
        ):
            survey = settings.survey_url.replace("{tracking_number}", shipment.tracking_number).replace(
                "{order_ref}", shipment.order_ref or ""
            )
            written += queue_change(
                shipment, Change(Trigger.DELIVERY_SURVEY, "1", {"survey_url": survey}), now
            )
    db.session.commit()
    return written


def _already(trigger: Trigger, since: datetime | None = None):
    """EXISTS an outbox row of `trigger` for the scanned shipment (created after `since`, if given)."""
    condition = and_(Notification.shipment_id == Shipment.id, Notification.trigger == trigger.value)
    if since is not None:
        condition = and_(condition, Notification.created_at >= since)
    return select(Notification.id).where(condition).exists()
