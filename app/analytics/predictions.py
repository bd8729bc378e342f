"""The prediction-quality figures of the analytics page (app/risk/report.py's definitions, only the groupings
the page shows), with the analytics filters (range, carrier, shop)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from app.analytics.delivery import delivered_scope
from app.analytics.filters import Filters
from app.models import Shipment
from app.risk.report import (
    alerts_where,
    calibration_table,
    delivered_rows,
    eta_accuracy,
    shop_zones,
    stored_utc,
    utc_deadline,
    warning_counts,
)


@dataclass(frozen=True)
class PredictionFigures:
    """Calibration of p_late, delay warnings per ISO week of delivery and ETA error per carrier."""

    calibration: dict
    by_week: dict[str, dict]
    by_carrier: dict[str, dict]


def prediction_figures(filters: Filters) -> PredictionFigures:
    """The figures over the shipments delivered in the range with a promised date, in one pass over the
    columns they need (building the report's 20,000 outcome objects was most of the page's time)."""
    where = [*delivered_scope(filters), Shipment.promised_date.is_not(None)]
    _, first_warned = alerts_where(where)
    zones = shop_zones()
    rows = delivered_rows(
        where,
        Shipment.id,
        Shipment.carrier,
        Shipment.shop_id,
        Shipment.customer_timezone,
        Shipment.promised_date,
        stored_utc(Shipment.delivered_at),
        Shipment.p_late,
        stored_utc(Shipment.eta_p10),
        stored_utc(Shipment.eta_p50),
        stored_utc(Shipment.eta_p90),
    )
    scored: list[tuple[float, bool]] = []
    weeks: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    etas: dict[str, list[tuple[datetime, datetime | None, datetime | None, datetime | None]]] = defaultdict(
        list
    )
    for shipment_id, carrier, shop_id, timezone, promised, delivered, p_late, p10, p50, p90 in rows:
        late = delivered >= utc_deadline(promised, timezone, zones.get(shop_id))
        warned_at = first_warned.get(shipment_id)
        warned = warned_at is not None and warned_at <= delivered
        if p_late is not None:
            scored.append((p_late, late))
        year, week, _ = delivered.isocalendar()
        counts = weeks[year, week]
        counts[0] += 1
        counts[1] += late
        counts[2] += warned
        counts[3] += warned and late
        etas[carrier].append((delivered, p10, p50, p90))
    return PredictionFigures(
        calibration_table(scored),
        {f"{year}-W{week:02d}": warning_counts(*counts) for (year, week), counts in weeks.items()},
        {carrier: eta_accuracy(group) for carrier, group in etas.items()},
    )
