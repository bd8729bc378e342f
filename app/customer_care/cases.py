"""Customers' cases: a message about a parcel from its tracking page, staff replies sent through the outbox
on the channel the customer chose, and closing.

A customer writing again while their case is open or answered adds to it (and it waits for us again); after
it is closed, a new message opens a new case.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from app.claims.reports import reply_channels
from app.customer_care.text import checked_text
from app.errors import Conflict, InvalidInput
from app.extensions import db
from app.models import CaseMessage, CaseStatus, Notification, Shipment, StaffUser, SupportCase
from app.models.types import utcnow
from app.notify.enqueue import Change, Requested, queue_change
from notifications.model import Trigger
from notifications.render import resolve_language

_SHIPMENT_CASES = (  # built once: the tracking page asks on every verified visit
    select(SupportCase)
    .where(SupportCase.shipment_id == bindparam("shipment_id"))
    .order_by(SupportCase.id)
    .options(joinedload(SupportCase.messages))
)


def shipment_cases(shipment: Shipment) -> list[SupportCase]:
    """The shipment's cases with their messages, oldest first."""
    return list(db.session.scalars(_SHIPMENT_CASES, {"shipment_id": shipment.id}).unique())


def contact(
    shipment: Shipment, body: str | None, channel: str, *, language: str, now: datetime | None = None
) -> SupportCase:
    """The customer's message: added to their unclosed case, else a new one; InvalidInput when the text
    cannot be stored or the shipment has no address for `channel`. Flushes, never commits."""
    text = checked_text(body, field="message", required=True)
    if channel not in reply_channels(shipment):
        raise InvalidInput("No address for that channel.", errors={"reply_channel": "Not available."})
    now = now or utcnow()
    case = db.session.scalar(
        select(SupportCase)
        .where(SupportCase.shipment_id == shipment.id, SupportCase.status != CaseStatus.CLOSED)
        .order_by(SupportCase.id.desc())
        .limit(1)
    )
    if case is None:
        case = SupportCase(shop_id=shipment.shop_id, shipment_id=shipment.id, created_at=now)
        db.session.add(case)
    case.status = CaseStatus.OPEN
    case.reply_channel = channel
    case.language = resolve_language(language)[0]
    case.messages.append(CaseMessage(body=text, created_at=now))
    db.session.flush()
    return case


def reply(
    case: SupportCase, staff: StaffUser, body: str | None, *, now: datetime | None = None
) -> Notification | None:
    """Staff's answer: stored on the case (the tracking page shows it) and queued in the outbox on the
    customer's channel, in their language; returns that outbox row (None: the customer unsubscribed from the
    channel). Conflict on a closed case; InvalidInput on text that cannot be stored."""
    if case.status is CaseStatus.CLOSED:
        raise Conflict("The case is closed.")
    text = checked_text(body, field="body", required=True)
    now = now or utcnow()
    message = CaseMessage(body=text, staff_user_id=staff.id, created_at=now)
    case.messages.append(message)
    case.status = CaseStatus.ANSWERED
    if case.first_response_at is None:
        case.first_response_at = now
    db.session.flush()
    shipment = db.session.get(Shipment, case.shipment_id)
    change = Change(Trigger.CASE_REPLY, f"{case.id}.{message.id}", {"case_reply": text})
    queue_change(shipment, change, now, requested=Requested(case.reply_channel, case.language))
    # the outbox's key format: s<shipment>:<trigger>:<episode>:<channel>
    key = f"s{shipment.id}:{change.trigger.value}:{change.episode}:{case.reply_channel}"
    return db.session.scalar(select(Notification).where(Notification.dedupe_key == key))


def close(case: SupportCase, *, now: datetime | None = None) -> None:
    """Close the case (resolved); Conflict when it is closed already."""
    if case.status is CaseStatus.CLOSED:
        raise Conflict("The case is closed already.")
    case.status = CaseStatus.CLOSED
    case.resolved_at = now or utcnow()
    db.session.flush()
