"""Plain builders for test data and the credentials the local stand-in servers accept."""

from __future__ import annotations

import hashlib
from datetime import date, datetime

from app.extensions import db
from app.models import ApiKey, Role, Shipment, Shop, StaffUser, TrackingEvent

PASSWORD = "correct horse battery"
# The SMS provider stand-in and the webhook receiver fixtures (tests/conftest.py) accept these.
SMS_ACCOUNT_SID = "ACtest"
SMS_AUTH_TOKEN = "secret-token"
WEBHOOK_SECRET = "whsec_test"


def make_shop(name: str = "Test shop") -> tuple[Shop, str]:
    """A shop and its plain API key."""
    shop = Shop(name=name)
    db.session.add(shop)
    _, plain = ApiKey.issue(shop, "test")
    db.session.commit()
    return shop, plain


def make_shipment(shop: Shop, **overrides) -> Shipment:
    """A committed shipment with sensible defaults."""
    values = {
        "carrier": "bring",
        "tracking_number": "70438101015432113",
        "status": "pending",
        "poll_failures": 0,
        "promised_date": date(2026, 11, 25),
        "shipped_at": datetime.fromisoformat("2026-11-23T10:00:00+00:00"),
    }
    values.update(overrides)
    shipment = Shipment(shop_id=shop.id, **values)
    db.session.add(shipment)
    db.session.commit()
    return shipment


def add_event(shipment: Shipment, occurred_at: datetime, status: str, reason: str | None = None) -> None:
    """A committed carrier scan of `shipment`."""
    db.session.add(
        TrackingEvent(
            shipment_id=shipment.id,
            occurred_at=occurred_at,
            status=status,
            reason=reason,
            carrier_code=status.upper(),
            content_hash=hashlib.sha1(
                f"{shipment.id}|{occurred_at.isoformat()}|{status}".encode()
            ).hexdigest(),
            source="poll",
        )
    )
    db.session.commit()


def make_staff(email: str = "ops@shop.test", role: Role = Role.VIEWER) -> StaffUser:
    """A committed staff user whose password is PASSWORD."""
    user = StaffUser(email=email, role=role.value)
    user.set_password(PASSWORD)
    db.session.add(user)
    db.session.commit()
    return user
