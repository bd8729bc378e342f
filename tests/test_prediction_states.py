"""State-aware prediction: risk states per status, deadlines in the destination's zone, p_late agreeing
with the ETA, and reasons that are true now."""

from __future__ import annotations

import warnings
from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carriers.model import Reason, Status
from carriers.sandbox.history import generate_history
from planning.prediction import (
    RiskModel,
    RiskState,
    ScanEvent,
    Snapshot,
    build_snapshot,
    default_model,
    train,
)
from planning.prediction.data import AT_RISK_STATES, LEFT_STATES, Place, ShipmentInfo
from planning.prediction.in_flight import SILENCE
from planning.prediction.reasons import RowFacts, judge

OSLO, BANGKOK = ZoneInfo("Europe/Oslo"), ZoneInfo("Asia/Bangkok")
PROMISED = date(2024, 3, 6)
MODEL = default_model()
S = RiskState


def oslo(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2024, 3, day, hour, minute, tzinfo=OSLO).astimezone(UTC)


def make_info(**overrides) -> ShipmentInfo:
    fields = dict(
        shipment_id="X1",
        carrier="bring",
        service="servicepakke",
        origin=Place("NO", "0150", 59.91, 10.75),
        destination=Place("NO", "5003", 60.39, 5.32),
        ordered_at=datetime(2024, 3, 4, 8, tzinfo=UTC),
        shipped_at=datetime(2024, 3, 4, 10, tzinfo=UTC),
        promised_date=PROMISED,
        zone=OSLO,
    )
    return ShipmentInfo(**(fields | overrides))


# Situations: (now, last scan, promised date). The scan is also the arrival of a delivered / pickup parcel.
SITUATIONS = {
    "early": (oslo(4, 14), oslo(4, 12), date(2024, 3, 8)),
    "promised_day": (oslo(6, 13), oslo(6, 9), PROMISED),
    # Half past midnight in Oslo is still the promised day in UTC: the promise ends where the parcel goes.
    "past": (oslo(7, 0, 30), oslo(6, 12), PROMISED),
    "silent": (oslo(11, 12), oslo(5, 4), date(2024, 3, 15)),
    "gone": (oslo(18, 12), oslo(5, 4), date(2024, 3, 25)),
}
IN_FLIGHT = {
    "early": S.ON_TRACK,
    "promised_day": S.AT_RISK,
    "past": S.LATE,
    "silent": S.STUCK,
    "gone": S.LOST,
}
ARRIVED = dict.fromkeys(SITUATIONS, S.ON_TRACK)
EXPECTED = {
    Status.PENDING: IN_FLIGHT,
    Status.INFO_RECEIVED: IN_FLIGHT,
    Status.IN_TRANSIT: IN_FLIGHT,
    Status.UNKNOWN: IN_FLIGHT,
    Status.EXCEPTION: IN_FLIGHT,
    Status.FAILED_ATTEMPT: IN_FLIGHT,
    # On the van on its promised day: delivered tonight, not at risk.
    Status.OUT_FOR_DELIVERY: IN_FLIGHT | {"promised_day": S.ON_TRACK},
    # Reached the door or the pickup point on time: on time, however long collection takes.
    Status.DELIVERED: ARRIVED,
    Status.AVAILABLE_FOR_PICKUP: ARRIVED,
    Status.RETURNING: dict.fromkeys(SITUATIONS, S.RETURNING),
    Status.RETURNED: dict.fromkeys(SITUATIONS, S.CLAIM_CANDIDATE),
    Status.EXPIRED: dict.fromkeys(SITUATIONS, S.CLAIM_CANDIDATE),
    Status.CANCELLED: dict.fromkeys(SITUATIONS, S.CANCELLED),
}
FIRST_REASON = {
    (S.LATE, "past"): "past_promised_day",
    (S.STUCK, "silent"): "no_scan_for_hours",
    (S.LOST, "gone"): "no_scan_for_hours",
    (S.RETURNING, None): "returning",
    (S.CLAIM_CANDIDATE, None): None,  # returned or expired, by status
    (S.CANCELLED, None): "cancelled",
}


def test_the_table_covers_every_status_and_every_state() -> None:
    assert set(EXPECTED) == set(Status)
    assert {state for row in EXPECTED.values() for state in row.values()} == set(RiskState)


