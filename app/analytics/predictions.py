"""Delivered shipments as outcomes for the prediction-quality figures of app/risk/report.py, with the
analytics filters (range, carrier, shop)."""

from __future__ import annotations

from app.analytics.delivery import delivered_scope
from app.analytics.filters import Filters
from app.models import Shipment
from app.risk.report import Outcome, outcomes_where


def load_outcomes(filters: Filters, *, lost_p_lost: float) -> list[Outcome]:
    """The shipments delivered in the range with a promised date, as the risk report's outcomes."""
    return outcomes_where(
        [*delivered_scope(filters), Shipment.promised_date.is_not(None)],
        lost_p_lost=lost_p_lost,
    )
