"""Shop webhooks: signed JSON events, the SSRF guard, sending and the retry schedule.

Signature header, Stripe-style::

    Leveranse-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>[,v1=...]

During a secret rotation both the new and the old secret are valid and the header carries one `v1`
per secret; a receiver accepts the event when any `v1` matches one of its secrets and `t` is within
the tolerance (5 minutes) of its clock, which defeats replays of captured requests.

Other headers: `Leveranse-Event-Id` (stable across retries; receivers deduplicate on it),
`Leveranse-Event-Type`, `Content-Type: application/json`.

Responses: 2xx accepted. 410 Gone: permanent, the endpoint should be disabled. Other 3xx/4xx
(except 408 and 429): permanent, dead-lettered at once. 408, 429, 5xx, timeouts and connection
errors: retried on this schedule (each delay jittered by +/-10 %):

    ======  ===========  ===================
    retry   delay        time since first
    ======  ===========  ===================
    1       1 min        1 min
    2       5 min        6 min
    3       30 min       36 min
    4       2 h          2 h 36 min
    5       5 h          7 h 36 min
    6       10 h         17 h 36 min
    7       12 h         1 d 5 h 36 min
    8       14 h         1 d 19 h 36 min
    9       14 h         2 d 9 h 36 min
    10      14 h         2 d 23 h 36 min
    ======  ===========  ===================

That is 11 attempts over about 72 hours (71 h 36 min nominal); after the 11th failure the event is
dead-lettered, and can be replayed by hand (same event id, fresh timestamp and signature).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import requests

from notifications import egress, http
from notifications.errors import DestinationRefused, PermanentSendError, RetryableSendError
from notifications.model import Channel, SendResult
from notifications.retry import HOUR, MINUTE, RetrySchedule

SIGNATURE_HEADER = "Leveranse-Signature"
EVENT_ID_HEADER = "Leveranse-Event-Id"
EVENT_TYPE_HEADER = "Leveranse-Event-Type"
API_VERSION = "2025-01"
RETRY_SCHEDULE = RetrySchedule(
    (1 * MINUTE, 5 * MINUTE, 30 * MINUTE)
    + (2 * HOUR, 5 * HOUR, 10 * HOUR, 12 * HOUR, 14 * HOUR, 14 * HOUR, 14 * HOUR)
)
EVENT_TYPES = frozenset(
    {
        "shipment.shipped",
        "shipment.out_for_delivery",
        "shipment.arriving_soon",
        "shipment.delivered",
        "shipment.available_for_pickup",
        "shipment.pickup_reminder",
        "shipment.failed_attempt",
        "shipment.exception",
        "shipment.predicted_delay",
        "shipment.stuck",
        "shipment.back_on_track",
        "claim.opened",
        "claim.updated",
        "claim.resolved",
        "survey.sent",
        "case.replied",
        "webhook.test",
    }
)
_MAX_RESPONSE_BYTES = 64 * 1024


@dataclass(frozen=True)
class WebhookEvent:
    """A serialised event: the exact bytes that are signed and sent, identical on every retry."""

    event_id: str
    event_type: str
    body: bytes


@dataclass(frozen=True)
class WebhookSettings:
    """How webhooks are sent; `allow_private` only for tests and the demo (it disables the SSRF guard)."""

    timeout: float = 10.0
    allow_private: bool = False
    user_agent: str = "Leveranse-Webhooks/1.0"
    tolerance_s: int = 300


@dataclass(frozen=True)
class WebhookMessage:
    """One delivery attempt of an event to one endpoint, signed with every currently valid secret."""

    url: str
    event: WebhookEvent
    secrets: tuple[str, ...]


def new_event_id() -> str:
    """A fresh, unguessable event id."""
    return f"evt_{uuid.uuid4().hex}"


def build_event(
    event_type: str, data: Mapping[str, Any], occurred_at: datetime, event_id: str | None = None
) -> WebhookEvent:
    """Serialise an event envelope `{id, type, created, api_version, data}` as compact JSON."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {event_type!r}")
    if occurred_at.tzinfo is None:
        raise ValueError("occurred_at must be timezone-aware")
    event_id = event_id or new_event_id()
    envelope = {
        "id": event_id,
        "type": event_type,
        "created": occurred_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "api_version": API_VERSION,
        "data": data,
    }
    body = json.dumps(envelope, separators=(",", ":"), sort_keys=True, ensure_ascii=False, default=str)
    return WebhookEvent(event_id, event_type, body.encode())