@pytest.mark.parametrize(
    ("status", "situation"), [(status, name) for status in EXPECTED for name in SITUATIONS]
)
def test_every_risk_state_for_every_status(status: Status, situation: str) -> None:
    now, scan, promised = SITUATIONS[situation]
    snap = Snapshot(make_info(promised_date=promised), now=now, status=status, last_event_at=scan, n_scans=2)
    pred = MODEL.predict(snap)
    expected = EXPECTED[status][situation]
    assert pred.risk_state is expected
    keys = [r.key for r in pred.details]
    if expected in AT_RISK_STATES:
        assert keys, "an at-risk shipment has at least one reason"
    if expected in LEFT_STATES:
        assert pred.p_late == 0.0
        assert keys[0] == {Status.EXPIRED: "expired", Status.RETURNED: "returned"}.get(
            status, FIRST_REASON[(expected, None)]
        )
        assert not {"past_promised_day", "customs_hold", "expected_after_promise"} & set(keys)
    elif (expected, situation) in FIRST_REASON:
        assert keys[0] == FIRST_REASON[(expected, situation)]
    if status is Status.AVAILABLE_FOR_PICKUP:
        assert keys == ["awaiting_collection"] and pred.p_late == 0.0


@pytest.mark.parametrize("local", [(6, 8, 0), (6, 14, 7), (6, 22, 30)])
def test_out_for_delivery_on_the_promised_day_is_not_at_risk(local: tuple[int, int, int]) -> None:
    now = oslo(*local)
    pred = MODEL.predict(
        Snapshot(make_info(), now=now, status=Status.OUT_FOR_DELIVERY, last_event_at=oslo(6, 7), n_scans=4)
    )
    assert pred.risk_state is S.ON_TRACK
    assert pred.p_late < 0.1
    assert now <= pred.eta_p50 < make_info().promise_end
    after = Snapshot(
        make_info(), now=oslo(7, 0, 5), status=Status.OUT_FOR_DELIVERY, last_event_at=oslo(6, 7), n_scans=4
    )
    assert MODEL.predict(after).risk_state is S.LATE


def test_the_deadline_is_midnight_where_the_parcel_goes() -> None:
    now = datetime(2024, 3, 6, 18, tzinfo=UTC)  # 01:00 on the 7th in Bangkok, still the 6th in Oslo
    far = make_info(destination=Place("TH", "10200", 13.75, 100.5), zone=BANGKOK)
    assert far.promise_end == datetime(2024, 3, 6, 17, tzinfo=UTC)
    scans = dict(status=Status.IN_TRANSIT, last_event_at=now - timedelta(hours=1), n_scans=3)
    assert MODEL.predict(Snapshot(far, now=now, **scans)).risk_state is S.LATE
    assert MODEL.predict(Snapshot(make_info(), now=now, **scans)).risk_state is not S.LATE


def test_a_pickup_point_arrival_on_time_is_on_time_and_late_one_is_late() -> None:
    now = oslo(9, 12)
    on_time = Snapshot(
        make_info(),
        now=now,
        status=Status.AVAILABLE_FOR_PICKUP,
        last_event_at=oslo(8, 9),
        arrived_at=oslo(6, 23),
    )
    pred = MODEL.predict(on_time)
    assert (pred.risk_state, pred.p_late, pred.eta_p50) == (S.ON_TRACK, 0.0, oslo(6, 23))
    late = MODEL.predict(
        Snapshot(make_info(), now=now, status=Status.AVAILABLE_FOR_PICKUP, arrived_at=oslo(7, 0, 1))
    )
    assert (late.risk_state, late.p_late, late.details[0].key) == (S.LATE, 1.0, "arrived_late")


def scan(at: datetime, status: Status, reason: Reason | None = None) -> ScanEvent:
    return ScanEvent("X1", at, status, reason)


def test_reasons_disappear_when_their_cause_does() -> None:
    held = [scan(oslo(4, 12), Status.IN_TRANSIT), scan(oslo(5, 9), Status.EXCEPTION, Reason.CUSTOMS)]
    now = oslo(5, 15)
    keys = [r.key for r in MODEL.predict(build_snapshot(make_info(), held, now)).details]
    assert "customs_hold" in keys
    # Routine clearance, a customs scan like every cross-border parcel's, is no reason.
    routine = [scan(oslo(4, 12), Status.IN_TRANSIT), scan(oslo(5, 14, 30), Status.IN_TRANSIT, Reason.CUSTOMS)]
    assert "customs_hold" not in [
        r.key for r in MODEL.predict(build_snapshot(make_info(), routine, now)).details
    ]
    cleared = [*held, scan(oslo(5, 14), Status.IN_TRANSIT)]
    assert "customs_hold" not in [
        r.key for r in MODEL.predict(build_snapshot(make_info(), cleared, now)).details
    ]
    # A silence reason goes with the next scan.
    quiet = build_snapshot(make_info(promised_date=date(2024, 3, 15)), cleared, oslo(11, 12))
    assert "no_scan_for_hours" in [r.key for r in MODEL.predict(quiet).details]
    heard = [*cleared, scan(oslo(11, 11), Status.IN_TRANSIT)]
    quiet_over = build_snapshot(make_info(promised_date=date(2024, 3, 15)), heard, oslo(11, 12))
    assert "no_scan_for_hours" not in [r.key for r in MODEL.predict(quiet_over).details]


