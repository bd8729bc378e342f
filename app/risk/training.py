"""Retraining the risk model on our own delivered history."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import or_, select

from app.extensions import db
from app.models import RiskModelRecord, Shipment
from app.models.types import utcnow
from app.risk.model_store import risk_settings, store_model
from app.risk.scoring import shipment_info
from app.risk.warning_policy import policies_for_history, scan_events
from planning.prediction import HistoryRecord, train

log = logging.getLogger(__name__)


def history_records(now: datetime) -> list[HistoryRecord]:
    """Our own outcomes: delivered shipments, and ones that never arrived within the lost horizon."""
    lost_before = now - timedelta(days=risk_settings().lost_after_days)
    rows = db.session.scalars(
        select(Shipment).where(
            Shipment.promised_date.is_not(None),
            Shipment.shipped_at.is_not(None),
            or_(Shipment.delivered_at.is_not(None), Shipment.shipped_at < lost_before),
        )
    )
    return [HistoryRecord(shipment_info(s), s.delivered_at) for s in rows]


def retrain_model(now: datetime | None = None) -> RiskModelRecord | None:
    """Periodic job: learn from our own history once there is enough of it."""
    now = now or utcnow()
    records = history_records(now)
    if len(records) < current_app.config["RISK_MIN_TRAINING_SHIPMENTS"]:
        log.info(
            "risk model not retrained: %d outcomes, need %d",
            len(records),
            current_app.config["RISK_MIN_TRAINING_SHIPMENTS"],
        )
        return None
    events = scan_events([int(r.shipment.shipment_id) for r in records])
    model = train(records, settings=risk_settings(), now=now, events=events)
    policies = policies_for_history(records, events)
    record = store_model(policies.settle(model), source="history", summary=policies.summary(None))
    db.session.commit()
    return record
