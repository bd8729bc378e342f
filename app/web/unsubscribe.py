"""One-click unsubscribe: a confirmation page (GET) and the RFC 8058 one-click endpoint (POST)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request, url_for
from sqlalchemy import select, update

from app.extensions import db
from app.models import Notification, Shipment, Shop, Unsubscribe
from app.models.notification import OutboxState
from app.models.types import utcnow
from app.notify.enqueue import CUSTOMER_CHANNELS, normalised_address
from app.notify.links import read_unsubscribe_token
from app.web.tracking import LANGUAGE_NAMES, use_language
from notifications.errors import InvalidRecipient

bp = Blueprint("unsubscribe", __name__)


@bp.context_processor
def _language_links() -> dict:
    args = request.view_args or {}
    return {
        "language_links": {
            code: (name, url_for("unsubscribe.confirm", **args, lang=code))
            for code, name in LANGUAGE_NAMES.items()
        }
    }


def _target(token: str) -> tuple[Shipment, str, str]:
    """The shipment, channel and normalised address a token stands for; 404 when forged, expired or gone."""
    found = read_unsubscribe_token(current_app.config, token)
    if found is None or found[1] not in CUSTOMER_CHANNELS:
        abort(404)
    shipment, channel = found
    raw = shipment.customer_email if channel == "email" else shipment.customer_phone
    if not raw:
        abort(404)
    try:
        return shipment, channel, normalised_address(channel, raw, shipment)
    except InvalidRecipient:
        return shipment, channel, raw


def _masked(address: str) -> str:
    if "@" in address:
        local, domain = address.split("@", 1)
        return f"{local[:1]}***@{domain}"
    return f"{address[:3]}***{address[-2:]}"


@bp.get("/u/<token>")
def confirm(token: str):
    """Ask before unsubscribing: link scanners follow GETs, so only the POST acts."""
    shipment, channel, address = _target(token)
    use_language(shipment)
    shop = db.session.get(Shop, shipment.shop_id)
    return render_template(
        "outbox/unsubscribe.html", shop=shop, channel=channel, address=_masked(address), done=False
    )


@bp.post("/u/<token>")
def unsubscribe(token: str):
    """Record the unsubscribe (idempotent) and cancel the messages still waiting for this address."""
    shipment, channel, address = _target(token)
    one_click = request.form.get("List-Unsubscribe") == "One-Click"
    exists = db.session.scalar(
        select(Unsubscribe.id).where(
            Unsubscribe.shop_id == shipment.shop_id,
            Unsubscribe.channel == channel,
            Unsubscribe.address == address,
        )
    )
    if exists is None:
        source = "one-click" if one_click else "link"
        db.session.add(Unsubscribe(shop_id=shipment.shop_id, channel=channel, address=address, source=source))
    db.session.execute(
        update(Notification)
        .where(
            Notification.shop_id == shipment.shop_id,
            Notification.channel == channel,
            Notification.recipient == address,
            Notification.state == OutboxState.PENDING.value,
        )
        .values(
            state=OutboxState.CANCELLED.value, last_error="the recipient unsubscribed", updated_at=utcnow()
        )
    )
    db.session.commit()
    if one_click:
        return "", 200
    use_language(shipment)
    shop = db.session.get(Shop, shipment.shop_id)
    return render_template(
        "outbox/unsubscribe.html", shop=shop, channel=channel, address=_masked(address), done=True
    )
