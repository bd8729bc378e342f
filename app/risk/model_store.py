"""The risk model in use: stored versions in the database, cached per process; thresholds from config."""

from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.models import RiskModelRecord
from planning.prediction import ModelFormatError, RiskModel, RiskSettings, default_model

log = logging.getLogger(__name__)

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


def replace_cached_model(model: RiskModel) -> None:
    """Use `model` (the stored one refreshed with recent outcomes) until a newer version is stored."""
    latest_id = current_app.extensions[_CACHE_KEY][0]
    current_app.extensions[_CACHE_KEY] = (latest_id, model)
