"""A shop's API keys and webhook endpoints as admins manage them (the plain key and the signing secret
are returned once, at creation, and never stored or shown again)."""

from __future__ import annotations

from sqlalchemy import select

from app.admin.errors import AdminError
from app.extensions import db
from app.models import ApiKey, Shop, WebhookEndpoint
from app.models.types import utcnow
from notifications.errors import DestinationRefused, RetryableSendError
from notifications.webhooks import check_destination

MAX_LABEL = 100


def shop_keys(shop: Shop) -> list[ApiKey]:
    """Every key of the shop, revoked ones too, newest first."""
    return list(
        db.session.scalars(select(ApiKey).where(ApiKey.shop_id == shop.id).order_by(ApiKey.id.desc()))
    )


def create_key(shop: Shop, label: str) -> tuple[ApiKey, str]:
    """A new key labelled `label`; returns the row and the plain key (shown once)."""
    label = label.strip()
    if not label or len(label) > MAX_LABEL:
        raise AdminError(f"Give the key a label of 1 to {MAX_LABEL} characters.", "label")
    key, plain = ApiKey.issue(shop, label)
    db.session.flush()
    return key, plain


def revoke_key(key: ApiKey) -> None:
    """The key stops working at once (answers 401); revoking twice keeps the first time."""
    key.revoked_at = key.revoked_at or utcnow()


def shop_endpoints(shop: Shop) -> list[WebhookEndpoint]:
    """The shop's webhook endpoints that are not deleted."""
    return list(
        db.session.scalars(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.shop_id == shop.id, WebhookEndpoint.deleted_at.is_(None))
            .order_by(WebhookEndpoint.id)
        )
    )


def create_endpoint(shop: Shop, url: str, description: str, allow_private: bool) -> WebhookEndpoint:
    """A new endpoint for every event type after the SSRF guard accepted `url`; its secret is new."""
    url = url.strip()
    if len(url) > 500:
        raise AdminError("The URL may have at most 500 characters.", "url")
    try:
        check_destination(url, allow_private)
    except (DestinationRefused, RetryableSendError) as exc:
        raise AdminError(f"This URL cannot receive webhooks: {exc.message}", "url") from None
    endpoint = WebhookEndpoint(
        shop_id=shop.id,
        url=url,
        description=description.strip()[:200],
        event_types=[],
        enabled=True,
        secret=WebhookEndpoint.new_secret(),
    )
    db.session.add(endpoint)
    db.session.flush()
    return endpoint


def set_endpoint_enabled(endpoint: WebhookEndpoint, enabled: bool, actor: str) -> None:
    """Enable (clears why it was off) or disable an endpoint; disabled endpoints are not sent to."""
    endpoint.enabled = enabled
    endpoint.disabled_reason = None if enabled else f"disabled by {actor}"[:300]
