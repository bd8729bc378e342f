"""Staff workbench benchmark: the at-risk queue page and customer search over 100,000 shipments and
1,000,000 tracking events.

Builds the data with SQLAlchemy Core bulk inserts in a temporary SQLite file (and again in PostgreSQL when
LEVERANSE_BENCH_DATABASE_URL is set: a scratch database whose tables are dropped and created): shipments of
every carrier on domestic and cross-border lanes, about 8 % of them in an at-risk state, ten events each,
some snoozed, handled or assigned. Then a signed-in staff user requests the queue page (default order,
filters, other sorts, later pages) and searches (tracking number, order reference, email and phone, exact
and prefix) through the whole Flask stack, and the customer page; prints p50/p95/max in milliseconds
against the targets (queue p95 ≤ 200 ms, search p95 ≤ 100 ms).

    python bench/staff_queue.py [--shipments 100000] [--events-per-shipment 10] [--rounds 15]
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
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, text  # noqa: E402

from app import create_app  # noqa: E402
from app.config import Config  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import Role, Shop, StaffUser  # noqa: E402
from app.models.types import utcnow  # noqa: E402

CARRIERS = {
    "bring": "NO",
    "postnord": "SE",
    "dhl": "DE",
    "ups": "US",
    "fedex": "US",
    "usps": "US",
    "gls": "DK",
    "thailandpost": "TH",
}
COUNTRIES = ("NO", "SE", "DK", "DE", "GB", "US", "TH", "FI")
RISK = (("at_risk", 0.05), ("late", 0.02), ("stuck", 0.007), ("lost", 0.003))
SHOPS = 10
CHUNK = 20_000
PASSWORD = "bench password long enough"
QUEUE_TARGET_MS, SEARCH_TARGET_MS = 200, 100


def _risk(rng: random.Random) -> str:
    draw = rng.random()
    for state, share in RISK:
        if draw < share:
            return state
        draw -= share
    return "on_track"


def shipment_rows(count: int, now: datetime, seed: int = 11):
    """Shipment rows in chunks (ids assigned here, so events can point at them)."""
    rng = random.Random(seed)
    carriers = sorted(CARRIERS)
    chunk = []
    for i in range(1, count + 1):
        carrier = carriers[i % len(carriers)]
        origin = CARRIERS[carrier]
        destination = origin if rng.random() < 0.7 else rng.choice(COUNTRIES)
        shipped = now - timedelta(hours=rng.uniform(2, 24 * 20))
        state = _risk(rng)
        p_late = rng.uniform(0.4, 0.99) if state != "on_track" else rng.uniform(0, 0.3)
        chunk.append(
            {
                "id": i,
                "shop_id": 1 + i % SHOPS,
                "carrier": carrier,
                "service": "express" if rng.random() < 0.2 else "standard",
                "tracking_number": f"LV{i:09d}{origin}",
                "order_ref": f"ORD-{i:08d}",
                "link_token": f"tok{i:012d}",
                "customer_name": f"Kunde {i}",
                "customer_email": f"kunde{i // 3}@example{i % 7}.test",  # three parcels per customer
                "customer_phone": f"+47{40000000 + i // 3}",
                "origin_country": origin,
                "destination_country": destination,
                "status": "in_transit" if rng.random() < 0.85 else "delivered",
                "shipped_at": shipped,
                "last_event_at": shipped + timedelta(hours=rng.uniform(1, 40)),
                "promised_date": (shipped + timedelta(days=rng.randint(2, 8))).date(),
                "declared_value": Decimal(rng.randint(50, 5000)),
                "currency": "NOK",
                "p_late": round(p_late, 4),
                "p_lost": round(rng.random() * 0.1, 4),
                "risk_state": state,
                "risk_reasons": [
                    {"key": "slow_lane", "text": "Slower than usual on this lane", "params": {}}
                ],
                "eta_p10": shipped + timedelta(days=2),
                "eta_p50": shipped + timedelta(days=3),
                "eta_p90": shipped + timedelta(days=5),
                "poll_failures": 0,
                "created_at": shipped,
                "updated_at": shipped,
            }
        )
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def event_rows(count: int, per_shipment: int, now: datetime):
    """`per_shipment` scans of every shipment, in chunks."""
    chunk = []
    for i in range(1, count + 1):
        start = now - timedelta(days=20) + timedelta(minutes=i % 10_000)
        for n in range(per_shipment):
            at = start + timedelta(hours=6 * n)
            chunk.append(
                {
                    "shipment_id": i,
                    "occurred_at": at,
                    "status": "in_transit",
                    "carrier_code": "TRANSIT",
                    "description": "In transit",
                    "location": "Terminal",
                    "informational": False,
                    "tz_assumed": False,
                    "source": "poll",
                    "content_hash": f"{i}:{n}",
                    "received_at": at,
                }
            )
            if len(chunk) == CHUNK * 2:
                yield chunk
                chunk = []
    if chunk:
        yield chunk


def _columns(rows: list[dict]) -> list[str]:
    return list(rows[0])


def _plain(value, sqlite: bool):
    """A value as the column stores it: naive UTC datetimes (SQLite: SQLAlchemy's text form), JSON text."""
    if isinstance(value, datetime):
        value = value.astimezone(UTC).replace(tzinfo=None)
        return f"{value:%Y-%m-%d %H:%M:%S.%f}" if sqlite else value
    if isinstance(value, list | dict):
        return json.dumps(value)
    if isinstance(value, Decimal) and sqlite:
        return float(value)
    return value


def bulk_insert(table: str, chunks) -> int:
    """Rows straight through the driver: executemany on SQLite, COPY on PostgreSQL (ORM-free, fast)."""
    sqlite = db.engine.dialect.name == "sqlite"
    raw = db.engine.raw_connection()
    written = 0
    try:
        cursor = raw.cursor()
        if sqlite:
            cursor.execute("PRAGMA synchronous = OFF")
        for rows in chunks:
            columns = _columns(rows)
            values = [tuple(_plain(row[c], sqlite) for c in columns) for row in rows]
            if sqlite:
                marks = ", ".join("?" for _ in columns)
                cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", values)
            else:
                with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for value in values:
                        copy.write_row(value)
            written += len(values)
        raw.commit()
    finally:
        raw.close()
    return written


def seed(count: int, per_shipment: int, now: datetime) -> dict:
    """Everything the pages read; returns the counts and the seconds it took."""
    started = time.perf_counter()
    db.session.execute(insert(Shop.__table__), [{"id": n, "name": f"Shop {n}"} for n in range(1, SHOPS + 1)])
    staff = StaffUser(email="bench@leveranse.test", role=Role.AGENT.value)
    staff.set_password(PASSWORD)
    db.session.add(staff)
    db.session.commit()
    bulk_insert("shipment", shipment_rows(count, now))
    events = bulk_insert("tracking_event", event_rows(count, per_shipment, now))
    rng = random.Random(5)
    triage = [
        {
            "shipment_id": shipment_id,
            "snoozed_until": now + timedelta(days=2) if n % 3 == 0 else None,
            "handled_at": now - timedelta(hours=1) if n % 3 == 1 else None,
            "handled_risk_state": "at_risk" if n % 3 == 1 else None,
            "assignee_id": staff.id if n % 3 == 2 else None,
            "updated_at": now,
        }
        for n, shipment_id in enumerate(rng.sample(range(1, count + 1), count // 50))
    ]
    bulk_insert("shipment_triage", [triage])
    if db.engine.dialect.name == "postgresql":
        # As autovacuum would. Not on SQLite: the service never runs ANALYZE there, and its statistics
        # (an average per value, no histogram) would make the queue's skewed risk_state look unselective.
        with db.engine.begin() as connection:
            connection.execute(text("SELECT setval('shipment_id_seq', (SELECT max(id) FROM shipment))"))
            connection.execute(text("ANALYZE"))
    return {"shipments": count, "events": events, "seed_seconds": round(time.perf_counter() - started, 1)}


def timings(client, paths: list[str], rounds: int) -> dict:
    """Milliseconds per request over every path, `rounds` times (after one warm-up round)."""
    for path in paths:
        assert client.get(path).status_code in (200, 302), path
    samples, slowest = [], {}
    for _ in range(rounds):
        for path in paths:
            started = time.perf_counter()
            response = client.get(path)
            elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code in (200, 302), (path, response.status_code)
            samples.append(elapsed)
            slowest[path] = max(slowest.get(path, 0.0), elapsed)
    samples.sort()
    return {
        "requests": len(samples),
        "p50_ms": round(statistics.median(samples), 1),
        "p95_ms": round(samples[int(len(samples) * 0.95) - 1], 1),
        "max_ms": round(samples[-1], 1),
        "slowest_path": max(slowest, key=slowest.get),
    }


def run(database_url: str, count: int, per_shipment: int, rounds: int) -> dict:
    """Seed `database_url`, time the pages, return the figures."""
    app = create_app(
        Config,
        SQLALCHEMY_DATABASE_URI=database_url,
        LOG_LEVEL="WARNING",
        SECRET_KEY="bench-secret-key-not-for-production",
        WTF_CSRF_ENABLED=False,
        RATELIMIT_ENABLED=False,
    )
    now = utcnow()
    with app.app_context():
        db.drop_all()
        db.create_all()
        seeded = seed(count, per_shipment, now)
        db.session.remove()
    client = app.test_client()
    login = client.post("/staff/login", data={"email": "bench@leveranse.test", "password": PASSWORD})
    assert login.status_code == 302, login.status_code
    some = [count // 2 + k * 3 for k in range(5)]
    queue = [
        "/staff/",
        "/staff/?carrier=postnord",
        "/staff/?lane=NO-SE",
        "/staff/?risk=late&sort=promised",
        "/staff/?sort=age&page=20",
        "/staff/?value_min=1000&value_max=2000&age_min=3",
        "/staff/?promised_from=" + now.date().isoformat(),
        "/staff/?show=all&assignee=me",
        "/staff/?page=60",
    ]
    search = [
        *(f"/staff/search?q=LV{i:09d}" for i in some),  # prefix of the number
        f"/staff/search?q=LV{some[0]:09d}NO",  # exact (redirects to the shipment when unique)
        *(f"/staff/search?q=ORD-{i:08d}" for i in some),
        *(f"/staff/search?q=kunde{i // 3}%40example{i % 7}.test" for i in some),
        *(f"/staff/search?q=%2B47{40000000 + i // 3}" for i in some),
        "/staff/search?q=kunde1234",
    ]
    customers = [f"/staff/customers?email=kunde{i // 3}%40example{i % 7}.test" for i in some]
    with app.app_context():
        results = {
            "database": database_url.split(":", 1)[0],
            **seeded,
            "queue_page": timings(client, queue, rounds),
            "search": timings(client, search, rounds),
            "customer_page": timings(client, customers, rounds),
        }
        db.session.remove()
        db.engine.dispose()
    results["queue_target_met"] = results["queue_page"]["p95_ms"] <= QUEUE_TARGET_MS
    results["search_target_met"] = results["search"]["p95_ms"] <= SEARCH_TARGET_MS
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shipments", type=int, default=100_000)
    parser.add_argument("--events-per-shipment", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument(
        "--sqlite-file", help="build the SQLite database here (kept) instead of a temporary file"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{args.sqlite_file or folder + '/bench.db'}"
        print(json.dumps(run(url, args.shipments, args.events_per_shipment, args.rounds), indent=2))
    postgres = os.environ.get("LEVERANSE_BENCH_DATABASE_URL")
    if postgres:
        print(json.dumps(run(postgres, args.shipments, args.events_per_shipment, args.rounds), indent=2))


if __name__ == "__main__":
    main()
