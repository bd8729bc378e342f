"""The at-risk queue: shipments flagged by the prediction, most expensive first."""

from __future__ import annotations

from sqlalchemy import Select, case, func, select

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
