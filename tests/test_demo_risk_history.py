"""The demo's first model learns from the sandbox scenarios over the demo lanes."""

from __future__ import annotations

from datetime import UTC, datetime

from app.demo.risk_history import demo_history
from app.demo.shop import DEMO_LANES
from carriers.model import Reason
from planning.prediction import RiskSettings, train

END = datetime(2026, 11, 20, tzinfo=UTC)


def test_the_seed_history_follows_the_sandbox_scenarios_over_the_demo_lanes() -> None:
    records, events = demo_history(400, end=END, days=60, seed=3)
    assert {r.shipment.carrier for r in records} == set(DEMO_LANES)
    assert all(e.occurred_at < END for e in events)
    delayed = {e.shipment_id for e in events if e.reason is Reason.CARRIER_DELAY}
    on_time = [r for r in records if r.shipment.shipment_id not in delayed and r.delivered_at is not None]
    late_share = sum(r.delivered_at >= r.shipment.promise_end for r in on_time) / len(on_time)
    assert delayed and late_share < 0.05  # only a pickup after a failed attempt can cross midnight
    assert all(
        r.delivered_at is None or r.delivered_at >= r.shipment.promise_end
        for r in records
        if r.shipment.shipment_id in delayed
    )


def test_a_model_learns_from_history_without_coordinates() -> None:
    records, events = demo_history(2600, end=END, days=90, seed=4)  # enough for the boosted models
    assert all(r.shipment.origin.lat is None for r in records)
    model = train(records, settings=RiskSettings(), now=END, events=events)
    assert model.eta_model is not None and model.late_model is not None
