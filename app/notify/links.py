"""Signed links in messages: the customer's tracking page and one-click unsubscribe."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

_TRACKING_SALT = "leveranse.tracking"
_UNSUBSCRIBE_SALT = "leveranse.unsubscribe"


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
