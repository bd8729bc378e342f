"""A first risk model for the demo, trained on sandbox-generated history (we have no outcomes yet)."""

from __future__ import annotations

from datetime import date, timedelta

from app.models import RiskModelRecord
from app.models.types import utcnow
from app.risk.model_store import risk_settings, store_model
from app.risk.warning_policy import choose_policies
from carriers.sandbox.history import generate_history
from planning.prediction import train


def seed_generated_model(n: int, *, today: date, seed: int = 11) -> RiskModelRecord:
    """A model trained on sandbox-generated history, for the demo when we have no outcomes yet."""
    days = 180
    shipments = generate_history(n, seed=seed, start=today - timedelta(days=days + 20), days=days)
    now = utcnow()
    records, events = [g.record for g in shipments], [e for g in shipments for e in g.events]
    model = train(records, settings=risk_settings(), now=now, events=events)
    policies = choose_policies(records, events, risk_settings(), source="generated")
    return store_model(
        policies.settle(model), source="generated", summary=policies.summary({"generated_rows": n})
    )
