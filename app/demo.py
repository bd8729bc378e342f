"""A demo shop with parcels across every carrier, for the embedded default and `leveranse demo`."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from app.extensions import db
from app.models import ApiKey, Shop
from app.models.types import utcnow
from app.registration import register_shipments
from carriers.numbers import make_tracking_number
from carriers.registry import CARRIERS

DEMO_SHOP_NAME = "Nordlys Sport (demo)"
_LANES = {
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


def seed_demo(count: int, seed: int = 7) -> tuple[Shop, str | None]:
    """Create the demo shop and `count` shipments (once); returns the shop and a new API key if created."""
    existing = db.session.scalar(select(Shop).where(Shop.name == DEMO_SHOP_NAME))
    if existing is not None:
        return existing, None
    rng = random.Random(seed)
    shop = Shop(name=DEMO_SHOP_NAME, default_language="nb", default_timezone="Europe/Oslo")
    db.session.add(shop)
    _, plain = ApiKey.issue(shop, "demo")
    db.session.flush()
    today = utcnow().date()
    codes = sorted(CARRIERS)
    items = []
    for index in range(count):
        carrier = codes[index % len(codes)]
        origin_country, origin_postcode, dest_country, dest_postcode = _LANES[carrier]
        items.append(
            {
                "carrier": carrier,
                "tracking_number": make_tracking_number(carrier, 1000 + index),
                "order_ref": f"DEMO-{10000 + index}",
                "service": "standard",
                "customer": {
                    "name": f"Demo Customer {index}",
                    "email": f"customer{index}@example.test",
                    "language": _LANGUAGES.get(dest_country, "en"),
                },
                "origin": {"country": origin_country, "postcode": origin_postcode},
                "destination": {"country": dest_country, "postcode": dest_postcode},
                "shipped_at": utcnow() - timedelta(hours=rng.randint(1, 30)),
                "promised_date": today + timedelta(days=rng.randint(1, 4)),
                "declared_value": Decimal(rng.choice([199, 499, 899, 2499, 5990])),
                "currency": "NOK",
            }
        )
    register_shipments(shop, items)
    db.session.commit()
    return shop, plain
