"""Links in messages: the customer's tracking page, our survey and one-click unsubscribe.

A tracking link is `/t/<link token>`: the shipment's random `link_token`, which says nothing about the
shipment (no id, shop or order) and is looked up in the database, so a new token revokes every link sent.
It works while the parcel travels or has an open claim, and `TRACKING_LINK_DAYS` after that; an expired
link shows the number + postcode lookup instead, and a browser session that proved the postcode still sees
the parcel.

An unsubscribe link is the link token and the channel, signed with the time it was issued. It works for
`UNSUBSCRIBE_LINK_DAYS` (a year) after the message was sent, not for ever, and not only as long as the
tracking link: CAN-SPAM wants an unsubscribe link to keep working for at least 30 days after sending, and
under the GDPR objecting to messages must stay as easy as it was to receive them, so customers who open an
old message months later can still say no more from that message.

Links sent before link tokens existed carry the shipment id (signed, not hidden). They keep working under the
same rules (an unsubscribe link of that kind until `UNSUBSCRIBE_LINK_DAYS` after the parcel finished, as it
says nothing about when it was sent); being bound to the id, a new link token does not revoke them, a new
SECRET_KEY does.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, TimestampSigner, URLSafeSerializer, URLSafeTimedSerializer
from sqlalchemy import bindparam, select

from app.extensions import db
from app.models import Claim, Shipment
from app.models.claim import FINISHED_CLAIM_STATES
from app.models.types import utcnow
from carriers.model import TERMINAL_STATUSES

_TRACKING_SALT = "leveranse.tracking"  # links of the old kind: the signed shipment id
_UNSUBSCRIBE_SALT = "leveranse.unsubscribe"  # old kind: the signed [shipment id, channel]
_UNSUBSCRIBE_TIMED_SALT = "leveranse.unsubscribe.timed"
_SURVEY_SALT = "leveranse.survey"
_BY_LINK_TOKEN = select(Shipment).where(Shipment.link_token == bindparam("token"))  # built once: every page


class _ServiceClockSigner(TimestampSigner):
    """Timestamps from the service's clock (the accelerated demo and tests move it), not time.time()."""

    def get_timestamp(self) -> int:
        return int(utcnow().timestamp())


def _base(config: Mapping[str, Any]) -> str:
    return config["PUBLIC_BASE_URL"].rstrip("/")


def tracking_url(config: Mapping[str, Any], shipment_id: int) -> str:
    """The customer's tracking page: PUBLIC_BASE_URL + /t/<the shipment's link token>."""
    return f"{_base(config)}/t/{db.session.get(Shipment, shipment_id).link_token}"


def find_tracking_shipment(config: Mapping[str, Any], token: str) -> Shipment | None:
    """The shipment a tracking link stands for (expired or not), or None when it is unknown or forged."""
    if "." not in token:  # link tokens are URL-safe base64, which has no dots; signed ids have one
        return db.session.scalar(_BY_LINK_TOKEN, {"token": token})
    try:
        shipment_id = URLSafeSerializer(config["SECRET_KEY"], salt=_TRACKING_SALT).loads(token)
    except BadSignature:
        return None
    return db.session.get(Shipment, shipment_id) if isinstance(shipment_id, int) else None


def finished_at(shipment: Shipment) -> datetime | None:
    """When the shipment and its claims last finished; None while it travels or a claim is open."""
    if shipment.status not in TERMINAL_STATUSES:
        return None
    claims = db.session.execute(
        select(Claim.state, Claim.closed_at, Claim.updated_at).where(Claim.shipment_id == shipment.id)
    ).all()
    if any(claim.state not in FINISHED_CLAIM_STATES for claim in claims):
        return None
    moments = [shipment.delivered_at, shipment.last_event_at, shipment.status_changed_at]
    moments += [claim.closed_at or claim.updated_at for claim in claims]
    return max((moment for moment in moments if moment is not None), default=shipment.updated_at)


def tracking_link_expired(config: Mapping[str, Any], shipment: Shipment) -> bool:
    """True once `TRACKING_LINK_DAYS` have passed since the shipment (and its claims) finished."""
    finished = finished_at(shipment)
    return finished is not None and utcnow() >= finished + timedelta(days=config["TRACKING_LINK_DAYS"])


def survey_token(config: Mapping[str, Any], shipment_id: int) -> str:
    """The token of our own survey link: the shipment's link token, signed for the survey (so a new link
    token revokes it too, and it names no shipment id)."""
    link_token = db.session.get(Shipment, shipment_id).link_token
    return URLSafeSerializer(config["SECRET_KEY"], salt=_SURVEY_SALT).dumps(link_token)


def find_survey_shipment(config: Mapping[str, Any], token: str) -> Shipment | None:
    """The shipment a survey link stands for, or None when it is forged, malformed or revoked."""
    try:
        link_token = URLSafeSerializer(config["SECRET_KEY"], salt=_SURVEY_SALT).loads(token)
    except BadSignature:
        return None
    if not isinstance(link_token, str):
        return None
    return db.session.scalar(select(Shipment).where(Shipment.link_token == link_token))


def survey_url(config: Mapping[str, Any], shipment_id: int) -> str:
    """Our own survey page for the customer of `shipment_id`: PUBLIC_BASE_URL + /survey/<token>."""
    return f"{_base(config)}/survey/{survey_token(config, shipment_id)}"


def _unsubscribe_serializer(config: Mapping[str, Any]) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        config["SECRET_KEY"], salt=_UNSUBSCRIBE_TIMED_SALT, signer=_ServiceClockSigner
    )


def unsubscribe_url(config: Mapping[str, Any], shipment_id: int, channel: str) -> str:
    """A one-click unsubscribe link for the customer of `shipment_id` on `channel`, for UNSUBSCRIBE_LINK_DAYS."""
    link_token = db.session.get(Shipment, shipment_id).link_token
    return f"{_base(config)}/u/{_unsubscribe_serializer(config).dumps([link_token, channel])}"


def read_unsubscribe_token(config: Mapping[str, Any], token: str) -> tuple[Shipment, str] | None:
    """(shipment, channel) of an unsubscribe link, or None when it is forged, malformed, expired or revoked."""
    max_age = timedelta(days=config["UNSUBSCRIBE_LINK_DAYS"])
    try:
        key, channel = _unsubscribe_serializer(config).loads(token, max_age=int(max_age.total_seconds()))
    except (BadSignature, TypeError, ValueError):
        return _read_old_unsubscribe_token(config, token, max_age)
    if not isinstance(key, str) or not isinstance(channel, str):
        return None
    shipment = db.session.scalar(select(Shipment).where(Shipment.link_token == key))
    return (shipment, channel) if shipment is not None else None


def _read_old_unsubscribe_token(
    config: Mapping[str, Any], token: str, max_age: timedelta
) -> tuple[Shipment, str] | None:
    try:
        shipment_id, channel = URLSafeSerializer(config["SECRET_KEY"], salt=_UNSUBSCRIBE_SALT).loads(token)
    except (BadSignature, TypeError, ValueError):
        return None
    if not isinstance(shipment_id, int) or not isinstance(channel, str):
        return None
    shipment = db.session.get(Shipment, shipment_id)
    if shipment is None:
        return None
    finished = finished_at(shipment)
    if finished is not None and utcnow() >= finished + max_age:
        return None
    return shipment, channel
