"""Claims open themselves: each rule on the exact business day it must fire, with its evidence; a parcel
that turns up cancels its lost claim; one open claim per shipment and kind, also with workers racing."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.claims.detection import detect_claims
from app.extensions import db
from app.models import Claim, ClaimEvent, ClaimKind, ClaimState, Notification, TrackingEvent
from app.tracking.updates import process_updates
from carriers.model import Reason, Status, TrackingUpdate
from carriers.model import TrackingEvent as CarrierEvent
from tests.factories import make_shipment, make_shop

OSLO = "Europe/Oslo"


def _silent_since(scan: datetime, **overrides):
    shop, _ = make_shop()
    values = {
        "status": Status.IN_TRANSIT,
        "last_event_at": scan,
        "shipped_at": scan - timedelta(hours=2),
        "created_at": scan - timedelta(hours=3),
        "origin_country": "NO",
        "destination_country": "NO",
        "customer_timezone": OSLO,
        "customer_email": "kari@example.no",
        "declared_value": Decimal("800.00"),
        "currency": "NOK",
        "promised_date": scan.date() + timedelta(days=2),
    }
    return make_shipment(shop, **(values | overrides))


def _claims() -> list[Claim]:
    return list(db.session.scalars(select(Claim).order_by(Claim.id)))


def _local_midnight(day: date) -> datetime:
    """00:00 in Oslo on `day` (winter: UTC+1)."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(hours=1)


@pytest.mark.parametrize(
    ("scan_day", "fires_on"),
    [
        (date(2026, 12, 4), date(2026, 12, 15)),  # Friday: 7 business days → Tuesday after next
        (date(2026, 12, 5), date(2026, 12, 15)),  # a Saturday scan counts from Friday
        (date(2026, 12, 17), date(2026, 12, 29)),  # across Christmas: 25 Dec is a holiday (24 Dec is not)
    ],
)
def test_no_scan_fires_on_the_seventh_business_day_in_the_customers_calendar(app, scan_day, fires_on) -> None:
    shipment = _silent_since(datetime(scan_day.year, scan_day.month, scan_day.day, 14, tzinfo=UTC))
    day_before = _local_midnight(fires_on) - timedelta(minutes=1)
    assert detect_claims(now=day_before).opened == {}
    assert _claims() == []

    stats = detect_claims(now=_local_midnight(fires_on) + timedelta(minutes=1))
    assert dict(stats.opened) == {"no_scan": 1}
    (claim,) = _claims()
    assert (claim.shipment_id, claim.kind, claim.state, claim.rule) == (
        shipment.id,
        ClaimKind.LOST,
        ClaimState.OPENED,
        "no_scan",
    )
    assert claim.evidence["quiet_business_days"] == 7
    assert claim.evidence["threshold_business_days"] == 7
    assert claim.evidence["fired_on"] == fires_on.isoformat()


def test_international_parcels_wait_twenty_business_days(app) -> None:
    scan = datetime(2026, 11, 2, 12, tzinfo=UTC)  # a Monday
    _silent_since(scan, origin_country="DK", destination_country="NO")
    assert detect_claims(now=datetime(2026, 11, 27, 12, tzinfo=UTC)).opened == {}  # 19 business days
    assert dict(detect_claims(now=datetime(2026, 11, 30, 12, tzinfo=UTC)).opened) == {"no_scan": 1}


def test_silence_waits_for_the_carriers_earliest_filing_day(app) -> None:
    # PostNord deems a parcel lost 30 days after acceptance: 7 quiet business days are not enough.
    scan = datetime(2026, 11, 2, 12, tzinfo=UTC)
    _silent_since(scan, carrier="postnord", shipped_at=scan)
    assert detect_claims(now=datetime(2026, 11, 20, 12, tzinfo=UTC)).opened == {}
    assert detect_claims(now=datetime(2026, 12, 1, 22, 59, tzinfo=UTC)).opened == {}
    opened = detect_claims(now=datetime(2026, 12, 1, 23, 1, tzinfo=UTC)).opened
    assert dict(opened) == {"no_scan": 1}
    (claim,) = _claims()
    assert claim.evidence["earliest_file_at"] == "2026-12-01T23:00:00+00:00"  # 2 Dec, 00:00 in Oslo


def test_high_p_lost_opens_a_claim_once_the_carrier_allows_it(app) -> None:
    # UPS: earliest 24 h after the expected delivery (end of the promised day, local time).
    scan = datetime(2026, 11, 30, 9, tzinfo=UTC)
    shipment = _silent_since(scan, carrier="ups", promised_date=date(2026, 12, 1), p_lost=0.92)
    end_of_promised_day = datetime(2026, 12, 1, 23, tzinfo=UTC)  # midnight in Oslo
    assert detect_claims(now=end_of_promised_day + timedelta(hours=23)).opened == {}
    assert dict(detect_claims(now=end_of_promised_day + timedelta(hours=24, minutes=1)).opened) == {
        "p_lost": 1
    }
    (claim,) = _claims()
    assert claim.evidence["p_lost"] == 0.92 and claim.shipment_id == shipment.id


def _update(shipment, *events: CarrierEvent) -> TrackingUpdate:
    return TrackingUpdate(shipment.carrier, shipment.tracking_number, events[-1].status, events=events)


def _scan(at: datetime, status: Status, code: str, reason: Reason | None = None) -> CarrierEvent:
    return CarrierEvent(occurred_at=at, status=status, carrier_code=code, description=code, reason=reason)


