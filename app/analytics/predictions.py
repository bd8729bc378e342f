"""Delivered shipments as outcomes for the prediction-quality figures of app/risk/report.py, read with one
column query instead of loading every shipment as an object (the report's own loader), so a quarter of
100,000 shipments stays well under a second. Same definitions as `app.risk.report.load_outcomes`, plus the
carrier filter."""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select

from app.analytics.delivery import delivered_scope
from app.analytics.filters import Filters
from app.extensions import db
from app.models import Notification, Shipment, Shop
from app.notify.enqueue import CUSTOMER_CHANNELS
from app.risk.report import NOT_TOLD, Outcome, deadline_of
from notifications.model import Trigger

UTC_ZONE = ZoneInfo("UTC")


@lru_cache(maxsize=512)
def _zone(name: str | None) -> ZoneInfo | None:
    try:
        return ZoneInfo(name) if name else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


def load_outcomes(filters: Filters, *, at_risk_p_late: float, lost_p_lost: float) -> list[Outcome]:
    """The shipments delivered in the range with a promised date, as the risk report's outcomes."""
    where = [*delivered_scope(filters), Shipment.promised_date.is_not(None)]
    first_warned = dict(
        db.session.execute(
            select(Notification.shipment_id, func.min(Notification.created_at))
            .join(Shipment, Shipment.id == Notification.shipment_id)
            .where(
                *where,
                Notification.trigger == Trigger.PREDICTED_DELAY.value,
                Notification.channel.in_(CUSTOMER_CHANNELS),
                Notification.state.not_in(NOT_TOLD),
            )
            .group_by(Notification.shipment_id)
        ).all()
    )
    alerted = set(
        db.session.scalars(
            select(Notification.shipment_id)
            .join(Shipment, Shipment.id == Notification.shipment_id)
            .where(*where, Notification.trigger.in_([Trigger.PREDICTED_DELAY.value, Trigger.STUCK.value]))
            .distinct()
        )
    )
    shop_zones = {
        shop_id: _zone(name) for shop_id, name in db.session.execute(select(Shop.id, Shop.default_timezone))
    }
    rows = db.session.execute(
        select(
            Shipment.id,
            Shipment.carrier,
            Shipment.shop_id,
            Shipment.customer_timezone,
            Shipment.promised_date,
            Shipment.delivered_at,
            Shipment.p_late,
            Shipment.p_lost,
            Shipment.eta_p10,
            Shipment.eta_p50,
            Shipment.eta_p90,
            Shipment.risk_computed_at,
        )
        .where(*where)
        .order_by(Shipment.id)
    )
    outcomes = []
    for row in rows:
        zone = _zone(row.customer_timezone) or shop_zones.get(row.shop_id) or UTC_ZONE
        flagged = (
            row.id in alerted
            or (row.p_late is not None and row.p_late >= at_risk_p_late)
            or (row.p_lost is not None and row.p_lost >= lost_p_lost)
        )
        outcomes.append(
            Outcome(
                shipment_id=row.id,
                carrier=row.carrier,
                deadline=deadline_of(row.promised_date, zone),
                delivered_at=row.delivered_at,
                first_warned_at=first_warned.get(row.id),
                flagged=flagged,
                p_late=row.p_late,
                eta_p10=row.eta_p10,
                eta_p50=row.eta_p50,
                eta_p90=row.eta_p90,
                scored_at=row.risk_computed_at,
            )
        )
    return outcomes
