"""Claim analytics on small hand-checked data: rates per carrier, service, lane and month; recovery and
amounts; step durations; denial reasons; filing in time; and an anomaly detector that flags a real rise
in a carrier's claim rate but not noise."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import count

import pytest
from scipy.stats import binom
from sqlalchemy import insert

from app.claims.analytics import (
    ClaimRate,
    DenialReason,
    FilingTimeliness,
    RecoveredMoney,
    benjamini_hochberg,
    binomial_upper_tail,
    claim_rates,
    claim_stats,
    detect_rate_anomalies,
)
from app.extensions import db
from app.models import Claim, ClaimEvent, ClaimKind, ClaimState, Shipment
from tests.factories import make_shipment, make_shop

NOV = datetime(2026, 11, 10, 12, tzinfo=UTC)
DEC = datetime(2026, 12, 1, 9, tzinfo=UTC)
_numbers = count(1)


def _shipment(shop, carrier="bring", origin="NO", destination="NO", shipped_at=NOV, **overrides) -> Shipment:
    values = {
        "carrier": carrier,
        "tracking_number": f"T{next(_numbers):08d}",
        "status": "in_transit",
        "origin_country": origin,
        "destination_country": destination,
        "shipped_at": shipped_at,
    }
    return make_shipment(shop, **(values | overrides))


def _claim(shipment: Shipment, state: ClaimState = ClaimState.OPENED, **fields) -> Claim:
    values = {
        "reference": f"C-{next(_numbers):07d}",
        "shop_id": shipment.shop_id,
        "shipment_id": shipment.id,
        "kind": ClaimKind.LOST,
        "state": state,
        "source": "detection",
        "rule": "no_scan",
        "opened_at": DEC,
        "currency": "NOK",
    }
    claim = Claim(**(values | fields))
    db.session.add(claim)
    db.session.commit()
    return claim


def test_claim_rates_count_claims_on_the_shipments_handed_over_in_each_group_and_month(app) -> None:
    shop, _ = make_shop()
    other, _ = make_shop("Other shop")
    bring_nov = [_shipment(shop, service="Pakke i postkassen") for _ in range(4)]
    bring_dec = [_shipment(shop, shipped_at=DEC, service="Pakke til hentested") for _ in range(2)]
    postnord = [_shipment(shop, "postnord", "NO", "DK", service="MyPack") for _ in range(5)]
    _claim(bring_nov[0])
    _claim(bring_dec[0])
    _claim(bring_dec[1], ClaimState.CANCELLED)  # the parcel turned up: not a claim in the rates
    _claim(postnord[0])
    _claim(postnord[1], kind=ClaimKind.DAMAGED)
    _claim(_shipment(shop, shipped_at=datetime(2026, 10, 31, 23, tzinfo=UTC)))  # handed over before
    _claim(_shipment(shop, deleted_at=DEC))  # the shop deleted it
    _claim(_shipment(other))  # another shop's

    scope = {"shop_id": shop.id}
    start, end = date(2026, 11, 1), date(2026, 12, 31)
    assert claim_rates(start, end, by=(), **scope) == [ClaimRate(11, 4)]
    assert claim_rates(start, end, by=("carrier", "month"), **scope) == [
        ClaimRate(4, 1, carrier="bring", month=date(2026, 11, 1)),
        ClaimRate(2, 1, carrier="bring", month=date(2026, 12, 1)),
        ClaimRate(5, 2, carrier="postnord", month=date(2026, 11, 1)),
    ]
    assert claim_rates(start, end, by=("carrier", "service"), **scope) == [
        ClaimRate(4, 1, carrier="bring", service="Pakke i postkassen"),
        ClaimRate(2, 1, carrier="bring", service="Pakke til hentested"),
        ClaimRate(5, 2, carrier="postnord", service="MyPack"),
    ]
    by_lane = claim_rates(start, end, by=("lane",), **scope)
    assert by_lane == [
        ClaimRate(5, 2, origin_country="NO", destination_country="DK"),
        ClaimRate(6, 2, origin_country="NO", destination_country="NO"),
    ]
    assert [rate.rate for rate in by_lane] == [0.4, pytest.approx(1 / 3)]
    assert claim_rates(start, end, by=("carrier",), carrier="postnord", **scope) == [
        ClaimRate(5, 2, carrier="postnord")
    ]
    # Every shop: the other shop's shipment and claim count too.
    assert claim_rates(start, end, by=()) == [ClaimRate(12, 5)]
    with pytest.raises(ValueError, match="weekday"):
        claim_rates(start, end, by=("weekday",))


def _decided(shop, state: ClaimState, amount: str, approved: str | None, **fields) -> Claim:
    submitted = DEC + timedelta(days=1)
    values = {
        "claim_amount": Decimal(amount),
        "approved_amount": None if approved is None else Decimal(approved),
        "submitted_at": submitted,
        "carrier_decided_at": submitted + timedelta(days=10),
        "filed_in_time": True,
    }
    return _claim(_shipment(shop), state, **(values | fields))


def _closed_after(claim: Claim, decision: ClaimState) -> None:
    """The claim was decided, then closed: only the audit trail still says how the carrier decided."""
    db.session.add_all(
        [
            ClaimEvent(
                claim=claim, actor="carrier", action="transition", from_state="submitted", to_state=decision
            ),
            ClaimEvent(
                claim=claim, actor="staff:a", action="transition", from_state=decision, to_state="closed"
            ),
        ]
    )
    db.session.commit()


def test_recovery_denial_reasons_and_filing_in_time(app) -> None:
    shop, _ = make_shop()
    _decided(shop, ClaimState.APPROVED, "1000.00", "1000.00")
    _decided(shop, ClaimState.PARTIALLY_APPROVED, "500.00", "200.00")
    _decided(shop, ClaimState.DENIED, "300.00", "0", denial_reason="Insufficient packaging")
    _closed_after(_decided(shop, ClaimState.CLOSED, "400.00", "400.00"), ClaimState.APPROVED)
    _closed_after(
        _decided(shop, ClaimState.CLOSED, "200.00", "0", denial_reason="Filed too late", filed_in_time=False),
        ClaimState.DENIED,
    )
    _decided(shop, ClaimState.DENIED, "100.00", "0", currency="EUR", denial_reason=" Insufficient packaging ")
    _decided(shop, ClaimState.DENIED, "50.00", "0", currency="EUR", filed_in_time=None)
    _claim(
        _shipment(shop),
        ClaimState.SUBMITTED,
        claim_amount=Decimal("600.00"),
        submitted_at=DEC,
        filed_in_time=True,
    )
    _claim(_shipment(shop), claim_amount=Decimal("999.00"))  # not submitted yet

    stats = claim_stats(date(2026, 12, 1), date(2026, 12, 31), shop_id=shop.id, now=DEC + timedelta(days=40))
    recovery = stats.recovery
    # 8 submitted; approved 2 (one since closed) + partially approved 1; 4 denied; 1 waiting.
    assert (recovery.submitted, recovery.decided, recovery.recovered, recovery.denied) == (8, 7, 3, 4)
    assert recovery.rate == 3 / 8
    assert recovery.amounts == (
        RecoveredMoney("EUR", Decimal("150.00"), Decimal("0")),
        RecoveredMoney("NOK", Decimal("3000.00"), Decimal("1600.00")),
    )
    assert recovery.amounts[1].share == pytest.approx(1600 / 3000)
    assert stats.denial_reasons == (
        DenialReason("Insufficient packaging", 2),
        DenialReason("(no reason given)", 1),
        DenialReason("Filed too late", 1),
    )
    assert stats.filing == FilingTimeliness(submitted=8, in_time=6, late=1, unknown=1)
    assert stats.filing.share == 6 / 8
    assert stats.to_carrier_decision.measured == 7 and stats.to_carrier_decision.waiting == 1
    assert stats.to_carrier_decision.median == timedelta(days=10)


def test_step_durations_give_the_median_and_the_90th_percentile(app) -> None:
    shop, _ = make_shop()
    for hours in (1, 2, 3, 4, 10):
        _claim(_shipment(shop), acknowledged_at=DEC + timedelta(hours=hours))
    _claim(_shipment(shop), ClaimState.CLASSIFIED, remedy_decided_at=DEC + timedelta(hours=24))
    _claim(_shipment(shop), ClaimState.CLASSIFIED, remedy_decided_at=DEC + timedelta(hours=48))
    submitted = DEC + timedelta(days=2)
    for days in (10, 20):
        _claim(
            _shipment(shop),
            ClaimState.DENIED,
            submitted_at=submitted,
            carrier_decided_at=submitted + timedelta(days=days),
        )
    _claim(_shipment(shop), ClaimState.CANCELLED)  # finished without any step: never waiting

    stats = claim_stats(date(2026, 12, 1), date(2026, 12, 31), shop_id=shop.id, now=DEC + timedelta(days=40))
    ack = stats.to_acknowledgement
    # Five measured (1, 2, 3, 4, 10 h): median 3 h; p90 at rank 0.9 × 4 = 3.6 → 4 + 0.6 × (10 − 4) = 7.6 h.
    assert (ack.measured, ack.waiting, ack.median, ack.p90) == (
        5,
        4,
        timedelta(hours=3),
        timedelta(hours=7.6),
    )
    remedy = stats.to_remedy
    assert (remedy.measured, remedy.waiting, remedy.median, remedy.p90) == (
        2,
        7,
        timedelta(hours=36),
        timedelta(hours=45.6),
    )
    decision = stats.to_carrier_decision
    assert (decision.measured, decision.median, decision.p90) == (2, timedelta(days=15), timedelta(days=19))


def _volume(
    shop, carrier: str, lane: tuple[str, str], first: date, days: int, shipments: int, claims: int
) -> None:
    """`shipments` handed over evenly over `days` from `first`, `claims` of them opened in the same days."""
    start = datetime(first.year, first.month, first.day, tzinfo=UTC)
    step = timedelta(days=days) / shipments
    rows = [
        {
            "shop_id": shop.id,
            "carrier": carrier,
            "tracking_number": f"T{next(_numbers):08d}",
            "status": "in_transit",
            "poll_failures": 0,
            "origin_country": lane[0],
            "destination_country": lane[1],
            "shipped_at": start + i * step,
            "created_at": start + i * step,
            "updated_at": start + i * step,
        }
        for i in range(shipments)
    ]
    ids = db.session.scalars(insert(Shipment).returning(Shipment.id), rows).all()
    for i, shipment_id in enumerate(ids[:claims]):
        db.session.add(
            Claim(
                reference=f"C-{next(_numbers):07d}",
                shop_id=shop.id,
                shipment_id=shipment_id,
                kind=ClaimKind.LOST,
                state=ClaimState.OPENED,
                source="detection",
                rule="no_scan",
                opened_at=start + i * timedelta(days=days) / max(claims, 1) + timedelta(hours=1),
            )
        )
    db.session.commit()


PERIOD = date(2026, 11, 3)  # 3–30 Nov: the 4 weeks to 30 Nov
BASELINE = date(2026, 8, 11)  # 11 Aug – 2 Nov: the 12 weeks before


@pytest.fixture
def lanes(app):
    """PostNord NO→DK rises (0.57 % → 2.2 %); Bring NO→NO stays at 0.6 %; GLS DK→SE has a claim or two."""
    shop, _ = make_shop()
    _volume(shop, "postnord", ("NO", "DK"), BASELINE, 84, 1230, 7)
    _volume(shop, "postnord", ("NO", "DK"), PERIOD, 28, 410, 9)
    _volume(shop, "bring", ("NO", "NO"), BASELINE, 84, 3000, 18)
    _volume(shop, "bring", ("NO", "NO"), PERIOD, 28, 1000, 6)
    _volume(shop, "gls", ("DK", "SE"), BASELINE, 84, 300, 0)
    _volume(shop, "gls", ("DK", "SE"), PERIOD, 28, 10, 2)
    return shop


def test_the_detector_flags_a_real_rise_and_says_so_in_words(lanes) -> None:
    anomalies = detect_rate_anomalies(date(2026, 11, 30))
    # The carrier and its only lane carry the same counts; Bring (equal rate) and GLS (2 claims) are quiet.
    assert [(a.carrier, a.origin_country, a.destination_country) for a in anomalies] == [
        ("postnord", None, None),
        ("postnord", "NO", "DK"),
    ]
    lane = anomalies[1]
    assert (lane.claims, lane.shipments, lane.baseline_claims, lane.baseline_shipments) == (9, 410, 7, 1230)
    assert (lane.period_start, lane.period_end, lane.baseline_start) == (PERIOD, date(2026, 11, 30), BASELINE)
    # Under "no change", the period's share of the 16 claims is Binomial(16, 410 / 1640): P(X ≥ 9).
    expected = binom.sf(8, 16, 0.25)
    assert lane.p_value == pytest.approx(expected, rel=1e-9)
    # Six groups tested (3 carriers, 3 lanes); GLS's two smaller p-values (≈ 0.001) rank first, PostNord's
    # third and fourth: q = p × 6 / 4.
    assert lane.groups_tested == 6
    assert lane.adjusted_p_value == pytest.approx(expected * 6 / 4, rel=1e-9)
    assert lane.words == (
        "PostNord NO→DK: 9 claims in 410 shipments (2.2 %) in the 4 weeks to 30 Nov 2026, against 0.57 % "
        "(7 in 1,230) in the 12 weeks before; if the rate had not changed, that many or more would happen "
        "by chance with probability 0.0075 (exact binomial test; 0.011 after the Benjamini–Hochberg "
        "correction over the 6 carriers and lanes checked)."
    )
    assert anomalies[0].words.startswith("PostNord: 9 claims in 410 shipments (2.2 %)")


def test_the_detector_leaves_noise_alone(lanes) -> None:
    # GLS: 2 claims in 10 shipments after 0 in 300 is unlikely by chance (p ≈ 0.001) but below 3 claims.
    assert detect_rate_anomalies(date(2026, 11, 30), carrier="gls") == []
    assert detect_rate_anomalies(date(2026, 11, 30), carrier="gls", min_claims=2) != []
    # Bring at its usual rate: nothing, whatever the thresholds.
    assert detect_rate_anomalies(date(2026, 11, 30), carrier="bring", min_claims=1, alpha=0.5) == []
    # A quiet period for PostNord (the 4 weeks to 2 Nov hold baseline claims only): nothing.
    assert detect_rate_anomalies(date(2026, 11, 2), carrier="postnord") == []


def test_the_detector_needs_a_normal_to_compare_with(app) -> None:
    shop, _ = make_shop()
    _volume(shop, "dhl", ("DE", "NO"), PERIOD, 28, 50, 20)  # a new lane: no baseline shipments
    assert detect_rate_anomalies(date(2026, 11, 30)) == []


def test_one_claim_in_a_small_lane_is_not_a_rise(app) -> None:
    shop, _ = make_shop()
    _volume(shop, "gls", ("DK", "SE"), BASELINE, 84, 30, 0)
    _volume(shop, "gls", ("DK", "SE"), PERIOD, 28, 10, 1)
    assert detect_rate_anomalies(date(2026, 11, 30), min_claims=1) == []  # p = 0.25


def test_claim_stats_gathers_the_anomalies_of_the_last_complete_weeks(lanes) -> None:
    stats = claim_stats(date(2026, 11, 1), date(2026, 11, 30), now=datetime(2026, 12, 1, 8, tzinfo=UTC))
    assert [a.origin_country for a in stats.anomalies] == [None, "NO"]
    # Still on 30 Nov: that day is not over, so the 4 weeks end on 29 Nov.
    early = claim_stats(date(2026, 11, 1), date(2026, 11, 30), now=datetime(2026, 11, 30, 20, tzinfo=UTC))
    assert {a.period_end for a in early.anomalies} == {date(2026, 11, 29)}


@pytest.mark.parametrize(
    ("k", "n", "p"), [(9, 16, 0.25), (3, 5, 0.01), (40, 60, 0.2), (0, 5, 0.3), (6, 5, 0.3)]
)
def test_binomial_upper_tail_is_exact_also_far_out(k, n, p) -> None:
    assert binomial_upper_tail(k, n, p) == pytest.approx(binom.sf(k - 1, n, p), rel=1e-9, abs=1e-300)


def test_benjamini_hochberg() -> None:
    assert benjamini_hochberg([0.01, 0.04, 0.03, 0.5]) == pytest.approx(
        [0.04, 0.04 * 4 / 3, 0.04 * 4 / 3, 0.5]
    )
    assert benjamini_hochberg([]) == []


def test_the_api_answers_with_the_shops_own_figures(client, auth, shop_key) -> None:
    shop, _ = shop_key
    other, _ = make_shop("Other shop")
    mine = [_shipment(shop, "postnord", "NO", "DK") for _ in range(4)]
    _claim(mine[0], acknowledged_at=DEC + timedelta(hours=2))
    _claim(_shipment(other, "postnord", "NO", "DK"))

    response = client.get("/api/v1/claims/stats?from=2026-11-01&to=2026-12-31", headers=auth)
    assert response.status_code == 200
    body = response.json
    assert body["from"] == "2026-11-01" and body["to"] == "2026-12-31"
    assert body["overall"] == {"shipments": 4, "claims": 1, "rate": 0.25}
    assert body["by_lane"] == [
        {
            "carrier": "postnord",
            "origin_country": "NO",
            "destination_country": "DK",
            "shipments": 4,
            "claims": 1,
            "rate": 0.25,
        }
    ]
    assert body["to_acknowledgement"] == {"measured": 1, "waiting": 0, "median_hours": 2.0, "p90_hours": 2.0}
    assert body["recovery"]["rate"] is None and body["anomalies"] == []

    assert client.get("/api/v1/claims/stats?carrier=bring&from=2026-11-01&to=2026-12-31", headers=auth).json[
        "overall"
    ] == {"shipments": 0, "claims": 0, "rate": None}
    default = client.get("/api/v1/claims/stats", headers=auth).json  # the 90 days up to yesterday
    assert date.fromisoformat(default["to"]) - date.fromisoformat(default["from"]) == timedelta(days=89)
    bad = client.get("/api/v1/claims/stats?from=2026-12-31&to=2026-11-01", headers=auth)
    assert bad.status_code == 422
    assert client.get("/api/v1/claims/stats").status_code == 401
