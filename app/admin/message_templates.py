"""Shops' own message texts: one template per trigger and language, kept in the database and rendered (in
a sandbox) instead of the shipped file. Every text is tried on sample parcels before it is stored."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from app.admin.errors import AdminError
from app.extensions import db
from app.models import MessageTemplate, Shop
from app.models.types import utcnow
from notifications.errors import RenderError
from notifications.model import Trigger
from notifications.render import LANGUAGES, REQUIRED_KEYS, RenderedMessage, render, template_source

log = logging.getLogger(__name__)
MAX_SOURCE_LENGTH = 20_000
TRIGGERS = tuple(t.value for t in Trigger)


def sample_context(shop: Shop, trigger: str, now: datetime, *, complete: bool = True) -> dict[str, Any]:
    """A parcel's render context for a preview: every key set (`complete`) or only the required ones."""
    eta = now + timedelta(days=2)
    every = {
        "customer_name": "Kari Nordmann",
        "carrier": "Bring",
        "order_reference": "ORDER-1042",
        "eta_start": eta.replace(hour=9, minute=0, second=0, microsecond=0),
        "eta_end": eta.replace(hour=15, minute=0, second=0, microsecond=0),
        "previous_eta": (eta - timedelta(days=1)).date(),
        "delivered_at": now - timedelta(hours=1),
        "delivery_location": "in your mailbox",
        "pickup_point": "Kiwi Grünerløkka",
        "pickup_address": "Thorvald Meyers gate 1, 0555 Oslo",
        "pickup_deadline": now + timedelta(days=7),
        "attempted_at": now - timedelta(hours=2),
        "reason": "address_problem",
        "last_event_at": now - timedelta(days=3),
        "claim_reference": "C-ABCDEFG",
        "claim_reason": "lost",
        "claim_state": "submitted",
        "claim_resolution": "refund",
        "claim_amount": Decimal("499.50"),
        "currency": "NOK",
        "survey_url": "https://track.example/survey/sample",
        "case_reply": "Your parcel is at the pickup point; bring your ID.",
    }
    required = REQUIRED_KEYS[Trigger(trigger)]
    context = {key: value for key, value in every.items() if complete or key in required}
    return {
        "shop_name": shop.name,
        "tracking_number": "70438101015432113",
        "tracking_url": "https://track.example/t/sample",
        "unsubscribe_url": "https://track.example/u/sample",
        "timezone": shop.default_timezone or "Europe/Oslo",
        **context,
    }


def _check_choice(trigger: str, language: str) -> None:
    if trigger not in TRIGGERS:
        raise AdminError(f"Unknown message {trigger!r}.", "trigger")
    if language not in LANGUAGES:
        raise AdminError(f"Unknown language {language!r}.", "language")


def preview_template(shop: Shop, trigger: str, language: str, source: str) -> RenderedMessage:
    """`source` rendered for a sample parcel with every detail, after it also rendered for one with only
    the required details; AdminError with the template's mistake otherwise."""
    _check_choice(trigger, language)
    if not source.strip():
        raise AdminError("The template is empty.", "source")
    if len(source) > MAX_SOURCE_LENGTH:
        raise AdminError(f"The template may have at most {MAX_SOURCE_LENGTH} characters.", "source")
    overrides = {(trigger, language): source}
    now = utcnow()
    try:
        render(trigger, language, sample_context(shop, trigger, now, complete=False), overrides)
        return render(trigger, language, sample_context(shop, trigger, now), overrides)
    except RenderError as exc:
        raise AdminError(f"The template cannot be used: {exc}", "source") from None


def save_template(shop: Shop, trigger: str, language: str, source: str, actor: str) -> MessageTemplate:
    """Store the shop's text after `preview_template` accepted it (nothing is stored otherwise)."""
    preview_template(shop, trigger, language, source)
    row = db.session.scalar(
        select(MessageTemplate).where(
            MessageTemplate.shop_id == shop.id,
            MessageTemplate.trigger == trigger,
            MessageTemplate.language == language,
        )
    )
    if row is None:
        row = MessageTemplate(shop_id=shop.id, trigger=trigger, language=language)
        db.session.add(row)
    row.source, row.updated_by = source, actor
    db.session.flush()
    return row


def delete_template(shop: Shop, trigger: str, language: str) -> bool:
    """Go back to the shipped text; False when the shop had none of its own."""
    row = db.session.scalar(
        select(MessageTemplate).where(
            MessageTemplate.shop_id == shop.id,
            MessageTemplate.trigger == trigger,
            MessageTemplate.language == language,
        )
    )
    if row is None:
        return False
    db.session.delete(row)
    db.session.flush()
    return True


def shop_templates(shop_id: int) -> dict[tuple[str, str], str]:
    """The shop's own texts by (trigger, language), as `notifications.render.render` takes them."""
    rows = db.session.execute(
        select(MessageTemplate.trigger, MessageTemplate.language, MessageTemplate.source).where(
            MessageTemplate.shop_id == shop_id
        )
    )
    return {(trigger, language): source for trigger, language, source in rows}


def editor_source(shop: Shop, trigger: str, language: str) -> tuple[str, bool]:
    """The text to edit: the shop's own (True) or the shipped one (False)."""
    _check_choice(trigger, language)
    own = shop_templates(shop.id).get((trigger, language))
    return (own, True) if own is not None else (template_source(trigger, language), False)


def render_for_shop(
    trigger: str, language: str, context: Mapping[str, Any], own_texts: Mapping[tuple[str, str], str]
) -> RenderedMessage:
    """The message in the shop's own text when it has one; should that text fail on this parcel's details
    (a case the preview did not meet), the shipped text, so the customer is still told."""
    try:
        return render(trigger, language, context, own_texts)
    except RenderError as exc:
        if not own_texts:
            raise
        log.warning("shop template for %s/%s failed, the shipped one is used: %s", trigger, language, exc)
        return render(trigger, language, context)
