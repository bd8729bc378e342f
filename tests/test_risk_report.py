"""`leveranse risk report` and /staff/risk/: figures on a small fixed set, checked against hand-computed values."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Notification, PredictionChange, Role, Shipment
from app.risk.report import Outcome, deadline_of, risk_report, warning_figures
from tests.factories import PASSWORD, make_shipment, make_shop, make_staff


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def make_notification(shipment, created: str, *, channel="email", state="sent", trigger="predicted_delay"):
    """A committed outbox row for `shipment` written at `created` (UTC)."""
    db.session.add(
        Notification(
            dedupe_key=f"s{shipment.id}:{trigger}:{created}:{channel}",
            shop_id=shipment.shop_id,
            shipment_id=shipment.id,
            channel=channel,
            trigger=trigger,
            recipient="x",
            state=state,
            created_at=at(created),
        )
    )
    db.session.commit()


def delivered(shop, number: str, carrier: str, when: str, p_late: float, p10: str, p50: str, p90: str, **kw):
    values = {
        "carrier": carrier,
        "tracking_number": number,
        "status": "delivered",
        "promised_date": date(2026, 11, 25),
        "customer_timezone": "Europe/Oslo",
        "delivered_at": at(when),
        "p_late": p_late,
        "p_lost": 0.01,
        "eta_p10": at(p10),
        "eta_p50": at(p50),
        "eta_p90": at(p90),
        "risk_computed_at": at(when) if "risk_computed_at" not in kw else kw.pop("risk_computed_at"),
    }
    return make_shipment(shop, **(values | kw))


@pytest.fixture
def fixed_set(app):
    """Five delivered parcels (deadline in Oslo: 2026-11-25T23:00Z), one travelling, one returned.

    S1 bring on time, warned, p 0.7         S2 bring late by 30 min (still the 25th in UTC), warned 24 h early
    S3 postnord (UTC) late, warned 12 h after its deadline, p_lost 0.6
    S4 postnord late, never warned, p 0.35  S5 bring on time in week 47, only a dead warning (not told)
    """
    shop, _ = make_shop()
    s1 = delivered(
        shop,
        "S1",
        "bring",
        "2026-11-25T20:00",
        0.7,
        "2026-11-25T08:00",
        "2026-11-25T14:00",
        "2026-11-25T22:00",
        risk_computed_at=at("2026-11-25T10:00"),
    )
    s2 = delivered(
        shop,
        "S2",
        "bring",
        "2026-11-25T23:30",
        0.9,
        "2026-11-25T20:00",
        "2026-11-26T01:30",
        "2026-11-26T06:00",
        risk_computed_at=at("2026-11-25T21:30"),
    )
    s3 = delivered(
        shop,
        "S3",
        "postnord",
        "2026-11-27T12:00",
        0.35,
        "2026-11-26T00:00",
        "2026-11-27T00:00",
        "2026-11-26T12:00",
        customer_timezone="UTC",
        p_lost=0.6,
        risk_computed_at=at("2026-11-27T06:00"),
    )
    s4 = delivered(
        shop,
        "S4",
        "postnord",
        "2026-11-26T10:00",
        0.35,
        "2026-11-26T09:00",
        "2026-11-26T10:00",
        "2026-11-26T11:00",
        risk_computed_at=at("2026-11-26T02:00"),
    )
    s5 = delivered(
        shop,
        "S5",
        "bring",
        "2026-11-20T10:00",
        0.05,
        "2026-11-20T00:00",
        "2026-11-20T06:00",
        "2026-11-20T12:00",
        promised_date=date(2026, 11, 20),
        risk_computed_at=at("2026-11-20T09:00"),
    )
    make_notification(s1, "2026-11-24T23:00")
    make_notification(s1, "2026-11-25T01:00", channel="sms")
    make_notification(s2, "2026-11-24T22:00", channel="webhook")  # shop hook only: not the customer's warning
    make_notification(s2, "2026-11-24T23:00")
    make_notification(s3, "2026-11-26T12:00", channel="sms", state="captured")
    make_notification(s3, "2026-11-27T13:00", trigger="stuck", channel="webhook")
    make_notification(s4, "2026-11-26T05:00", trigger="delivered")
    make_notification(s5, "2026-11-19T12:00", state="dead")
    travelling = make_shipment(
        shop, tracking_number="S6", status="in_transit", risk_state="at_risk", p_late=0.8
    )
    make_notification(travelling, "2026-11-26T08:00")
    make_shipment(shop, tracking_number="S7", status="returned")
    return shop


def test_report_on_the_fixed_set_matches_hand_computed_figures(fixed_set):
    report = risk_report()
    overall = report["overall"]
    # warned S1 S2 S3 (S5's warning is dead); late S2 S3 S4; leads S2 24 h (not 25: webhooks don't count),
    # S3 −12 h (told after its promise ended: not a prediction) → median over S2 alone, 24 h
    assert overall["warnings"] == {
        "delivered": 5,
        "late": 3,
        "warned": 3,
        "warned_and_late": 2,
        "precision": 0.6667,
        "recall": 0.6667,
        "lead_time_hours_median": 24.0,
        "warned_before_deadline_share": 0.5,
        "told_after_deadline": 1,
    }
    # in the queue: S1 (p 0.7), S2 and S5 (delay rows), S3 (p_lost 0.6 and a stuck row); late among them S2 S3
    assert overall["queue"] == {"flagged": 4, "flagged_share": 0.8, "precision": 0.5, "recall": 0.6667}
    # one parcel each in bins 0, 7, 9; S3 and S4 (both late) share bin 3 at p 0.35
    # ECE = (0.05 + 0.7 + 0.1 + 2 × 0.65) / 5 = 0.43
    calibration = overall["calibration"]
    assert calibration["ece"] == 0.43 and calibration["n"] == 5
    assert [b["n"] for b in calibration["table"]] == [1, 0, 0, 2, 0, 0, 0, 1, 0, 1]
    assert calibration["table"][3] == {"bin": "0.3–0.4", "n": 2, "mean_p_late": 0.35, "observed_late": 1.0}
    # |errors| 6, 2, 12, 0, 4 h → MAE 24 / 5 = 4.8 h; S3 outside its p10–p90; last score 10, 2, 6, 8, 1 h
    # before delivery → median 6 h
    assert overall["eta"] == {
        "n": 5,
        "mae_hours": 4.8,
        "mae_days": 0.2,
        "p10_p90_coverage": 0.8,
        "last_score_hours_before_delivery_median": 6.0,
    }
    bring, postnord = report["by_carrier"]["bring"], report["by_carrier"]["postnord"]
    assert (bring["warnings"]["precision"], bring["warnings"]["recall"]) == (0.5, 1.0)
    assert (postnord["warnings"]["precision"], postnord["warnings"]["recall"]) == (1.0, 0.5)
    assert set(report["by_week"]) == {"2026-W47", "2026-W48"}
    assert report["by_week"]["2026-W47"]["warnings"]["delivered"] == 1
    assert report["queue_now"] == {"active": 1, "in_queue": 1, "share": 1.0, "warned_awaiting_outcome": 1}
    assert report["limitations"]


def test_report_period_counts_deliveries_between_since_and_until(fixed_set):
    report = risk_report(date(2026, 11, 21), date(2026, 11, 26))
    assert report["overall"]["warnings"]["delivered"] == 3  # S1, S2, S4 (S3 on the 27th, S5 on the 20th)
    assert list(report["by_week"]) == ["2026-W48"]


def test_deadline_is_the_end_of_the_promised_day_in_the_customers_zone():
    from zoneinfo import ZoneInfo

    assert deadline_of(date(2026, 11, 25), ZoneInfo("Europe/Oslo")) == at("2026-11-25T23:00")
    assert deadline_of(date(2026, 7, 1), ZoneInfo("Europe/Oslo")) == at("2026-07-01T22:00")
    assert deadline_of(date(2026, 7, 1), ZoneInfo("America/Chicago")) == at("2026-07-02T05:00")


def test_a_warning_after_delivery_does_not_count_and_empty_groups_give_none():
    out = Outcome(
        1, "x", at("2026-11-25T23:00"), at("2026-11-26T10:00"), first_warned_at=at("2026-11-27T00:00")
    )
    assert warning_figures([out])["warned"] == 0 and warning_figures([out])["recall"] == 0.0
    assert warning_figures([])["precision"] is None


def test_cli_prints_text_and_json(fixed_set, runner):
    text = runner.invoke(args=["risk", "report", "--since", "2026-11-21"])
    assert text.exit_code == 0, text.output
    # S5 left out: 4 delivered, 3 late, 3 warned, 2 true, 3 in the queue of which 2 late
    assert text.output.splitlines()[1].split()[:10] == [
        "all",
        "4",
        "3",
        "3",
        "66.7",
        "%",
        "66.7",
        "%",
        "24.0",
        "3",
    ]
    assert (
        "late parcels warned before their promise ended: 50.0 % (lead h is their median); told only after it: 1"
        in (text.output)
    )
    assert "note: Calibration and ETA error are given twice" in text.output
    raw = runner.invoke(args=["risk", "report", "--json"])
    assert json.loads(raw.output)["overall"]["warnings"]["precision"] == 0.6667
    assert runner.invoke(args=["risk", "report", "--until", "soon"]).exit_code == 2


def test_staff_page_shows_the_figures(fixed_set, client):
    assert client.get("/staff/risk/").status_code == 302  # login first
    make_staff(role=Role.VIEWER)
    client.post("/staff/login", data={"email": "ops@shop.test", "password": PASSWORD})
    page = client.get("/staff/risk/?since=2026-11-01&until=bad").get_data(as_text=True)
    assert "Risk report" in page and "66.7 %" in page and "2026-W47" in page and "postnord" in page
    assert "0.430" in page
    assert "told only after\n  it: 1." in page


def _history(shipment, when: str, p_late: float, p50: str, state: str) -> None:
    db.session.add(
        PredictionChange(
            shipment_id=shipment.id,
            recorded_at=at(when),
            p_late=p_late,
            p_lost=0.01,
            risk_state=state,
            eta_p10=at(p50) - timedelta(hours=6),
            eta_p50=at(p50),
            eta_p90=at(p50) + timedelta(hours=6),
        )
    )
    db.session.commit()


def test_the_prediction_history_completes_the_queue_and_gives_the_first_scores(fixed_set):
    by_number = {s.tracking_number: s for s in db.session.scalars(select(Shipment))}
    s1, s4, s5 = by_number["S1"], by_number["S4"], by_number["S5"]
    # S4 (late, never warned, last p 0.35) was at risk for a while: now it counts as queued.
    _history(s4, "2026-11-23T10:00", 0.2, "2026-11-25T12:00", "on_track")
    _history(s4, "2026-11-25T10:00", 0.6, "2026-11-26T09:00", "at_risk")
    _history(s4, "2026-11-26T02:00", 0.35, "2026-11-26T10:00", "on_track")
    # S1's first score: p 0.1, p50 at 14:00 (delivered 20:00: 6 h error, outside its ±6 h band by nothing)
    _history(s1, "2026-11-23T09:00", 0.1, "2026-11-25T14:00", "on_track")
    # S5: a row after delivery is not a prediction
    _history(s5, "2026-11-21T09:00", 0.9, "2026-11-21T10:00", "at_risk")
    report = risk_report()
    # queued: S1 S2 S3 S5 as before, and now S4: 5 of 5, late among them S2 S3 S4
    assert report["overall"]["queue"] == {"flagged": 5, "flagged_share": 1.0, "precision": 0.6, "recall": 1.0}
    first = report["at_first_score"]
    # S1 (on time) p 0.1 in bin 1, S4 (late) p 0.2 in bin 2: ECE = (0.1 + 0.8) / 2 = 0.45
    assert first["calibration"]["n"] == 2 and first["calibration"]["ece"] == 0.45
    # errors: S1 6 h, S4 22 h → 14 h; inside p10-p90: S1 (20:00 ≤ 20:00), not S4
    assert first["eta"]["mae_hours"] == 14.0 and first["eta"]["p10_p90_coverage"] == 0.5


def test_cli_and_page_show_the_first_scores(fixed_set, runner, client):
    s4 = db.session.scalar(select(Shipment).where(Shipment.tracking_number == "S4"))
    _history(s4, "2026-11-23T10:00", 0.2, "2026-11-25T12:00", "on_track")
    text = runner.invoke(args=["risk", "report"]).output
    assert "at the first stored prediction (1 shipments): ECE 0.800, ETA MAE 22.0 h, p10-p90 0.0 %" in text
    make_staff(role=Role.VIEWER)
    client.post("/staff/login", data={"email": "ops@shop.test", "password": PASSWORD})
    page = client.get("/staff/risk/").get_data(as_text=True)
    assert "At the first stored prediction (1 shipments): ECE\n  0.800, ETA error 22.0 h" in page


def test_a_high_last_score_alone_is_not_the_queue(app):
    """At risk needs evidence (planning/prediction/reasons.judge): p_late alone says nothing of the queue."""
    shop, _ = make_shop()
    delivered(
        shop,
        "Q1",
        "bring",
        "2026-11-25T20:00",
        0.9,
        "2026-11-25T08:00",
        "2026-11-25T14:00",
        "2026-11-25T22:00",
    )
    assert risk_report()["overall"]["queue"]["flagged"] == 0