def test_a_carrier_lost_code_opens_a_claim_in_the_same_update_and_tells_the_customer(app) -> None:
    scan = datetime(2026, 12, 1, 9, tzinfo=UTC)
    shipment = _silent_since(scan, carrier="ups", tracking_number="1Z999AA10123456784")
    lost = _scan(scan + timedelta(hours=5), Status.EXCEPTION, "068", Reason.LOST)
    process_updates([(shipment, _update(shipment, lost))], source="poll", now=scan + timedelta(hours=6))
    db.session.commit()
    (claim,) = _claims()
    assert (claim.kind, claim.rule, claim.evidence["carrier_code"]) == (
        ClaimKind.LOST,
        "carrier_lost_code",
        "068",
    )
    assert claim.acknowledged_at == scan + timedelta(hours=6)
    rows = db.session.scalars(select(Notification).where(Notification.trigger == "claim_opened")).all()
    assert [row.channel for row in rows] == ["email"]
    assert claim.reference in rows[0].subject
    assert db.session.scalar(select(ClaimEvent.action).where(ClaimEvent.claim_id == claim.id)) == "opened"


def test_a_later_delivery_scan_cancels_the_lost_claim_and_tells_everyone(app) -> None:
    scan = datetime(2026, 12, 4, 14, tzinfo=UTC)
    shipment = _silent_since(scan)
    detect_claims(now=datetime(2026, 12, 15, 12, tzinfo=UTC))
    (claim,) = _claims()
    delivered = _scan(datetime(2026, 12, 16, 10, tzinfo=UTC), Status.DELIVERED, "DELIVERED")
    process_updates([(shipment, _update(shipment, delivered))], source="poll", now=delivered.occurred_at)
    db.session.commit()
    db.session.refresh(claim)
    assert (claim.state, claim.open_key) == (ClaimState.CANCELLED, None)
    resolved = db.session.scalar(select(Notification).where(Notification.trigger == "claim_resolved"))
    assert "turned up" in resolved.body_text
    # It stays cancelled: the next run opens nothing for a delivered parcel.
    assert detect_claims(now=datetime(2026, 12, 20, 12, tzinfo=UTC)).opened == {}


def test_damage_and_return_codes_open_their_own_kinds(app) -> None:
    scan = datetime(2026, 12, 1, 9, tzinfo=UTC)
    damaged = _silent_since(scan, carrier="ups", tracking_number="1Z999AA10123456785")
    returned = _silent_since(scan, carrier="bring", tracking_number="70438101015432114")
    db.session.add(
        TrackingEvent(
            shipment_id=damaged.id,
            occurred_at=scan,
            status=Status.EXCEPTION,
            reason=Reason.DAMAGED,
            carrier_code="059",
            content_hash="d1",
            source="poll",
        )
    )
    returned.status, returned.reason = Status.RETURNING, Reason.REFUSED
    db.session.commit()
    detect_claims(now=scan + timedelta(hours=1))
    assert {(c.shipment_id, c.kind, c.rule) for c in _claims()} == {
        (damaged.id, ClaimKind.DAMAGED, "carrier_damage_code"),
        (returned.id, ClaimKind.REFUSED, "refused_by_receiver"),
    }


def test_exhausted_delivery_attempts_open_a_failed_delivery_claim(app) -> None:
    scan = datetime(2026, 12, 1, 9, tzinfo=UTC)
    shipment = _silent_since(scan, status=Status.FAILED_ATTEMPT)
    for day in range(3):
        db.session.add(
            TrackingEvent(
                shipment_id=shipment.id,
                occurred_at=scan + timedelta(days=day),
                status=Status.FAILED_ATTEMPT,
                carrier_code="NOT_HOME",
                content_hash=f"f{day}",
                source="poll",
            )
        )
    db.session.commit()
    detect_claims(now=scan + timedelta(days=3))
    (claim,) = _claims()
    assert (claim.kind, claim.evidence) == (
        ClaimKind.FAILED_DELIVERY,
        {"failed_attempts": 3, "threshold": 3},
    )


def test_runs_again_open_nothing_twice(app) -> None:
    _silent_since(datetime(2026, 12, 4, 14, tzinfo=UTC))
    now = datetime(2026, 12, 15, 12, tzinfo=UTC)
    assert dict(detect_claims(now=now).opened) == {"no_scan": 1}
    assert detect_claims(now=now + timedelta(days=1)).opened == {}
    assert db.session.scalar(select(func.count()).select_from(Claim)) == 1


def test_two_detection_runs_racing_open_one_claim(app) -> None:
    for n in range(20):
        _silent_since(datetime(2026, 12, 4, 14, tzinfo=UTC), tracking_number=f"7043810101543{n:04d}")
    now = datetime(2026, 12, 15, 12, tzinfo=UTC)
    barrier = threading.Barrier(2)
    errors = []

    def run() -> None:
        with app.app_context():
            try:
                barrier.wait()
                detect_claims(now=now, batch_size=7)
            except Exception as error:  # noqa: BLE001  (reported below)
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert db.session.scalar(select(func.count()).select_from(Claim)) == 20
    opened_events = db.session.scalar(
        select(func.count()).select_from(ClaimEvent).where(ClaimEvent.action == "opened")
    )
    assert opened_events == 20
    acks = db.session.scalar(
        select(func.count()).select_from(Notification).where(Notification.trigger == "claim_opened")
    )
    assert acks == 20
