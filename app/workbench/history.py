"""The prediction's history: a row each time re-scoring moves p_late (by a percentage point), the risk
state or the most likely arrival day, and the small line chart staff read it from."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import insert, select

from app.extensions import db
from app.models import PredictionChange, Shipment

PredictionKey = tuple[float | None, str | None, date | None]


def prediction_key(shipment: Shipment) -> PredictionKey:
    """What counts as a change of the prediction: p_late in whole percent, the risk state, the p50 day."""
    p_late = None if shipment.p_late is None else round(shipment.p_late, 2)
    day = shipment.eta_p50.date() if shipment.eta_p50 else None
    return (p_late, shipment.risk_state and str(shipment.risk_state), day)


def prediction_keys(shipments: Sequence[Shipment]) -> dict[int, PredictionKey]:
    """The keys of a batch before it is re-scored."""
    return {shipment.id: prediction_key(shipment) for shipment in shipments}


def record_changes(shipments: Sequence[Shipment], before: dict[int, PredictionKey], now: datetime) -> int:
    """Append a history row for every shipment whose prediction moved; one INSERT for the batch."""
    rows = [
        {
            "shipment_id": s.id,
            "recorded_at": s.risk_computed_at or now,
            "p_late": s.p_late,
            "p_lost": s.p_lost,
            "risk_state": s.risk_state,
            "eta_p10": s.eta_p10,
            "eta_p50": s.eta_p50,
            "eta_p90": s.eta_p90,
        }
        for s in shipments
        if prediction_key(s) != before.get(s.id)
    ]
    if rows:
        db.session.execute(insert(PredictionChange), rows)
    return len(rows)


def history_of(shipment_id: int, limit: int = 200) -> list[PredictionChange]:
    """The shipment's prediction changes, oldest first (the latest `limit`)."""
    newest = db.session.scalars(
        select(PredictionChange)
        .where(PredictionChange.shipment_id == shipment_id)
        .order_by(PredictionChange.recorded_at.desc(), PredictionChange.id.desc())
        .limit(limit)
    ).all()
    return list(reversed(newest))


@dataclass(frozen=True)
class Chart:
    """An inline SVG line chart of p_late over time: the polyline's points and the axis labels."""

    width: int
    height: int
    points: str
    dots: list[tuple[float, float, str]]
    first: datetime
    last: datetime


def p_late_chart(history: Sequence[PredictionChange], width: int = 480, height: int = 120) -> Chart | None:
    """p_late (0–100 %, top is 100) against time; None with fewer than two points to draw."""
    known = [row for row in history if row.p_late is not None]
    if len(known) < 2:
        return None
    first, last = known[0].recorded_at, known[-1].recorded_at
    span = (last - first).total_seconds() or 1.0
    pad = 6
    coordinates = []
    for row in known:
        x = pad + (row.recorded_at - first).total_seconds() / span * (width - 2 * pad)
        y = pad + (1 - row.p_late) * (height - 2 * pad)
        coordinates.append(
            (round(x, 1), round(y, 1), f"{row.p_late:.0%} at {row.recorded_at:%Y-%m-%d %H:%M}")
        )
    points = " ".join(f"{x},{y}" for x, y, _ in coordinates)
    return Chart(width, height, points, coordinates, first, last)
