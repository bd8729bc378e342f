"""Re-scoring shipments: ETA, p_late, p_lost, risk state and reasons from the model in use."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.models import Shipment, TrackingEvent
from app.models.types import utcnow
from app.notify.enqueue import customer_zone
from app.risk.model_store import current_model, replace_cached_model
from app.workbench.history import prediction_keys, record_changes
from carriers.model import TERMINAL_STATUSES, Reason, Status
from planning.prediction import HistoryRecord, RiskModel, RiskState, ScanEvent, build_snapshot
from planning.prediction.data import Place, ShipmentInfo
from planning.prediction.model import Prediction
from planning.prediction.reasons import RiskReason

log = logging.getLogger(__name__)


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
        zone=customer_zone(shipment),
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


def rescore(shipments: Sequence[Shipment], now: datetime | None = None) -> dict[int, str | None]:
    """Predict and store ETA, p_late, p_lost, risk state and reasons.

    Returns the previous risk state of every shipment whose state changed (finished parcels leave the
    risk states: their state becomes None).
    """
    now = now or utcnow()
    before = prediction_keys(shipments)
    changed = _rescore(shipments, now)
    record_changes(shipments, before, now)
    return changed


def _rescore(shipments: Sequence[Shipment], now: datetime) -> dict[int, str | None]:
    changed: dict[int, str | None] = {}
    active = []
    for shipment in shipments:
        if shipment.status in TERMINAL_STATUSES:
            _set_state(shipment, None, changed)
            shipment.risk_reasons = []  # reasons are about now; a finished parcel has none left
        else:
            active.append(shipment)
    if not active:
        return changed
    for shipment, prediction in _predict(active, now):
        # Scored as of the last check (see known_until), an arrival estimate can lie before now: not yet.
        shipment.eta_p10, shipment.eta_p50, shipment.eta_p90 = (
            max(prediction.eta_p10, now),
            max(prediction.eta_p50, now),
            max(prediction.eta_p90, now),
        )
        shipment.p_late = round(prediction.p_late, 4) if shipment.promised_date else None
        shipment.p_lost = round(prediction.p_lost, 4)
        shipment.risk_reasons = [reason_json(r) for r in prediction.details]
        shipment.risk_computed_at = prediction.computed_at
        _set_state(shipment, prediction.risk_state, changed)
    return changed


def reason_json(reason: RiskReason) -> dict:
    """A reason as stored and served: machine key, English text, and its parameters as JSON values."""
    params = {k: v.isoformat() if isinstance(v, date) else v for k, v in reason.params}
    return {"key": reason.key, "text": reason.text, "params": params}


def known_until(shipment: Shipment, now: datetime) -> datetime:
    """Until when we know a shipment's story: for one we poll, the last time we asked its carrier (the
    scans since are not fetched yet, so the silence after it is ours, not the carrier's); else now.

    Scoring a polled parcel as of then keeps a poll that is merely due from reading as a parcel gone quiet
    (in the demo, on-time parcels jumped to p_late 0.99 minutes before their delivery scan was fetched).
    """
    checked = shipment.last_checked_at
    if shipment.next_poll_at is None or checked is None or checked >= now:
        return now
    return checked


def _predict(shipments: Sequence[Shipment], now: datetime) -> list[tuple[Shipment, Prediction]]:
    """Predictions for the batch; a shipment whose dates overflow is logged and left out, never the batch."""
    model = current_model()
    events = _scan_events([s.id for s in shipments])
    snapshots = []
    for shipment in shipments:
        try:
            snapshots.append(
                (
                    shipment,
                    build_snapshot(
                        shipment_info(shipment), events.get(shipment.id, ()), known_until(shipment, now)
                    ),
                )
            )
        except (OverflowError, ValueError) as error:
            log.warning("shipment %s not scored: its dates are out of range (%s)", shipment.id, error)
    try:
        return list(
            zip([s for s, _ in snapshots], model.predict_many([p for _, p in snapshots]), strict=True)
        )
    except (OverflowError, ValueError):
        log.warning("batch prediction failed on out-of-range dates; predicting shipment by shipment")
    predicted = []
    for shipment, snapshot in snapshots:
        try:
            predicted.append((shipment, model.predict_many([snapshot])[0]))
        except (OverflowError, ValueError) as error:
            log.warning("shipment %s not scored: its dates are out of range (%s)", shipment.id, error)
    return predicted


def _set_state(shipment: Shipment, state: RiskState | None, changed: dict[int, str | None]) -> None:
    if shipment.risk_state != state:
        changed.setdefault(shipment.id, shipment.risk_state)
        shipment.risk_state = state


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
    replace_cached_model(model)
    return model
