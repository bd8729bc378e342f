"""A first risk model for the demo, trained on the history of the demo's own world (we have no outcomes yet).

The demo's parcels travel through the sandbox carriers, whose scenarios (carriers/sandbox/scenarios.py)
set when each milestone happens; the demo shop promises the day its on-time parcels arrive. The seed
history replays those same scenarios over the demo's lanes at random start times, so the first model and
its warning thresholds are learned from parcels like the ones the demo will show — not from a
differently-shaped generated world whose lateness the sandbox never produces.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from app.demo.shop import DEMO_LANES, DEMO_TIMEZONE, demo_promise
from app.models import RiskModelRecord
from app.models.types import utcnow
from app.risk.model_store import risk_settings, store_model
from app.risk.warning_policy import choose_policies
from carriers.sandbox.scenarios import DEFAULT_WEIGHTS, MILESTONE_STATUS, Scenario, steps_for
from planning.prediction import HistoryRecord, ScanEvent, train
from planning.prediction.data import ARRIVED, Place, ShipmentInfo

# Returns and damage leave the delay model; the seed history holds what it learns from.
_DELAY_SCENARIOS = {
    s: w for s, w in DEFAULT_WEIGHTS.items() if s not in {Scenario.RETURNED, Scenario.DAMAGED}
}


def demo_history(
    n: int, *, end: datetime, days: int, seed: int = 11
) -> tuple[list[HistoryRecord], list[ScanEvent]]:
    """`n` sandbox-scenario parcels over the demo lanes, started in the `days` before `end`."""
    rng = random.Random(seed)
    zone = ZoneInfo(DEMO_TIMEZONE)
    scenarios, weights = list(_DELAY_SCENARIOS), list(_DELAY_SCENARIOS.values())
    carriers = sorted(DEMO_LANES)
    records, events = [], []
    for index in range(n):
        carrier = carriers[index % len(carriers)]
        origin_country, origin_postcode, dest_country, dest_postcode = DEMO_LANES[carrier]
        scenario = rng.choices(scenarios, weights)[0]
        started = end - timedelta(days=rng.uniform(0, days))
        sid = f"demo-{index}"
        arrived = None
        for step in steps_for(scenario, cross_border=origin_country != dest_country):
            at = started + timedelta(hours=step.hours)
            status, reason = MILESTONE_STATUS[step.milestone]
            events.append(ScanEvent(sid, at, status, reason))
            if status in ARRIVED and arrived is None:
                arrived = at
        info = ShipmentInfo(
            shipment_id=sid,
            carrier=carrier,
            service="standard",
            origin=Place(origin_country, origin_postcode),
            destination=Place(dest_country, dest_postcode),
            ordered_at=started,
            shipped_at=started,
            promised_date=demo_promise(started),
            zone=zone,
        )
        records.append(HistoryRecord(info, arrived if arrived is not None and arrived < end else None))
    return records, [e for e in events if e.occurred_at < end]


def seed_generated_model(n: int, *, today: date, seed: int = 11) -> RiskModelRecord:
    """A model trained on the demo world's history, for the demo when we have no outcomes yet."""
    now = utcnow()
    records, events = demo_history(n, end=now - timedelta(days=8), days=120, seed=seed)
    model = train(records, settings=risk_settings(), now=now, events=events)
    policies = choose_policies(records, events, risk_settings(), source="generated")
    return store_model(
        policies.settle(model), source="generated", summary=policies.summary({"generated_rows": n})
    )
