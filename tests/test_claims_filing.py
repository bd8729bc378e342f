"""Claims filed with the carrier and followed to the end by the claims job: over real HTTP to the sandbox
USPS claims API; portal carriers get a pack and a deadline warning; nothing is filed twice."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.claims.detection import detect_claims
from app.claims.progress import advance_claims, auto_remedies
from app.claims.service import ClaimCandidate, classify, decide_remedy, open_claim
from app.claims.submission import pack, submit
from app.errors import Conflict
from app.extensions import db
from app.models import Claim, ClaimEvent, ClaimKind, ClaimState, Liability, Notification, RemedyKind
from app.tracking.updates import process_updates
from carriers.model import Status, TrackingUpdate
from carriers.model import TrackingEvent as CarrierEvent
from carriers.sandbox.faults import FaultKind, FaultSpec
from carriers.sandbox.server import SandboxServer, SandboxSettings
from tests.factories import make_shipment, make_shop

START = datetime(2026, 12, 1, 8, tzinfo=UTC)


@pytest.fixture
def sandbox(app):
    with SandboxServer(SandboxSettings(speed=0, start=START)) as server:
        app.config.update(
            SANDBOX_URL=server.url,
            CARRIER_MODE="sandbox",
            CARRIER_TIMEOUT_SECONDS=2.0,
            CLAIM_AUTO_REMEDY="lost=refund",
        )
        app.extensions.pop("leveranse_claim_filers", None)
        yield server
        app.extensions.pop("leveranse_claim_filers", None)


def _usps_parcel(number: str = "9400100000000000000001", **overrides):
    shop, _ = make_shop("Nordic Goods")
    shop.claims_email = "claims@nordicgoods.test"
    values = {
        "carrier": "usps",
        "tracking_number": number,
        "status": Status.IN_TRANSIT,
        "shipped_at": START - timedelta(days=20),
        "last_event_at": START - timedelta(days=18),
        "created_at": START - timedelta(days=21),
        "promised_date": date(2026, 11, 16),
        "declared_value": Decimal("80.00"),
        "currency": "USD",
        "origin_country": "US",
        "destination_country": "US",
        "customer_email": "sam@example.com",
        "customer_timezone": "America/New_York",
    }
    return make_shipment(shop, **(values | overrides))


def test_a_silent_usps_parcel_is_claimed_filed_paid_and_closed_by_the_jobs(app, sandbox) -> None:
    shipment = _usps_parcel()
    assert dict(detect_claims(now=START).opened) == {"no_scan": 1}
    first = advance_claims(now=START)
    assert (first["classified"], first["remedy_decided"], first["submitted"]) == (1, 1, 1)
    claim = db.session.scalar(select(Claim))
    assert claim.state == ClaimState.SUBMITTED and claim.carrier_claim_id
    assert claim.filed_in_time is True
    assert sandbox.stats()["requests"]["usps"]["claim_create"] == 1

    sandbox.advance(26 * 3600)  # the sandbox's adjuster decides after a day
    second = advance_claims(now=START + timedelta(days=1))
    assert second["carrier_answered"] == 1 and second["closed"] == 1
    db.session.refresh(claim)
    assert (claim.state, claim.approved_amount, claim.remedy_kind) == (
        ClaimState.CLOSED,
        Decimal("80.00"),
        RemedyKind.REFUND,
    )
    # Running again files nothing twice and tells nobody twice.
    advance_claims(now=START + timedelta(days=2))
    assert sandbox.stats()["requests"]["usps"]["claim_create"] == 1
    told = db.session.execute(
        select(Notification.trigger).where(
            Notification.shipment_id == shipment.id, Notification.channel == "email"
        )
    ).scalars()
    assert sorted(told) == ["claim_opened", "claim_resolved", "claim_updated", "claim_updated"]


def test_a_submission_after_a_timeout_is_filed_once(app, sandbox) -> None:
    _usps_parcel()
    detect_claims(now=START)
    app.config["CARRIER_TIMEOUT_SECONDS"] = 0.3
    sandbox.add_fault(FaultSpec(FaultKind.TIMEOUT, carrier="usps", count=1, delay=1.0))
    assert advance_claims(now=START)["submitted"] == 1
    assert sandbox.stats()["requests"]["usps"]["claim_create"] == 1  # looked up after the timeout
    (stored,) = sandbox.app.claims.store.on_number("usps", "9400100000000000000001")
    assert db.session.scalar(select(Claim.carrier_claim_id)) == stored.claim_id


def test_a_worker_killed_after_filing_but_before_commit_does_not_file_twice(app, sandbox) -> None:
    _usps_parcel()
    detect_claims(now=START)
    claim = db.session.scalar(select(Claim))
    classify(claim, liability=Liability.CARRIER, actor="staff:ops")
    decide_remedy(claim, remedy=RemedyKind.RESHIP, amount=None, actor="staff:ops")
    db.session.commit()
    submit(claim, actor="system:claims", now=START)  # the carrier has it ...
    db.session.rollback()  # ... but the worker died before its commit
    assert db.session.scalar(select(Claim.state)) == ClaimState.REMEDY_DECIDED
    assert advance_claims(now=START)["submitted"] == 1
    assert sandbox.stats()["requests"]["usps"]["claim_create"] == 1
    assert len(sandbox.app.claims.store.on_number("usps", "9400100000000000000001")) == 1


def test_portal_carriers_get_a_pack_and_staff_record_the_carriers_number(app) -> None:
    shop, _ = make_shop()
    shipment = make_shipment(
        shop,
        carrier="postnord",
        status=Status.IN_TRANSIT,
        shipped_at=START - timedelta(days=40),
        declared_value=Decimal("1200.00"),
        currency="SEK",
        weight_kg=Decimal("3.5"),
        origin_country="SE",
        destination_country="SE",
    )
    claim = open_claim(ClaimCandidate(shipment, ClaimKind.LOST, "no_scan", {}), actor="system:detector")
    classify(claim, liability=Liability.CARRIER, actor="staff:ops")
    decide_remedy(claim, remedy=RemedyKind.RESHIP, amount=None, actor="staff:ops")
    form = pack(claim)
    assert form.portal_url.startswith("https://") and any(
        field.value == shipment.tracking_number for field in form.fields
    )
    with pytest.raises(Conflict, match="portal"):
        submit(claim, actor="staff:ops", now=START)
    submit(claim, actor="staff:ops", carrier_claim_id="PN-2026-778812", now=START)
    assert (claim.state, claim.carrier_claim_id) == (ClaimState.SUBMITTED, "PN-2026-778812")


def test_staff_are_warned_before_a_window_closes_and_told_when_it_was_missed(app) -> None:
    shop, _ = make_shop()
    # UPS: notice within 60 days of the promised day; warned 10 days before.
    shipment = make_shipment(
        shop,
        carrier="ups",
        status=Status.EXCEPTION,
        shipped_at=datetime(2026, 10, 1, 12, tzinfo=UTC),
        promised_date=date(2026, 10, 5),
        customer_timezone="Europe/Oslo",
    )
    claim = open_claim(ClaimCandidate(shipment, ClaimKind.LOST, "shop_report", {}), actor="shop:api")
    db.session.commit()
    # 5 Oct + 60 days = 4 Dec: the window ends at midnight in Oslo, after the change to winter time.
    assert claim.file_by == datetime(2026, 12, 4, 23, tzinfo=UTC)
    assert advance_claims(now=datetime(2026, 11, 24, 22, tzinfo=UTC))["warned"] == 0
    assert advance_claims(now=datetime(2026, 11, 24, 23, 30, tzinfo=UTC))["warned"] == 1
    assert advance_claims(now=datetime(2026, 11, 25, 12, tzinfo=UTC))["warned"] == 0  # once
    warning = db.session.scalar(select(ClaimEvent).where(ClaimEvent.action == "deadline_warning"))
    assert "closes in 10 days" in warning.note

    late = open_claim(
        ClaimCandidate(shipment, ClaimKind.DAMAGED, "shop_report", {}),
        actor="shop:api",
        now=datetime(2026, 12, 10, tzinfo=UTC),
    )
    late.file_by = datetime(2026, 12, 9, tzinfo=UTC)
    db.session.commit()
    advance_claims(now=datetime(2026, 12, 10, tzinfo=UTC))
    db.session.refresh(late)
    assert late.filed_in_time is False
    assert (
        db.session.scalar(
            select(func.count()).select_from(ClaimEvent).where(ClaimEvent.action == "window_missed")
        )
        == 1
    )


def test_auto_remedy_setting_is_parsed_strictly() -> None:
    assert auto_remedies("lost=reship, not_received=refund") == {
        ClaimKind.LOST: RemedyKind.RESHIP,
        ClaimKind.NOT_RECEIVED: RemedyKind.REFUND,
    }
    assert auto_remedies("") == {}
    with pytest.raises(ValueError):
        auto_remedies("lost=hug")


def test_ups_claim_codes_in_tracking_move_the_filed_claim_and_warn_when_not_eligible(app) -> None:
    shop, _ = make_shop()
    shipment = make_shipment(
        shop,
        carrier="ups",
        tracking_number="1Z999AA10123456784",
        status=Status.EXCEPTION,
        shipped_at=START - timedelta(days=10),
        declared_value=Decimal("90.00"),
        currency="USD",
    )
    claim = open_claim(ClaimCandidate(shipment, ClaimKind.LOST, "shop_report", {}), actor="shop:api")
    classify(claim, liability=Liability.CARRIER, actor="staff:ops")
    decide_remedy(claim, remedy=RemedyKind.RESHIP, amount=None, actor="staff:ops")
    submit(claim, actor="staff:ops", carrier_claim_id="UPS-4711", now=START)
    db.session.commit()

    def scan(hours: int, code: str) -> CarrierEvent:
        return CarrierEvent(
            occurred_at=START + timedelta(hours=hours),
            status=Status.UNKNOWN,
            carrier_code=code,
            description=code,
        )

    for hours, code in ((1, "I/130"), (30, "X/140")):
        update = TrackingUpdate("ups", shipment.tracking_number, Status.UNKNOWN, events=(scan(hours, code),))
        process_updates([(shipment, update)], source="poll", now=START + timedelta(hours=hours + 1))
        db.session.commit()
        db.session.refresh(claim)
        assert claim.state == (ClaimState.IN_REVIEW if code == "I/130" else ClaimState.APPROVED)
    assert claim.carrier_status.startswith("Claim Paid")

    other = make_shipment(shop, carrier="ups", tracking_number="1Z999AA10123456785", status=Status.EXCEPTION)
    late = open_claim(ClaimCandidate(other, ClaimKind.DAMAGED, "shop_report", {}), actor="shop:api")
    db.session.commit()
    update = TrackingUpdate("ups", other.tracking_number, Status.UNKNOWN, events=(scan(40, "X/2G"),))
    process_updates([(other, update)], source="poll", now=START + timedelta(hours=41))
    db.session.commit()
    warning = db.session.scalar(
        select(ClaimEvent).where(ClaimEvent.claim_id == late.id, ClaimEvent.action == "not_eligible")
    )
    assert "liability period has passed" in warning.note
