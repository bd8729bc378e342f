"""A demo shop with parcels across every carrier, for the embedded default and `leveranse demo`."""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from app.extensions import db
from app.models import ApiKey, Role, Shipment, Shop, StaffUser
from app.models.types import utcnow
from app.tracking.registration import register_shipments
from carriers.numbers import make_tracking_number
from carriers.registry import CARRIERS

DEMO_SHOP_NAME = "Nordlys Sport (demo)"
DEMO_TIMEZONE = "Europe/Oslo"
DEMO_LANES = {
    "bring": ("NO", "0150", "NO", "5003"),
    "postnord": ("SE", "11122", "DK", "8000"),
    "dhl": ("DE", "10115", "NO", "7010"),
    "ups": ("US", "10001", "US", "94105"),
    "fedex": ("US", "38118", "US", "60601"),
    "usps": ("US", "20001", "US", "33101"),
    "gls": ("DK", "5000", "DE", "20095"),
    "thailandpost": ("TH", "10110", "TH", "50200"),
}
_LANGUAGES = {"NO": "nb", "DK": "da", "TH": "th"}
_CURRENCIES = {"NO": "NOK", "SE": "SEK", "DK": "DKK", "DE": "EUR", "US": "USD", "TH": "THB"}
# The claims story of the demo: a USPS parcel that went silent 18 days ago (past USPS's 15-day earliest
# filing day), so a lost claim opens, is filed with the sandbox's claims API and resolved in minutes.
SILENT_PARCEL = ("usps", "stuck", timedelta(days=20))
# Mostly happy parcels, and every kind of trouble the dashboard, notifications and claims react to.
_SCENARIOS = ["on_time"] * 6 + [
    "late",
    "late",
    "failed_attempt_then_pickup",
    "stuck",
    "lost",
    "damaged",
    "returned",
]
PROMISED_HOURS = 44


def demo_promise(started: datetime) -> date:
    """The day the shop promises: when an on-time sandbox parcel arrives, as a day where the customer is
    (the shop's zone: demo customers give none of their own)."""
    return (started + timedelta(hours=PROMISED_HOURS)).astimezone(ZoneInfo(DEMO_TIMEZONE)).date()


#: registers a number with the sandbox: (carrier, tracking number, scenario, started at)
SandboxRegistrar = Callable[[str, str, str, datetime], object]


def demo_shop() -> Shop | None:
    """The demo shop, once seeded."""
    return db.session.scalar(select(Shop).where(Shop.name == DEMO_SHOP_NAME))


def seed_demo(count: int, register: SandboxRegistrar | None = None, seed: int = 7) -> tuple[Shop, str | None]:
    """Create the demo shop and `count` parcels at every stage (once); returns the shop and its new key."""
    existing = demo_shop()
    if existing is not None:
        return existing, None
    shop = Shop(name=DEMO_SHOP_NAME, default_language="nb", default_timezone=DEMO_TIMEZONE)
    db.session.add(shop)
    _, plain = ApiKey.issue(shop, "demo")
    db.session.flush()
    add_demo_shipments(shop, count, register, rng=random.Random(seed), max_age_hours=100)
    _add_silent_parcel(shop, register)
    db.session.commit()
    return shop, plain


def add_demo_shipments(
    shop: Shop, count: int, register: SandboxRegistrar | None, *, rng: random.Random, max_age_hours: float = 0
) -> list[Shipment]:
    """Register `count` demo parcels (started up to `max_age_hours` ago) with us and with the sandbox."""
    now = utcnow()
    codes = sorted(CARRIERS)
    first = db.session.scalar(select(func.count()).select_from(Shipment).where(Shipment.shop_id == shop.id))
    plans = []
    for index in range(first, first + count):
        carrier = codes[index % len(codes)]
        started = now - timedelta(hours=rng.uniform(0, max_age_hours))
        plans.append((carrier, index, _SCENARIOS[index % len(_SCENARIOS)], started))
    return _register(shop, plans, register, rng)


def _add_silent_parcel(shop: Shop, register: SandboxRegistrar | None) -> None:
    carrier, scenario, age = SILENT_PARCEL
    plan = (carrier, 100_000, scenario, utcnow() - age)
    _register(shop, [plan], register, random.Random(999))


def _register(
    shop: Shop,
    plans: list[tuple[str, int, str, datetime]],
    register: SandboxRegistrar | None,
    rng: random.Random,
) -> list[Shipment]:
    items = []
    for carrier, index, scenario, started in plans:
        origin_country, origin_postcode, dest_country, dest_postcode = DEMO_LANES[carrier]
        number = make_tracking_number(carrier, 1000 + index)
        if register is not None:
            register(carrier, number, scenario, started)
        items.append(
            {
                "carrier": carrier,
                "tracking_number": number,
                "order_ref": f"DEMO-{10000 + index}",
                "service": "standard",
                "customer": {
                    "name": f"Demo Customer {index}",
                    "email": f"customer{index}@example.com",
                    "language": _LANGUAGES.get(dest_country, "en"),
                },
                "origin": {"country": origin_country, "postcode": origin_postcode},
                "destination": {"country": dest_country, "postcode": dest_postcode},
                "shipped_at": started,
                "promised_date": demo_promise(started),
                "declared_value": Decimal(rng.choice([199, 499, 899, 2499, 5990])),
                "currency": _CURRENCIES[origin_country],
                "weight_kg": Decimal(rng.choice(["0.4", "1.2", "2.5", "6.0"])),
            }
        )
    return [shipment for shipment, _ in register_shipments(shop, items)]


def seed_demo_staff() -> tuple[str, str]:
    """An admin for the demo dashboard with a random password; returns (email, password)."""
    email, password = "demo@leveranse.test", secrets.token_urlsafe(12)
    user = db.session.scalar(select(StaffUser).where(StaffUser.email == email)) or StaffUser(email=email)
    user.role = Role.ADMIN.value
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return email, password


def stream_demo_shipments(register: SandboxRegistrar, per_run: int = 2) -> int:
    """Demo job: new orders keep shipping, so the demo never runs dry."""
    shop = demo_shop()
    if shop is None:
        return 0
    added = add_demo_shipments(shop, per_run, register, rng=random.Random())
    db.session.commit()
    return len(added)
