"""The customer-warning policy: a threshold chosen for a precision target, one message per delay episode,
and "back on track" once after a warning."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Notification, RiskModelRecord
from app.models.types import utcnow
from app.notify.triggers import queue_tracking_changes
from app.risk.queue import book_share
from app.risk.warning_policy import (
    CANDIDATES,
    QUEUE_KEY,
    Policies,
    WarningPolicy,
    WarningTrack,
    choose_policy,
    evaluate_threshold,
    holdout_tracks,
    precision_lower_bound,
    stored_policy,
    with_policy,
)
from app.tracking.updates import process_time_passing
from carriers.model import Status
from carriers.sandbox.history import generate_history
from planning.prediction import RiskSettings, default_model
from tests.factories import add_event, make_shipment, make_shop

DEADLINE = datetime(2026, 11, 26, tzinfo=UTC)
CUSTOMER = {
    "customer_name": "Kari Nordmann",
    "customer_email": "kari@example.no",
    "customer_language": "nb",
    "customer_timezone": "Europe/Oslo",
    "created_at": datetime(2026, 11, 23, 7, 0, tzinfo=UTC),
}


def _calibrated_tracks(n: int, seed: int = 3) -> list[WarningTrack]:
    """Parcels whose p_late is the truth: late with probability p, warned 2 days before the deadline."""
    rng = np.random.default_rng(seed)
    p = rng.uniform(0, 1, n)
    late = rng.uniform(0, 1, n) < p
    at = DEADLINE - timedelta(days=2)
    return [WarningTrack((at,), (float(pi),), DEADLINE, bool(li)) for pi, li in zip(p, late, strict=True)]


def test_known_truth_gives_the_lowest_threshold_that_meets_the_target() -> None:
    # Warned parcels have p uniform on [t, 1]: precision (1 + t) / 2 reaches 0.8 at t = 0.6.
    tracks = _calibrated_tracks(20000)
    policy = choose_policy(tracks, target_precision=0.8, min_warnings=30, source="generated")
    assert policy.met_target and policy.precision >= 0.8
    assert 0.56 <= policy.threshold <= 0.64
    below = evaluate_threshold(tracks, round(policy.threshold - 0.03, 2))
    assert below["precision"] < 0.8
    assert policy.recall == pytest.approx(1 - policy.threshold**2, abs=0.03)
    assert policy.median_lead_days == 2.0


def test_a_lucky_small_sample_does_not_meet_the_target() -> None:
    assert precision_lower_bound(0.8, 10) == pytest.approx(0.6016, abs=1e-4)  # Wilson, one-sided 90 %
    perfect = [WarningTrack((DEADLINE - timedelta(days=1),), (0.9,), DEADLINE, True) for _ in range(6)]
    policy = choose_policy(perfect, target_precision=0.8, min_warnings=5, source="generated")
    assert policy.precision == 1.0 and not policy.met_target


def test_too_few_warnings_is_no_policy_and_an_unreachable_target_is_flagged() -> None:
    tracks = _calibrated_tracks(200)
    assert choose_policy(tracks, target_precision=0.8, min_warnings=500, source="generated") is None
    coin = [WarningTrack(t.moments, (0.9,), t.deadline, i % 2 == 0) for i, t in enumerate(tracks)]
    policy = choose_policy(coin, target_precision=0.8, min_warnings=30, source="generated")
    assert not policy.met_target and policy.precision == 0.5


@pytest.mark.slow
def test_threshold_chosen_on_generated_history_meets_its_target_on_that_history() -> None:
    generated = generate_history(4000, seed=5, start=date(2025, 1, 6), days=120)
    records, events = [g.record for g in generated], [e for g in generated for e in g.events]
    target = 0.8  # the default: at least 80 % of the customers warned are really late
    tracks = holdout_tracks(records, events, RiskSettings())
    policy = choose_policy(tracks, target_precision=target, min_warnings=20, source="generated")
    assert policy is not None and policy.met_target, policy
    assert policy.precision >= target and policy.warned >= 20
    assert 0 < policy.recall <= 1 and policy.median_lead_days is not None
    assert policy.threshold in CANDIDATES
    assert policy.median_lead_days >= 0.5  # warned on the day before the promise ended, not in its evening


def test_the_queue_policy_sets_the_at_risk_threshold_only_when_it_met_its_target() -> None:
    warning = WarningPolicy(threshold=0.9, target_precision=0.8, source="history")
    queue = WarningPolicy(threshold=0.55, target_precision=0.5, source="history")
    model = default_model(RiskSettings(at_risk_p_late=0.4))
    assert Policies(warning, queue).settle(model).settings.at_risk_p_late == 0.55
    missed = WarningPolicy(threshold=0.7, target_precision=0.5, source="history", met_target=False)
    assert Policies(warning, missed).settle(model).settings.at_risk_p_late == 0.4
    summary = Policies(warning, queue).summary({"rows": 3})
    assert summary["rows"] == 3
    assert stored_policy(summary) == warning and stored_policy(summary, QUEUE_KEY) == queue


def test_retraining_learns_from_our_stored_scans(app, monkeypatch) -> None:
    from app.risk import training

    shop, _ = make_shop()
    app.config["RISK_MIN_TRAINING_SHIPMENTS"] = 20
    for index in range(24):
        shipped = datetime(2026, 11, 2, 9, tzinfo=UTC) + timedelta(hours=7 * index)
        shipment = make_shipment(
            shop,
            tracking_number=f"R{index}",
            status="delivered",
            shipped_at=shipped,
            promised_date=(shipped + timedelta(days=2)).date(),
            delivered_at=shipped + timedelta(days=1 + index % 3),
        )
        add_event(shipment, shipped + timedelta(hours=2), "in_transit")
    seen = []
    real_train = training.train
    monkeypatch.setattr(training, "train", lambda *a, **kw: seen.append(kw["events"]) or real_train(*a, **kw))
    assert training.retrain_model(now=datetime(2026, 11, 23, tzinfo=UTC)) is not None
    assert len(seen[0]) == 24 and {e.status for e in seen[0]} == {Status.IN_TRANSIT}


def _store_policy(threshold: float) -> None:
    policy = WarningPolicy(threshold=threshold, target_precision=0.8, source="history")
    db.session.add(
        RiskModelRecord(
            model_version="test", source="history", n_train=0, blob=b"", summary=with_policy(None, policy)
        )
    )
    db.session.commit()


@pytest.fixture
def shipment(app):
    shop, _ = make_shop("Fjellsport")
    return make_shipment(shop, status="in_transit", last_event_at=CUSTOMER["created_at"], **CUSTOMER)


def _predict(shipment, state: str, p_late: float, p90_day: int = 27) -> None:
    shipment.risk_state = state
    shipment.p_late = p_late
    shipment.eta_p10 = datetime(2026, 11, p90_day - 1, 9, 0, tzinfo=UTC)
    shipment.eta_p90 = datetime(2026, 11, p90_day, 15, 0, tzinfo=UTC)
    queue_tracking_changes(shipment, previous_status=None, previous_risk_state=state, now=utcnow())
    db.session.commit()


def _emails() -> list[tuple[str, str]]:
    rows = db.session.scalars(
        select(Notification).where(Notification.channel == "email").order_by(Notification.id)
    )
    return [(row.dedupe_key.split(":", 1)[1].rsplit(":", 1)[0], row.state) for row in rows]


def _sent() -> None:
    db.session.execute(Notification.__table__.update().values(state="sent"))
    db.session.commit()


def test_only_a_confident_prediction_warns_the_customer(shipment) -> None:
    _predict(shipment, "at_risk", 0.6)  # staff see it; the default policy (p ≥ 0.8) does not warn
    assert _emails() == []
    _store_policy(0.55)
    _predict(shipment, "at_risk", 0.6)
    assert _emails() == [("predicted_delay:2026-11-27", "pending")]


def test_a_silence_we_have_not_checked_lately_is_looked_at_before_warning(app, shipment) -> None:
    now = utcnow()
    shipment.next_poll_at = now + timedelta(hours=6)  # registered, the carrier not asked yet
    db.session.commit()
    _predict(shipment, "at_risk", 0.95)
    assert _emails() == []
    shipment.last_checked_at = now - timedelta(hours=3)  # the scan we miss may be waiting at the carrier
    _predict(shipment, "at_risk", 0.95)
    assert _emails() == []
    shipment.last_checked_at = now  # polled: the carrier has nothing newer, the silence is real
    _predict(shipment, "at_risk", 0.95)
    assert _emails() == [("predicted_delay:2026-11-27", "pending")]


def test_time_passing_polls_a_stale_parcel_at_risk_soon_but_never_inside_a_lease(app) -> None:
    shop, _ = make_shop()
    now = utcnow()
    overdue = make_shipment(
        shop,
        status="in_transit",
        shipped_at=now - timedelta(days=5),
        promised_date=(now - timedelta(days=2)).date(),
        last_checked_at=now - timedelta(hours=3),
        next_poll_at=now + timedelta(hours=4),
    )
    leased = make_shipment(
        shop,
        tracking_number="70438101015432114",
        status="in_transit",
        shipped_at=now - timedelta(days=5),
        promised_date=(now - timedelta(days=2)).date(),
        last_checked_at=now - timedelta(hours=3),
        next_poll_at=now + timedelta(seconds=app.config["POLL_LEASE_SECONDS"] - 10),
    )
    recent = make_shipment(
        shop,
        tracking_number="70438101015432115",
        status="in_transit",
        shipped_at=now - timedelta(days=5),
        promised_date=(now - timedelta(days=2)).date(),
        last_checked_at=now - timedelta(minutes=150),
        next_poll_at=now + timedelta(hours=4),
    )
    lease_end = leased.next_poll_at
    process_time_passing([overdue, leased, recent], now)
    assert overdue.risk_state == "late" and overdue.next_poll_at == now
    assert leased.risk_state == "late" and leased.next_poll_at == lease_end
    # checked 150 minutes ago: polled again at the at-risk rhythm (105 minutes after that check), i.e. now
    assert recent.next_poll_at == now


def test_one_warning_per_episode_and_again_for_a_new_eta_day(shipment) -> None:
    _predict(shipment, "at_risk", 0.85)
    _sent()
    _predict(shipment, "late", 0.9)  # the state moves, the estimate does not: nothing new
    _predict(shipment, "late", 0.95)
    assert _emails() == [("predicted_delay:2026-11-27", "sent")]
    _predict(shipment, "late", 0.95, p90_day=28)  # a day later: the customer hears the new estimate
    _predict(shipment, "late", 0.95, p90_day=27)  # back to a day they were told: no flapping
    assert _emails() == [("predicted_delay:2026-11-27", "sent"), ("predicted_delay:2026-11-28", "pending")]


def test_back_on_track_once_after_a_warning_with_hysteresis(shipment) -> None:
    _predict(shipment, "at_risk", 0.85)
    _sent()
    _predict(shipment, "at_risk", 0.5)  # below the threshold, not well below it: no news either way
    _predict(shipment, "on_track", 0.42)  # on track for staff, still above 0.8 × 0.5
    assert _emails() == [("predicted_delay:2026-11-27", "sent")]
    _predict(shipment, "on_track", 0.2)
    _predict(shipment, "on_track", 0.1)
    assert _emails() == [("predicted_delay:2026-11-27", "sent"), ("back_on_track:1", "pending")]
    _sent()
    _predict(shipment, "late", 0.9)  # a second episode warns again, even for the same ETA day
    assert _emails()[-1] == ("predicted_delay:2026-11-27~2", "pending")
    body = db.session.scalar(select(Notification.body_text).where(Notification.trigger == "back_on_track"))
    assert "tatt igjen forsinkelsen" in body


def test_no_back_on_track_without_a_warning(shipment) -> None:
    _predict(shipment, "at_risk", 0.6)
    _predict(shipment, "on_track", 0.1)
    assert _emails() == []


def test_an_unsent_warning_is_withdrawn_instead_of_good_news(shipment) -> None:
    _predict(shipment, "at_risk", 0.85)  # still waiting for quiet hours to end
    _predict(shipment, "on_track", 0.1)
    assert _emails() == [("predicted_delay:2026-11-27", "superseded")]


def test_book_share_counts_the_queue_against_active_shipments(app) -> None:
    shop, _ = make_shop()
    for i, state in enumerate(["at_risk", "on_track", "on_track", "late"]):
        make_shipment(shop, tracking_number=f"T{i}", status="in_transit", risk_state=state)
    make_shipment(shop, tracking_number="D", status="delivered", risk_state=None)
    book = book_share(shop.id)
    assert (book.queued, book.active, book.share) == (2, 4, 0.5)
