from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from carriers.model import Reason, Status
from carriers.sandbox.history import generate_history
from planning.prediction import (
    HistoryRecord,
    Level,
    ModelFormatError,
    RiskModel,
    RiskSettings,
    RiskState,
    Snapshot,
    default_model,
    train,
)
from planning.prediction.backtest import expected_calibration_error
from planning.prediction.data import Place, ShipmentInfo
from planning.prediction.model import FORMAT_VERSION

SPLIT = datetime(2023, 8, 15, tzinfo=UTC)


@pytest.fixture(scope="module")
def history():
    return generate_history(5000, seed=7, start=date(2023, 1, 2), days=300)


@pytest.fixture(scope="module")
def model(history) -> RiskModel:
    return train([g.record for g in history], now=SPLIT, events=[e for g in history for e in g.events])


def make_info(**overrides) -> ShipmentInfo:
    fields = dict(
        shipment_id="X1",
        carrier="bring",
        service="servicepakke",
        origin=Place("NO", "0150", 59.91, 10.75),
        destination=Place("NO", "5003", 60.39, 5.32),
        ordered_at=datetime(2024, 3, 4, 8, tzinfo=UTC),
        shipped_at=datetime(2024, 3, 4, 10, tzinfo=UTC),
        promised_date=date(2024, 3, 6),
    )
    return ShipmentInfo(**(fields | overrides))


def test_p_late_is_calibrated_on_held_out_history(history, model):
    test = [g.record for g in history if g.record.shipment.shipped_at >= SPLIT]
    preds = model.predict_many([Snapshot(r.shipment, now=r.shipment.shipped_at) for r in test])
    late = np.array(
        [r.delivered_at is None or r.delivered_at.date() > r.shipment.promised_date for r in test]
    )
    p = np.array([x.p_late for x in preds])
    assert len(test) > 800
    assert expected_calibration_error(late.astype(float), p) <= 0.05
    assert p[late].mean() > p[~late].mean() + 0.04


def test_fallback_walks_lane_carrier_service_carrier_global():
    settings = RiskSettings(use_gbm=False, calibrate=False, min_group_size=30)
    records = [
        HistoryRecord(
            replace(
                make_info(),
                shipment_id=f"H{i}",
                shipped_at=datetime(2024, 1, 2, 10, tzinfo=UTC) + timedelta(days=i),
            ),
            datetime(2024, 1, 3, 12, tzinfo=UTC) + timedelta(days=i),
        )
        for i in range(40)
    ]
    trained = train(records, settings=settings, now=datetime(2024, 3, 1, tzinfo=UTC))
    now = datetime(2024, 3, 4, 11, tzinfo=UTC)
    cases = {
        Level.LANE: make_info(),
        Level.CARRIER_SERVICE: make_info(destination=Place("NO", "9008")),
        Level.CARRIER: make_info(service="pakke_i_postkassen"),
        Level.GLOBAL: make_info(carrier="newco"),
    }
    got = {level: trained.predict(Snapshot(info, now=now)).fallback_level for level, info in cases.items()}
    assert got == {level: level for level in cases}
    intl = make_info(carrier="newco", destination=Place("TH", "10200"))
    assert trained.predict(Snapshot(intl, now=now)).fallback_level is Level.PRIOR
    assert default_model().predict(Snapshot(make_info(), now=now)).fallback_level is Level.PRIOR


def test_day_one_prior_gives_sensible_figures():
    pred = default_model().predict(Snapshot(make_info(), now=datetime(2024, 3, 4, 11, tzinfo=UTC)))
    assert (
        date(2024, 3, 4)
        <= pred.eta_p10.date()
        <= pred.eta_p50.date()
        <= pred.eta_p90.date()
        <= date(2024, 3, 14)
    )
    assert 0.0 < pred.p_late < 0.5
    assert pred.p_lost == pytest.approx(0.005, abs=0.002)
    assert pred.risk_state is RiskState.ON_TRACK