def test_a_refused_parcel_is_a_return_not_a_delay() -> None:
    """The UPS case: customs cleared two days before the refusal; the promise has passed."""
    events = [
        scan(oslo(3, 9), Status.EXCEPTION, Reason.CUSTOMS),
        scan(oslo(4, 9), Status.IN_TRANSIT),
        scan(oslo(6, 10), Status.EXCEPTION, Reason.REFUSED),
    ]
    refused = MODEL.predict(build_snapshot(make_info(), events, oslo(7, 12)))
    assert (refused.risk_state, refused.p_late) == (S.RETURNING, 0.0)
    assert [r.key for r in refused.details] == ["refused", "returning"]
    back = [*events, scan(oslo(7, 9), Status.RETURNING)]
    returning = MODEL.predict(build_snapshot(make_info(), back, oslo(8, 12)))
    assert returning.risk_state is S.RETURNING
    assert [r.key for r in returning.details] == ["refused", "returning"]


def test_collection_point_arrival_on_the_promised_day_keeps_no_customs_reason() -> None:
    """The Thailand Post case: customs earlier, at the collection point on the promised day."""
    info = make_info(carrier="thailandpost", destination=Place("TH", "10200", 13.75, 100.5), zone=BANGKOK)
    events = [
        scan(datetime(2024, 3, 4, 3, tzinfo=UTC), Status.EXCEPTION, Reason.CUSTOMS),
        scan(datetime(2024, 3, 5, 3, tzinfo=UTC), Status.IN_TRANSIT),
        scan(datetime(2024, 3, 6, 9, tzinfo=UTC), Status.AVAILABLE_FOR_PICKUP),
    ]
    pred = MODEL.predict(build_snapshot(info, events, datetime(2024, 3, 7, 6, tzinfo=UTC)))
    assert (pred.risk_state, pred.p_late) == (S.ON_TRACK, 0.0)
    assert [r.key for r in pred.details] == ["awaiting_collection"]


# -- property: p_late agrees with the ETA, every at-risk shipment has a reason -----------------------------

ZONES = [
    ZoneInfo(z) for z in ("UTC", "Europe/Oslo", "Asia/Bangkok", "America/Los_Angeles", "Pacific/Auckland")
]
PLACES = [
    Place("NO", "5003", 60.39, 5.32),
    Place("SE", "11122", 59.33, 18.06),
    Place("TH", "10200", 13.75, 100.5),
    Place("US", "94103", 37.77, -122.41),
]
LEFT_STATUSES = {Status.RETURNING, Status.RETURNED, Status.EXPIRED, Status.CANCELLED}
SIGNALS = [Reason.CUSTOMS.value, Reason.CARRIER_DELAY.value, Reason.WEATHER.value, Reason.LOST.value]


@st.composite
def snapshots(draw) -> Snapshot:
    shipped = datetime(2023, 8, 1, tzinfo=UTC) + timedelta(
        hours=draw(st.integers(0, 24 * 120)), minutes=draw(st.integers(0, 59))
    )
    info = ShipmentInfo(
        shipment_id=str(draw(st.integers(0, 10**6))),
        carrier=draw(st.sampled_from(["bring", "postnord", "ups", "thailandpost", "newco"])),
        service=draw(st.sampled_from(["servicepakke", "express", ""])),
        origin=Place("NO", "0150", 59.91, 10.75),
        destination=draw(st.sampled_from(PLACES)),
        ordered_at=shipped - timedelta(hours=draw(st.integers(0, 72))),
        shipped_at=shipped,
        promised_date=shipped.date() + timedelta(days=draw(st.integers(-1, 12))),
        zone=draw(st.sampled_from(ZONES)),
    )
    now = shipped + timedelta(minutes=draw(st.integers(0, 60 * 24 * 20)))
    status = draw(st.sampled_from(list(Status)))
    scanned = draw(st.booleans()) or status is not Status.PENDING
    last = now - timedelta(minutes=draw(st.integers(0, 60 * 24 * 8))) if scanned else None
    last = max(last, shipped) if last else None
    signals = frozenset(draw(st.lists(st.sampled_from(SIGNALS), max_size=2)))
    if status is Status.EXCEPTION:
        signals |= {"exception"}
    return Snapshot(
        info,
        now=now,
        status=status,
        last_event_at=last,
        n_scans=int(scanned),
        signals=signals,
        arrived_at=last if status in (Status.DELIVERED, Status.AVAILABLE_FOR_PICKUP) else None,
    )