def build_test_event(now: datetime) -> WebhookEvent:
    """The event sent by "send test event", so a shop can check its endpoint and signature code."""
    return build_event("webhook.test", {"message": "This is a test event from Leveranse."}, now)


def sign(body: bytes, secrets: str | Sequence[str], timestamp: int) -> str:
    """The `Leveranse-Signature` value, with one `v1` per secret (two while a secret is rotated)."""
    keys = [secrets] if isinstance(secrets, str) else list(secrets)
    if not keys or not all(keys):
        raise ValueError("at least one non-empty secret is needed to sign")
    parts = [f"t={timestamp}"] + [f"v1={_digest(body, key, timestamp)}" for key in keys]
    return ",".join(parts)


def verify(
    header: str, body: bytes, secrets: str | Sequence[str], now: datetime, tolerance_s: int = 300
) -> bool:
    """True when `header` carries a fresh timestamp and a `v1` matching one of `secrets` (constant time)."""
    keys = [secrets] if isinstance(secrets, str) else list(secrets)
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        name, _, value = item.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == "v1":
            signatures.append(value)
    if timestamp is None or abs(now.timestamp() - timestamp) > tolerance_s:
        return False
    matched = False
    for key in keys:
        expected = _digest(body, key, timestamp)
        for candidate in signatures:
            matched |= hmac.compare_digest(expected, candidate)
    return matched


def _digest(body: bytes, secret: str, timestamp: int) -> str:
    return hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def check_destination(url: str, allow_private: bool) -> None:
    """Refuse (DestinationRefused) a URL that is not http(s) or resolves to a non-public address."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DestinationRefused(f"webhook URL {url!r} must be an absolute http(s) URL")
    if parts.username or parts.password:
        raise DestinationRefused(f"webhook URL {url!r} must not contain credentials")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise DestinationRefused(f"webhook URL {url!r} has an invalid port") from None
    if allow_private:
        return
    try:
        egress.resolve_public(parts.hostname, port)
    except socket.gaierror as exc:
        raise RetryableSendError(f"cannot resolve {parts.hostname!r}: {exc}", kind="dns") from exc


class WebhookChannel(Channel):
    """Posts signed events over one keep-alive session that, unless `allow_private`, reaches only public
    addresses (see `notifications.egress`)."""

    def __init__(self, settings: WebhookSettings, session: requests.Session | None = None) -> None:
        self.settings = settings
        self.session = session or http.make_session(settings.user_agent)
        if not settings.allow_private:
            egress.guard_session(self.session)

    def send(self, message: WebhookMessage, now: datetime | None = None) -> SendResult:
        """Deliver the event once; the provider id is the event id."""
        check_destination(message.url, self.settings.allow_private)
        timestamp = int((now or datetime.now(UTC)).timestamp())
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(message.event.body, message.secrets, timestamp),
            EVENT_ID_HEADER: message.event.event_id,
            EVENT_TYPE_HEADER: message.event.event_type,
        }
        response = http.post(
            self.session,
            message.url,
            timeout=self.settings.timeout,
            data=message.event.body,
            headers=headers,
            stream=True,
        )
        with response:
            detail = _read_some(response)
        if response.status_code == 410:
            raise PermanentSendError("HTTP 410: the endpoint is gone; disable it", kind="gone")
        http.raise_for_status(response, detail)
        return SendResult(message.event.event_id)

    def close(self) -> None:
        """Close the session's pooled connections."""
        self.session.close()


def _read_some(response: requests.Response) -> str:
    """Read a bounded prefix of the body (for error details); a larger body costs the connection."""
    received = b""
    try:
        for chunk in response.iter_content(8192):
            received += chunk
            if len(received) > _MAX_RESPONSE_BYTES:
                break
    except requests.RequestException as exc:
        raise RetryableSendError(f"reading the response failed: {exc}", kind="connection") from exc
    return received[:200].decode("utf-8", "replace").strip()