def test_silence_turns_on_track_into_stuck_then_lost(model):
    info = make_info(promised_date=date(2024, 3, 15))
    last = datetime(2024, 3, 5, 3, tzinfo=UTC)

    def at(now: datetime):
        snap = Snapshot(info, now=now, status=Status.IN_TRANSIT, last_event_at=last, n_scans=3, n_hubs=2)
        return model.predict(snap)

    fresh, quiet, gone = (
        at(datetime(2024, 3, 5, 12, tzinfo=UTC)),
        at(datetime(2024, 3, 11, 9, tzinfo=UTC)),
        at(datetime(2024, 3, 14, 9, tzinfo=UTC)),
    )
    assert fresh.risk_state is RiskState.ON_TRACK
    assert quiet.risk_state is RiskState.STUCK
    assert "no scan for 4 business days; this lane normally scans daily" in quiet.reasons
    assert gone.risk_state is RiskState.LOST
    assert fresh.p_lost < quiet.p_lost < gone.p_lost
    assert gone.eta_p50 > datetime(2024, 3, 14, 9, tzinfo=UTC)


def test_passed_promise_is_late_and_carrier_signals_show(model):
    now = datetime(2024, 3, 7, 9, tzinfo=UTC)
    late = model.predict(
        Snapshot(make_info(), now=now, status=Status.IN_TRANSIT, last_event_at=now, n_scans=2)
    )
    assert late.risk_state is RiskState.LATE and late.p_late == 1.0
    assert late.reasons[0] == "promised date 2024-03-06 has passed"
    held = Snapshot(
        make_info(promised_date=date(2024, 3, 8)),
        now=now,
        status=Status.EXCEPTION,
        last_event_at=now,
        n_scans=2,
        signals=frozenset({Reason.CUSTOMS.value, "exception"}),
    )
    assert model.predict(held).reasons[0] == "customs hold"
    lost = replace(held, signals=frozenset({Reason.LOST.value}))
    assert model.predict(lost).risk_state is RiskState.LOST


def test_far_from_destination_reason():
    info = make_info(destination=Place("NO", "9008", 69.65, 18.96), promised_date=date(2024, 3, 5))
    pred = default_model().predict(Snapshot(info, now=datetime(2024, 3, 4, 11, tzinfo=UTC)))
    assert "promised date is tomorrow, parcel still 1150 km away" in pred.reasons


def test_out_for_delivery_gets_a_window_today(model):
    now = datetime(2024, 3, 5, 7, tzinfo=UTC)
    pred = model.predict(
        Snapshot(make_info(), now=now, status=Status.OUT_FOR_DELIVERY, last_event_at=now, n_scans=4)
    )
    assert pred.window is not None
    assert (
        pred.window[0].date() == date(2024, 3, 5)
        and pred.window[0] >= now
        and pred.window[1] > pred.window[0]
    )
    assert pred.eta_p50.date() == date(2024, 3, 5)
    assert pred.risk_state is RiskState.ON_TRACK


def test_model_bytes_round_trip_and_version_guard(model):
    snap = Snapshot(make_info(), now=datetime(2024, 3, 4, 11, tzinfo=UTC))
    blob = model.to_bytes()
    again = RiskModel.from_bytes(blob)
    assert again.predict(snap) == model.predict(snap)
    with pytest.raises(ModelFormatError):
        RiskModel.from_bytes(
            blob.replace(f"LEVERANSE-RISK{FORMAT_VERSION}:".encode(), b"LEVERANSE-RISK999:", 1)
        )
    with pytest.raises(ModelFormatError):
        RiskModel.from_bytes(b"garbage")


def test_parcels_still_travelling_past_their_eta_move_new_etas_later(model):
    """Censored evidence: a week of parcels on one lane not delivered yet is known to be slow already."""
    now = datetime(2024, 3, 4, 11, tzinfo=UTC)
    stalled = [
        HistoryRecord(
            replace(
                make_info(),
                shipment_id=f"T{i}",
                ordered_at=now - timedelta(days=8, hours=i),
                shipped_at=now - timedelta(days=8, hours=i - 1),
                promised_date=date(2024, 3, 8),
            ),
            None,
        )
        for i in range(60)
    ]
    snap = Snapshot(make_info(promised_date=date(2024, 3, 5)), now=now)
    before = model.predict(snap)
    after = model.with_outcomes(stalled, now).predict(snap)
    assert after.eta_p50 > before.eta_p50 and after.eta_p90 > before.eta_p90
    assert after.p_late > before.p_late + 0.1
    other_lane = Snapshot(make_info(carrier="dhl", service="parcel", shipment_id="X2"), now=now)
    assert model.with_outcomes(stalled, now).predict(other_lane) == model.predict(other_lane)
