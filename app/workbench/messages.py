"""Staff telling customers now: the same message the automatic triggers would send, with the same dedupe
key, through the same outbox path (so dedupe, quiet hours, the shop's triggers, the customer's channels
and unsubscribes all apply), and a preview of it in the customer's language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from app.admin.message_templates import render_for_shop, shop_templates
from app.errors import InvalidInput
from app.extensions import db
from app.models import CustomerPreference, Notification, Shipment, Shop
from app.notify.enqueue import Change, customer_zone, day_key, message_context, queue_change
from app.notify.estimate_change import move_details
from app.notify.links import unsubscribe_url
from app.notify.triggers import delay_episode, eta_window
from notifications.errors import RenderError
from notifications.model import Trigger
from notifications.render import RenderedMessage

#: the messages staff may send from the workbench, with what the picker shows
STAFF_TRIGGERS: dict[Trigger, str] = {
    Trigger.PREDICTED_DELAY: "Running late (new estimate)",
    Trigger.STUCK: "No news from the carrier",
    Trigger.EXCEPTION: "A problem on the way",
    Trigger.BACK_ON_TRACK: "Back on track",
}


def staff_trigger(value: str | None) -> Trigger:
    """The chosen message kind; InvalidInput for anything staff may not send."""
    try:
        trigger = Trigger(value or "")
    except ValueError:
        trigger = None
    if trigger not in STAFF_TRIGGERS:
        raise InvalidInput("Choose which message to send.", errors={"trigger": "Required."})
    return trigger


def staff_change(shipment: Shipment, trigger: Trigger, now: datetime) -> Change:
    """The change the message tells, keyed like the automatic trigger's (one message per episode)."""
    zone = customer_zone(shipment)
    eta = eta_window(shipment)
    if trigger in (Trigger.PREDICTED_DELAY, Trigger.BACK_ON_TRACK) and eta is None:
        raise InvalidInput(f"{shipment.tracking_number} has no predicted arrival to tell the customer.")
    if trigger is Trigger.PREDICTED_DELAY:
        episode = delay_episode(shipment)
        day = day_key(eta[1], zone)
        key = day if episode.number == 1 else f"{day}~{episode.number}"
        details = {"eta_start": eta[0], "eta_end": eta[1], "previous_eta": shipment.promised_date}
        return Change(trigger, key, details | move_details(shipment))
    if trigger is Trigger.BACK_ON_TRACK:
        episode = delay_episode(shipment)
        if not episode.open:
            raise InvalidInput(f"The customer of {shipment.tracking_number} was never told of a delay.")
        details = {"eta_start": eta[0], "eta_end": eta[1]} | move_details(shipment)
        return Change(trigger, str(episode.number), details)
    if trigger is Trigger.STUCK:
        since = shipment.last_event_at or shipment.created_at
        return Change(trigger, since.isoformat(), {"last_event_at": since})
    reason = shipment.reason or "other"
    scan_at = shipment.last_event_at or now
    return Change(trigger, f"{reason}:{day_key(scan_at, zone)}", {"reason": reason})


@dataclass(frozen=True)
class Preview:
    """What the customer of one shipment would get, or why nothing can be sent."""

    shipment: Shipment
    message: RenderedMessage | None
    problem: str | None
    already_queued: bool


def preview(shipment: Shipment, trigger: Trigger, now: datetime) -> Preview:
    """The message rendered in the customer's language, and whether this episode's message exists."""
    shop = db.session.get(Shop, shipment.shop_id)
    try:
        change = staff_change(shipment, trigger, now)
    except InvalidInput as error:
        return Preview(shipment, None, error.message, False)
    if not (shipment.customer_email or shipment.customer_phone):
        return Preview(shipment, None, "No email address or phone number to send to.", False)
    preference = db.session.get(CustomerPreference, shipment.id)
    language = (preference and preference.language) or shipment.customer_language or shop.default_language
    zone = customer_zone(shipment, shop)
    link = unsubscribe_url(current_app.config, shipment.id, "email")
    context = message_context(shop, shipment, change, link, zone)
    try:
        # the shop's own text when it has one, as the queued message will be (app/notify/enqueue.py)
        message = render_for_shop(trigger.value, language, context, shop_templates(shop.id))
    except RenderError as error:
        return Preview(shipment, None, str(error), False)
    prefix = f"s{shipment.id}:{trigger.value}:{change.episode}:"
    existing = db.session.scalar(
        select(Notification.id).where(Notification.dedupe_key.startswith(prefix, autoescape=True)).limit(1)
    )
    return Preview(shipment, message, None, existing is not None)


def notify(shipment: Shipment, trigger: Trigger, now: datetime) -> int:
    """Queue the message now; returns the outbox rows written (0: already sent, or nobody to send to)."""
    return queue_change(shipment, staff_change(shipment, trigger, now), now)