@cache
def trained() -> RiskModel:
    """A boosted, calibrated model (built once; not a fixture, whose repr hypothesis would print)."""
    history = generate_history(3000, seed=3, start=date(2023, 1, 2), days=200)
    return train([g.record for g in history], now=datetime(2023, 7, 20, tzinfo=UTC))


def check_predictions(model: RiskModel, batch: list[Snapshot]) -> None:
    for snap, pred in zip(batch, model.predict_many(batch), strict=True):
        deadline = snap.shipment.promise_end
        assert pred.eta_p10 <= pred.eta_p50 <= pred.eta_p90
        if snap.status in LEFT_STATUSES:
            assert pred.risk_state in LEFT_STATES
        if pred.risk_state not in LEFT_STATES:
            if pred.eta_p50 < deadline:
                assert pred.p_late < 0.5, (snap, pred)
            if pred.eta_p50 > deadline:
                assert pred.p_late > 0.5, (snap, pred)
        if pred.risk_state in AT_RISK_STATES:
            assert pred.details, (snap, pred)
        on_the_van_today = snap.last_event_at and snap.last_event_at.date() == snap.now.date()
        if snap.status is Status.OUT_FOR_DELIVERY and on_the_van_today and snap.now < deadline:
            assert pred.risk_state not in (S.AT_RISK, S.LATE)


PROPERTY = settings(max_examples=60, deadline=None)


@PROPERTY
@given(st.lists(snapshots(), min_size=1, max_size=25))
def test_p_late_agrees_with_the_eta_for_the_prior(batch: list[Snapshot]) -> None:
    check_predictions(MODEL, batch)


@PROPERTY
@given(st.lists(snapshots(), min_size=1, max_size=25))
def test_p_late_agrees_with_the_eta_for_a_trained_model(batch: list[Snapshot]) -> None:
    check_predictions(trained(), batch)


def test_silence_of_a_parcel_not_scanned_yet_counts_from_handoff() -> None:
    info = make_info()
    at_handoff = build_snapshot(info, [], info.shipped_at)
    later = build_snapshot(info, [], info.shipped_at + timedelta(hours=30))
    _, position, _ = MODEL.predict_with_position([at_handoff, later])
    silence = position[:, SILENCE]
    assert silence[0] == 0.0  # not the hours of the handoff day before the parcel was handed over
    assert silence[1] > 0.5


def test_out_for_delivery_when_the_promise_ends_before_the_transit_clock_starts() -> None:
    """Handed over on a Friday after the cut-off, promised that same day: the clock starts on Monday."""
    friday = datetime(2023, 8, 11, 15, tzinfo=UTC)
    info = make_info(shipped_at=friday, ordered_at=friday, promised_date=friday.date(), zone=ZoneInfo("UTC"))
    snap = Snapshot(info, now=friday, status=Status.OUT_FOR_DELIVERY, last_event_at=friday, n_scans=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        [prediction] = trained().predict_many([snap])
    assert friday <= prediction.eta_p10 <= prediction.eta_p50 <= prediction.eta_p90
    assert prediction.p_late < 0.5


def _facts(**overrides) -> RowFacts:
    values = dict(
        state=S.AT_RISK,
        status=Status.IN_TRANSIT,
        signals=frozenset(),
        today=date(2024, 3, 4),
        promised=date(2024, 3, 6),
        past=False,
        eta_p50=date(2024, 3, 6),
        arrived_late=None,
        p_late=0.3,
        scanned=True,
        dwell_business_days=0.1,
        normal_gap_days=0.5,
        km_to_go=None,
        recent_late_rate=None,
        usual_late_rate=0.1,
        recent_half_life_days=7.0,
    )
    return RowFacts(**(values | overrides))


def test_at_risk_needs_evidence_about_the_parcel_itself() -> None:
    # On its lane's odds alone, or with its lane running late, a parcel less likely late than not is on track.
    assert judge(_facts())[0] is S.ON_TRACK
    state, reasons = judge(_facts(recent_late_rate=0.45))
    assert state is S.ON_TRACK and [r.key for r in reasons] == ["lane_running_late"]
    # A carrier delay scan, or odds above even, keep it at risk.
    assert judge(_facts(signals=frozenset({Reason.CARRIER_DELAY.value})))[0] is S.AT_RISK
    assert judge(_facts(p_late=0.7, eta_p50=date(2024, 3, 7)))[0] is S.AT_RISK
