"""Staff analytics benchmark: every analytics page and the operations page over 100,000 shipments and
1,000,000 tracking events.

Builds a year of shipments (eight carriers, services, lanes, 80 % delivered, a tenth of them late, scans,
exceptions, claims, outbox rows and opt-outs) with SQLAlchemy Core bulk inserts in a temporary SQLite file,
and again in PostgreSQL when LEVERANSE_BENCH_DATABASE_URL is set (a scratch database: its tables are
dropped and created). Then a signed-in viewer requests each page `--repeat` times with the default range
(the last 12 weeks) and once more with a whole year; prints p50, p95 and max milliseconds per page.

    python bench/staff_analytics.py [--shipments 100000] [--events-per-shipment 10] [--repeat 20]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, text  # noqa: E402

from app import create_app  # noqa: E402
from app.analytics.pages import PAGES  # noqa: E402
from app.config import Config  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import Claim, Notification, Role, Shipment, Shop, StaffUser, TrackingEvent, Unsubscribe  # noqa: E402
from app.models.types import utcnow  # noqa: E402

CARRIERS = {
    "bring": (["Pakke i postkassen", "Pakke til hentested", "Bedriftspakke"], ["NO"]),
    "postnord": (["MyPack Collect", "MyPack Home"], ["SE", "DK", "NO", "FI"]),
    "dhl": (["Parcel Connect", "Express"], ["DE", "NL", "NO", "SE"]),
    "ups": (["Standard", "Express Saver"], ["US", "DE", "GB"]),
    "fedex": (["International Priority"], ["US", "GB"]),
    "usps": (["Ground Advantage", "Priority Mail"], ["US"]),
    "gls": (["Business Parcel"], ["DK", "DE", "NL"]),
    "thailandpost": (["EMS"], ["TH"]),
}
REASONS = ["weather", "customs", "address_problem", "recipient_unavailable", "carrier_delay", "damaged"]
STEPS = [
    "in_transit",
    "in_transit",
    "in_transit",
    "in_transit",
    "in_transit",
    "in_transit",
    "out_for_delivery",
]


def build(count: int, per_shipment: int, now: datetime, seed: int = 11) -> dict[str, list[dict]]:
    """Rows for every table, as dicts for Core inserts."""
    rng = random.Random(seed)
    rows: dict[str, list[dict]] = {
        "shipment": [],
        "event": [],
        "claim": [],
        "notification": [],
        "unsubscribe": [],
    }
    names = sorted(CARRIERS)
    event_id = 0
    for n in range(1, count + 1):
        carrier = names[n % len(names)]
        services, countries = CARRIERS[carrier]
        shipped = now - timedelta(days=rng.uniform(0, 365))
        transit = timedelta(days=rng.choice([1, 1, 2, 2, 2, 3, 3, 4, 6]), hours=rng.uniform(-6, 6))
        promised = (shipped + timedelta(days=3)).date()
        delivered = shipped + transit if shipped + transit < now and rng.random() < 0.95 else None
        late = delivered is not None and delivered.date() > promised
        rows["shipment"].append(
            {
                "id": n,
                "shop_id": 1 + n % 10,
                "carrier": carrier,
                "service": services[n % len(services)],
                "tracking_number": f"BENCH{n:09d}",
                "link_token": f"bench-{n}",
                "origin_country": countries[n % len(countries)],
                "destination_country": countries[(n // 7) % len(countries)],
                "shipped_at": shipped,
                "promised_date": promised,
                "delivered_at": delivered,
                "status": "delivered" if delivered else "in_transit",
                "poll_failures": 0,
                "p_late": min(max(rng.gauss(0.6 if late else 0.2, 0.15), 0.0), 1.0),
                "eta_p50": shipped + timedelta(days=2),
                "eta_p10": shipped + timedelta(days=1),
                "eta_p90": shipped + timedelta(days=4),
                "risk_computed_at": shipped + timedelta(days=1),
                "last_event_at": delivered or shipped + timedelta(hours=20),
                "last_checked_at": min(now, (delivered or now) + timedelta(minutes=5)),
                "next_poll_at": None if delivered else now + timedelta(minutes=rng.uniform(-30, 60)),
                "created_at": shipped,
                "updated_at": shipped,
            }
        )
        end = delivered or min(now, shipped + timedelta(days=3))
        span = (end - shipped) / per_shipment
        exception = rng.random() < 0.04
        for step in range(per_shipment):
            event_id += 1
            if step == 0:
                status, moment = "info_received", shipped - timedelta(hours=1)
            elif step == per_shipment - 1 and delivered:
                status, moment = "delivered", delivered
            elif exception and step == per_shipment // 2:
                status, moment = "exception", shipped + span * step
            else:
                status, moment = (
                    STEPS[step % len(STEPS)],
                    shipped + span * step + timedelta(hours=rng.uniform(0, 8)),
                )
            rows["event"].append(
                {
                    "id": event_id,
                    "shipment_id": n,
                    "occurred_at": moment,
                    "status": status,
                    "reason": rng.choice(REASONS) if status == "exception" else None,
                    "carrier_code": status.upper()[:20],
                    "description": "",
                    "location": "",
                    "informational": False,
                    "tz_assumed": False,
                    "source": "poll",
                    "content_hash": f"{n}-{step}",
                    "received_at": moment,
                }
            )
        if rng.random() < 0.01:
            opened = shipped + timedelta(days=5)
            closed = opened + timedelta(days=rng.uniform(2, 40)) if rng.random() < 0.6 else None
            rows["claim"].append(
                {
                    "reference": f"C-{n:07d}",
                    "shop_id": 1 + n % 10,
                    "shipment_id": n,
                    "kind": "lost",
                    "state": "closed" if closed else "submitted",
                    "version": 1,
                    "source": "detection",
                    "rule": "no_scan",
                    "evidence": {},
                    "currency": "NOK",
                    "claim_amount": Decimal("500.00"),
                    "approved_amount": Decimal("300.00") if closed else None,
                    "submitted_at": opened + timedelta(days=1),
                    "opened_at": opened,
                    "closed_at": closed,
                    "updated_at": opened,
                }
            )
        if n % 2 == 0:
            channel = "email" if n % 6 else "sms"
            rows["notification"].append(
                {
                    "dedupe_key": f"s{n}:delivered:1:{channel}",
                    "shop_id": 1 + n % 10,
                    "shipment_id": n,
                    "channel": channel,
                    "trigger": "delivered",
                    "recipient": "x",
                    "body_text": "",
                    "state": "dead" if n % 97 == 0 else "sent" if delivered else "pending",
                    "attempts": 1,
                    "next_attempt_at": shipped,
                    "created_at": shipped,
                    "updated_at": shipped,
                }
            )
        if n % 500 == 0:
            rows["unsubscribe"].append(
                {
                    "shop_id": 1 + n % 10,
                    "channel": "email",
                    "address": f"u{n}@x.no",
                    "source": "link",
                    "created_at": shipped,
                }
            )
    return rows


def _bulk(table, rows: list[dict], size: int = 20000) -> None:
    for start in range(0, len(rows), size):
        db.session.execute(insert(table), rows[start : start + size])


def _time(client, path: str, repeat: int) -> dict:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(path)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    timings.sort()
    p95 = timings[min(len(timings) - 1, max(0, round(0.95 * len(timings)) - 1))]
    return {"p50_ms": round(statistics.median(timings)), "p95_ms": round(p95), "max_ms": round(timings[-1])}


def run(database_url: str, count: int, per_shipment: int, repeat: int) -> dict:
    """Build the data in `database_url`, time every page, return the figures."""
    app = create_app(Config, SQLALCHEMY_DATABASE_URI=database_url, LOG_LEVEL="WARNING", SECRET_KEY="bench")
    now = utcnow()
    started = time.perf_counter()
    rows = build(count, per_shipment, now)
    with app.app_context():
        db.drop_all()
        db.create_all()
        db.session.execute(insert(Shop.__table__), [{"id": n, "name": f"shop {n}"} for n in range(1, 11)])
        _bulk(Shipment.__table__, rows["shipment"])
        _bulk(TrackingEvent.__table__, rows["event"])
        _bulk(Claim.__table__, rows["claim"])
        _bulk(Notification.__table__, rows["notification"])
        _bulk(Unsubscribe.__table__, rows["unsubscribe"])
        user = StaffUser(email="bench@shop.test", role=Role.VIEWER.value, password_hash="-")
        db.session.add(user)
        db.session.commit()
        session_id = user.get_id()
        with db.engine.begin() as connection:
            connection.execute(text("ANALYZE"))
        db.session.remove()
    figures = {"event_rows": len(rows["event"]), "claims": len(rows["claim"])}
    del rows
    build_seconds = time.perf_counter() - started
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"], session["_fresh"] = session_id, True
    pages = {}
    for key in PAGES:
        client.get(f"/staff/analytics/{key}")  # warm-up: templates, the risk model cache
        pages[key] = _time(client, f"/staff/analytics/{key}", repeat)
    year = (now.date() - timedelta(days=364)).isoformat()
    pages["delivery (365 days)"] = _time(
        client, f"/staff/analytics/delivery?since={year}", max(repeat // 4, 3)
    )
    pages["transit (365 days)"] = _time(client, f"/staff/analytics/transit?since={year}", max(repeat // 4, 3))
    pages["csv on-time-carrier"] = _time(
        client, "/staff/analytics/delivery?format=csv&chart=on-time-carrier", repeat
    )
    client.get("/staff/operations/")
    pages["operations"] = _time(client, "/staff/operations/", repeat)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return {
        "database": database_url.split(":", 1)[0],
        "shipments": count,
        **figures,
        "build_seconds": round(build_seconds, 1),
        "pages": pages,
        "worst_p95_ms_default_range": max(
            v["p95_ms"] for k, v in pages.items() if k in PAGES or k == "operations"
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shipments", type=int, default=100_000)
    parser.add_argument("--events-per-shipment", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        result = run(f"sqlite:///{folder}/bench.db", args.shipments, args.events_per_shipment, args.repeat)
        print(json.dumps(result, indent=2))
    url = os.environ.get("LEVERANSE_BENCH_DATABASE_URL")
    if url:
        print(json.dumps(run(url, args.shipments, args.events_per_shipment, args.repeat), indent=2))


if __name__ == "__main__":
    main()
