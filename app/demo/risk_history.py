"""A first risk model for the demo, trained on sandbox-generated history (we have no outcomes yet)."""

from __future__ import annotations

from datetime import date, timedelta

from app.models import RiskModelRecord
from app.models.types import utcnow
from app.risk.model_store import risk_settings, store_model
from app.risk.warning_policy import policy_on_holdout, policy_settings, with_policy
from carriers.sandbox.history import generate_history
from planning.prediction import train


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
    policy = policy_on_holdout(
        [g.record for g in shipments],
        [e for g in shipments for e in g.events],
        risk_settings(),
        **policy_settings(),
        source="generated",
    )
    return store_model(model, source="generated", summary=with_policy({"generated_rows": n}, policy))
