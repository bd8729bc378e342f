"""Finding shipments and customers: search by tracking number, order reference, email or phone (exact, or
prefix from three characters on, each on its own index), and one customer's shipments, messages, claims.

Every query takes the staff user's shop (None: every shop).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select

from app.extensions import db
from app.models import Claim, Notification, Shipment
from app.notify.enqueue import CUSTOMER_CHANNELS

MIN_PREFIX = 3
SEARCH_LIMIT = 50
# Above every other character in both SQLite's and PostgreSQL's (C collation) byte order: col < prefix+TOP.
_TOP = "\U0010ffff"


def _matches(column, variants: set[str], prefix: bool):
    """`column` equal to a variant, or starting with it: a range, so the column's index is used."""
    if prefix:
        return or_(*(column.between(v, v + _TOP) for v in variants))
    return column.in_(sorted(variants))


def search_conditions(term: str):
    """The WHERE clause for a search term; None for an empty one."""
    term = term.strip()
    if not term:
        return None
    prefix = len(term) >= MIN_PREFIX
    conditions = [
        _matches(Shipment.tracking_number, {term, term.upper()}, prefix),
        _matches(Shipment.order_ref, {term, term.upper()}, prefix),
    ]
    if "@" in term:
        conditions.append(_matches(Shipment.customer_email, {term, term.lower()}, prefix))
    if sum(ch.isdigit() for ch in term) >= 5:
        compact = "".join(ch for ch in term if ch not in " -()")
        conditions.append(_matches(Shipment.customer_phone, {term, compact}, prefix))
    return or_(*conditions)


def search(term: str, shop_id: int | None, limit: int = SEARCH_LIMIT) -> list[Shipment]:
    """Shipments matching the term, newest first."""
    condition = search_conditions(term[:254])
    if condition is None:
        return []
    query = select(Shipment).where(condition, Shipment.deleted_at.is_(None))
    if shop_id is not None:
        query = query.where(Shipment.shop_id == shop_id)
    return list(
        db.session.scalars(query.order_by(Shipment.created_at.desc(), Shipment.id.desc()).limit(limit))
    )


@dataclass(frozen=True)
class CustomerView:
    """Everything about one customer (one email address or phone number) the staff user may see."""

    key: str
    shipments: list[Shipment]
    messages: list[Notification]
    claims: list[Claim]


def customer_view(
    email: str | None, phone: str | None, shop_id: int | None, limit: int = 500
) -> CustomerView:
    """The customer's shipments (newest first), the messages sent to them and their claims."""
    column, key = (Shipment.customer_email, email) if email else (Shipment.customer_phone, phone or "")
    query = select(Shipment).where(column == key)
    if shop_id is not None:
        query = query.where(Shipment.shop_id == shop_id)
    shipments = list(db.session.scalars(query.order_by(Shipment.created_at.desc(), Shipment.id).limit(limit)))
    ids = [s.id for s in shipments]
    if not ids:
        return CustomerView(key, [], [], [])
    messages = db.session.scalars(
        select(Notification)
        .where(Notification.shipment_id.in_(ids), Notification.channel.in_(CUSTOMER_CHANNELS))
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)
    ).all()
    claims = db.session.scalars(
        select(Claim).where(Claim.shipment_id.in_(ids)).order_by(Claim.opened_at.desc())
    ).all()
    return CustomerView(key, shipments, list(messages), list(claims))
