"""Prediction inside the service: the model in use, re-scoring shipments, retraining on our own history."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import or_, select

from app.extensions import db
from app.models import RiskModelRecord, Shipment, TrackingEvent
from app.models.types import utcnow
from app.signals import risk_state_changed
from carriers.model import TERMINAL_STATUSES, Reason, Status
from carriers.sandbox.history import generate_history
from planning.prediction import (
    HistoryRecord,
    ModelFormatError,
    RiskModel,
    RiskSettings,
    ScanEvent,
    build_snapshot,
    default_model,
    train,
)
from planning.prediction_data import Place, ShipmentInfo

log = logging.getLogger(__name__)

ACTIVE_STATUSES = [s.value for s in Status if s not in TERMINAL_STATUSES]
_CACHE_KEY = "leveranse_risk_model"


def risk_settings() -> RiskSettings:
    """Thresholds from config."""
    config = current_app.config
    return RiskSettings(
        at_risk_p_late=config["RISK_AT_RISK_P_LATE"],
        lost_p_lost=config["RISK_LOST_P_LOST"],
        stuck_dwell_factor=config["RISK_STUCK_DWELL_FACTOR"],
    )


def current_model() -> RiskModel:
    """The newest stored model (cached per process), or the day-one prior when none is stored."""
    latest_id = db.session.scalar(select(RiskModelRecord.id).order_by(RiskModelRecord.id.desc()).limit(1))
    cached = current_app.extensions.get(_CACHE_KEY)
    if cached is not None and cached[0] == latest_id:
        return cached[1]
    model = default_model(risk_settings())
    if latest_id is not None:
        try:
            model = RiskModel.from_bytes(db.session.get(RiskModelRecord, latest_id).blob)
        except ModelFormatError as error:
            log.warning(
                "stored risk model %s unusable (%s); using the prior until retrained", latest_id, error
            )
    current_app.extensions[_CACHE_KEY] = (latest_id, model)
    return model


def store_model(model: RiskModel, *, source: str, summary: dict | None = None) -> RiskModelRecord:
    """Version a fitted model in the database; it is used from the next `current_model()` on."""
    record = RiskModelRecord(
        model_version=model.model_version,
        source=source,
        n_train=model.n_train,
        blob=model.to_bytes(),
        summary=summary,
    )
    db.session.add(record)
    return record


def _place(country: str | None, postcode: str | None, lat: float | None, lon: float | None) -> Place:
    return Place(country=country or "", postcode=postcode or "", lat=lat, lon=lon)


def shipment_info(shipment: Shipment) -> ShipmentInfo:
    """The prediction's view of a shipment; missing dates fall back to what we know."""
    shipped = shipment.shipped_at or shipment.created_at
    promised = shipment.promised_date or shipment.carrier_eta or (shipped + timedelta(days=3)).date()
    return ShipmentInfo(
        shipment_id=str(shipment.id),
        carrier=shipment.carrier,
        service=shipment.service or "",
        origin=_place(
            shipment.origin_country, shipment.origin_postcode, shipment.origin_lat, shipment.origin_lon
        ),
        destination=_place(
            shipment.destination_country,
            shipment.destination_postcode,
            shipment.destination_lat,
            shipment.destination_lon,
        ),
        ordered_at=shipped,
        shipped_at=shipped,
        promised_date=promised,
    )


def _scan_events(shipment_ids: Sequence[int]) -> dict[int, list[ScanEvent]]:
    rows = db.session.execute(
        select(
            TrackingEvent.shipment_id, TrackingEvent.occurred_at, TrackingEvent.status, TrackingEvent.reason
        ).where(
            TrackingEvent.shipment_id.in_(shipment_ids),
            TrackingEvent.informational.is_(False),
            TrackingEvent.status != Status.UNKNOWN.value,
        )
    )
    events: dict[int, list[ScanEvent]] = defaultdict(list)
    for shipment_id, occurred_at, status, reason in rows:
        events[shipment_id].append(
            ScanEvent(str(shipment_id), occurred_at, Status(status), Reason(reason) if reason else None)
        )
    return events


def rescore(shipments: Sequence[Shipment], now: datetime | None = None) -> int:
    """Predict and store ETA, p_late, p_lost, risk state and reasons; returns how many changed state."""
    now = now or utcnow()
    active = [s for s in shipments if Status(s.status) not in TERMINAL_STATUSES]
    for shipment in shipments:
        if Status(shipment.status) in TERMINAL_STATUSES and shipment.risk_state is not None:
            _set_state(shipment, None)
    if not active:
        return 0
    events = _scan_events([s.id for s in active])
    snapshots = [build_snapshot(shipment_info(s), events.get(s.id, ()), now) for s in active]
    changed = 0
    for shipment, prediction in zip(active, current_model().predict_many(snapshots), strict=True):
        shipment.eta_p10, shipment.eta_p50, shipment.eta_p90 = (
            prediction.eta_p10,
            prediction.eta_p50,
            prediction.eta_p90,
        )
        shipment.p_late = round(prediction.p_late, 4) if shipment.promised_date else None
        shipment.p_lost = round(prediction.p_lost, 4)
        shipment.risk_reasons = list(prediction.reasons)
        shipment.risk_computed_at = prediction.computed_at
        changed += _set_state(shipment, prediction.risk_state.value)
    return changed


def _set_state(shipment: Shipment, state: str | None) -> bool:
    previous = shipment.risk_state
    if previous == state:
        return False
    shipment.risk_state = state
    risk_state_changed.send(shipment, previous_state=previous)
    return True


def refresh_recent_outcomes(now: datetime) -> RiskModel:
    """Give the model in use what happened to recent shipments, delivered or still travelling (drift)."""
    since = now - timedelta(days=current_app.config["RISK_RECENT_DAYS"])
    rows = db.session.scalars(
        select(Shipment).where(
            Shipment.shipped_at >= since, Shipment.shipped_at < now, Shipment.promised_date.is_not(None)
        )
    )
    records = [HistoryRecord(shipment_info(s), s.delivered_at) for s in rows]
    model = current_model().with_outcomes(records, now)
    latest_id = current_app.extensions[_CACHE_KEY][0]
    current_app.extensions[_CACHE_KEY] = (latest_id, model)
    return model


def rescore_active_shipments(now: datetime | None = None, chunk: int = 2000) -> int:
    """Periodic job: time passing without a scan is evidence too, and so are recent outcomes."""
    now = now or utcnow()
    refresh_recent_outcomes(now)
    last_id, changed = 0, 0
    while True:
        batch = db.session.scalars(
            select(Shipment)
            .where(Shipment.id > last_id, Shipment.deleted_at.is_(None), Shipment.status.in_(ACTIVE_STATUSES))
            .order_by(Shipment.id)
            .limit(chunk)
        ).all()
        if not batch:
            return changed
        changed += rescore(batch, now)
        last_id = batch[-1].id
        db.session.commit()


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
    record = store_model(train(records, settings=risk_settings(), now=now), source="history")
    db.session.commit()
    return record


def seed_generated_model(n: int, *, today: date, seed: int = 11) -> RiskModelRecord:
    """A model trained on sandbox-generated history, for the demo when we have no outcomes yet."""
    days = 180
    shipments = generate_history(n, seed=seed, start=today - timedelta(days=days + 20), days=days)
    now = utcnow()
    model = train(
        [g.record for g in shipments],
        settings=risk_settings(),
        now=now,
        events=[e for g in shipments for e in g.events],
    )
    return store_model(model, source="generated", summary={"generated_rows": n})
