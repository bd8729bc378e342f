"""The at-risk queue: shipments flagged by the prediction, most expensive first, and its share of the book."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, case, func, select

from app.extensions import db
from app.models import Shipment
from carriers.model import ACTIVE_STATUSES
from planning.prediction import RiskState

AT_RISK_STATES = (RiskState.AT_RISK, RiskState.LATE, RiskState.STUCK, RiskState.LOST)


def expected_cost():
    """p(late or lost) × declared value (value 1 when unknown, so probability still orders)."""
    late, lost = func.coalesce(Shipment.p_late, 0.0), func.coalesce(Shipment.p_lost, 0.0)
    probability = case((late >= lost, late), else_=lost)  # portable GREATEST
    return probability * func.coalesce(Shipment.declared_value, 1)


def at_risk_query(shop_id: int | None = None) -> Select:
    """Active shipments in an at-risk state, ordered by expected cost, highest first."""
    query = select(Shipment).where(
        Shipment.deleted_at.is_(None),
        Shipment.status.in_(sorted(ACTIVE_STATUSES)),
        Shipment.risk_state.in_(AT_RISK_STATES),
    )
    if shop_id is not None:
        query = query.where(Shipment.shop_id == shop_id)
    return query.order_by(expected_cost().desc(), Shipment.id)


@dataclass(frozen=True)
class BookShare:
    """How much of the book (active shipments) the at-risk queue holds."""

    queued: int
    active: int

    @property
    def share(self) -> float | None:
        """queued / active, None for an empty book."""
        return round(self.queued / self.active, 4) if self.active else None


def book_share(shop_id: int | None = None) -> BookShare:
    """The queue's size against the active shipments it is drawn from."""
    active = select(func.count()).where(
        Shipment.deleted_at.is_(None), Shipment.status.in_(sorted(ACTIVE_STATUSES))
    )
    if shop_id is not None:
        active = active.where(Shipment.shop_id == shop_id)
    queued = select(func.count()).select_from(at_risk_query(shop_id).order_by(None).subquery())
    return BookShare(queued=db.session.scalar(queued) or 0, active=db.session.scalar(active) or 0)
