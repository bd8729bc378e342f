"""The claim lifecycle: every legal move audited and announced, every illegal one refused with nothing
written; amounts never above the goods value; the carrier cap and the uncovered remainder."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.claims.lifecycle import ALLOWED_MOVES, move
from app.claims.rules import RulesError, load_rules, parse_rules
from app.claims.service import (
    ClaimCandidate,
    classify,
    close,
    decide_remedy,
    open_claim,
    record_carrier_decision,
)
from app.errors import Conflict, InvalidInput
from app.extensions import db
from app.models import Claim, ClaimEvent, ClaimKind, ClaimState, Liability, Notification, RemedyKind, Shipment
from carriers.model import Status
from tests.factories import make_shipment, make_shop

SHIPPED = datetime(2026, 11, 2, 9, tzinfo=UTC)


def _claim(carrier: str = "ups", value: str = "250.00", currency: str = "USD", **overrides) -> Claim:
    shop, _ = make_shop()
    shipment = make_shipment(
        shop,
        carrier=carrier,
        status=Status.IN_TRANSIT,
        shipped_at=SHIPPED,
        promised_date=date(2026, 11, 5),
        declared_value=Decimal(value),
        currency=currency,
        customer_email="kari@example.no",
        customer_language="nb",
        customer_timezone="Europe/Oslo",
        **overrides,
    )
    claim = open_claim(ClaimCandidate(shipment, ClaimKind.LOST, "test", {}), actor="staff:ops@shop.test")
    db.session.commit()
    return claim


def test_the_full_path_is_audited_and_the_customer_hears_what_matters(app) -> None:
    claim = _claim()
    classify(claim, liability=Liability.CARRIER, actor="staff:ops")
    decide_remedy(claim, remedy=RemedyKind.REFUND, amount=Decimal("250.00"), actor="staff:ops")
    move(claim, ClaimState.SUBMITTED, actor="system:filer")
    record_carrier_decision(
        claim, outcome=ClaimState.PARTIALLY_APPROVED, amount=Decimal("100.00"), actor="carrier"
    )
    close(claim, actor="staff:ops")
    db.session.commit()
    trail = db.session.execute(
        select(ClaimEvent.action, ClaimEvent.from_state, ClaimEvent.to_state).order_by(ClaimEvent.id)
    ).all()
    assert [tuple(row) for row in trail] == [
        ("opened", None, "opened"),
        ("transition", "opened", "classified"),
        ("transition", "classified", "remedy_decided"),
        ("transition", "remedy_decided", "submitted"),
        ("transition", "submitted", "partially_approved"),
        ("transition", "partially_approved", "closed"),
    ]
    assert (claim.approved_amount, claim.open_key, claim.closed_at is not None) == (
        Decimal("100.00"),
        None,
        True,
    )
    customer = db.session.execute(
        select(Notification.trigger, Notification.language)
        .where(Notification.channel == "email")
        .order_by(Notification.id)
    ).all()
    assert [tuple(row) for row in customer] == [
        ("claim_opened", "nb"),
        ("claim_updated", "nb"),  # classified
        ("claim_updated", "nb"),  # submitted
        ("claim_resolved", "nb"),
    ]


def test_the_claim_amount_is_capped_and_the_remainder_shown(app) -> None:
    claim = _claim(value="250.00", currency="USD")
    assert (claim.carrier_cap, claim.claim_amount, claim.uncovered_amount) == (
        Decimal("100.00"),
        Decimal("100.00"),
        Decimal("150.00"),
    )
    per_kg = _claim(
        carrier="bring",
        value="2000.00",
        currency="NOK",
        weight_kg=Decimal("2.0"),
        tracking_number="70438101015432999",
    )
    assert per_kg.carrier_cap == Decimal("238.24")  # 8.33 SDR/kg × 2 kg × 14.3 NOK/SDR
    assert per_kg.claim_amount == Decimal("238.24")


def test_the_filing_calendar_follows_the_carrier(app) -> None:
    claim = _claim()
    # UPS: 24 h after the end of the promised day (Oslo), notice within 60 days of it; warned 10 days before.
    end_of_promised_day = datetime(2026, 11, 5, 23, tzinfo=UTC)
    assert abs(claim.earliest_file_at - (end_of_promised_day + timedelta(hours=24))) < timedelta(seconds=1)
    assert claim.file_by == end_of_promised_day + timedelta(days=60)  # the end of 4 January, Oslo


LEGAL = {(start, end) for start, ends in ALLOWED_MOVES.items() for end in ends}
ILLEGAL = [(start, end) for start in ClaimState for end in ClaimState if (start, end) not in LEGAL]


@pytest.mark.parametrize(("start", "end"), ILLEGAL, ids=[f"{a}->{b}" for a, b in ILLEGAL])
def test_every_illegal_move_is_refused_and_writes_nothing(app, start, end) -> None:
    claim = _claim()
    claim.state = start
    db.session.commit()
    events_before = db.session.query(ClaimEvent).count()
    with pytest.raises(Conflict) as refused:
        move(claim, end, actor="staff:ops")
    assert refused.value.kind == "illegal-transition"
    assert claim.state == start
    assert db.session.query(ClaimEvent).count() == events_before


def test_remedy_amounts_above_the_goods_value_are_refused(app) -> None:
    claim = _claim(value="250.00")
    classify(claim, liability=Liability.SHOP, actor="staff:ops")
    db.session.commit()
    with pytest.raises(InvalidInput) as too_much:
        decide_remedy(claim, remedy=RemedyKind.REFUND, amount=Decimal("250.01"), actor="staff:ops")
    assert "goods value" in too_much.value.message
    with pytest.raises(InvalidInput):
        decide_remedy(claim, remedy=RemedyKind.RESHIP, amount=Decimal("10"), actor="staff:ops")
    assert claim.state == ClaimState.CLASSIFIED and claim.remedy_kind is None


def test_a_carrier_liable_claim_is_not_closed_unfiled_without_a_reason(app) -> None:
    claim = _claim()
    classify(claim, liability=Liability.CARRIER, actor="staff:ops")
    decide_remedy(claim, remedy=RemedyKind.RESHIP, amount=None, actor="staff:ops")
    with pytest.raises(Conflict):
        close(claim, actor="staff:ops")
    close(claim, actor="staff:ops", note="Below the carrier's minimum; not worth filing.")
    assert claim.state == ClaimState.CLOSED


def test_one_open_claim_per_shipment_and_kind(app) -> None:
    claim = _claim()
    shipment = db.session.get(Shipment, claim.shipment_id)
    with pytest.raises(Conflict) as twice:
        open_claim(ClaimCandidate(shipment, ClaimKind.LOST, "again", {}), actor="shop:api")
    assert claim.reference in twice.value.message
    other = open_claim(ClaimCandidate(shipment, ClaimKind.DAMAGED, "photos", {}), actor="customer")
    assert other.kind == ClaimKind.DAMAGED


def test_the_rules_file_is_checked(tmp_path) -> None:
    rules = load_rules()
    assert rules.checked == date(2026, 12, 1)
    assert rules.for_carrier("ups").sources == ("U1", "U3", "U4", "SR1")
    with pytest.raises(RulesError, match="after"):
        parse_rules(
            'checked = "2026-12-01"\n[detection]\nlost_quiet_business_days_domestic = 7\n'
            "lost_quiet_business_days_international = 20\nlost_past_expected_business_days = 2\n"
            "lost_p_lost_threshold = 0.8\nfailed_attempts_exhausted = 3\ndnr_min_days_after_delivery = 2\n"
            "warn_days_before_last_day = 10\n[carriers.ups]\n"
            'sources = []\nlost_earliest = { after = "tomorrow", days = 1 }\n'
        )
    with pytest.raises(RulesError):
        parse_rules("checked = 12")
