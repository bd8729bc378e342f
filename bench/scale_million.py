"""Scale benchmark: a million shipments and ten million tracking events in PostgreSQL.

Seeds LEVERANSE_BENCH_DATABASE_URL (a scratch database: its tables are dropped and created with
`db.create_all()`) through psycopg's COPY: 8 carriers, a few shops of which one holds most parcels, 85 %
finished (mostly delivered) and 15 % active with a prediction, about ten events per shipment. The
secondary indexes and foreign keys are dropped during the load and built again after it, then the tables
are vacuumed and analysed. Then it measures, on that data:

- the shop API through the Flask test client with the biggest shop's key: `GET /api/v1/shipments` with
  several filter combinations and pages, `GET /api/v1/shipments/{id}`, `GET /api/v1/shipments/at-risk`
  (p50 / p95 / max in ms), and the staff workbench's queue page (`queue_page`) for that shop and for all;
- polling throughput: `--due` active shipments made due and registered in the sandbox carriers (their own
  process), polled by `poll_due_shipments` in this process until none is due;
- one full `rescore_active_shipments` pass, its refresh of recent outcomes timed apart;
- the size of every table with its indexes (`pg_total_relation_size`) and of the database.

The slowest statement of each API case is explained (EXPLAIN ANALYZE, BUFFERS) when it took more than
`--explain-ms`; the plans are printed after the figures.

    LEVERANSE_BENCH_DATABASE_URL=postgresql+psycopg://… python bench/scale_million.py \
        [--shipments 1000000] [--events-per-shipment 10] [--due 2000] [--rounds 30] [--reuse]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests  # noqa: E402
from sqlalchemy import event, func, select, text, update  # noqa: E402

from app import create_app  # noqa: E402
from app.config import Config  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import ApiKey, Shipment, Shop  # noqa: E402
from carriers.numbers import make_tracking_number  # noqa: E402
from carriers.sandbox.scenarios import DEFAULT_WEIGHTS  # noqa: E402

CARRIERS = {  # share of parcels, home countries
    "bring": (0.24, ["NO"]),
    "postnord": (0.20, ["SE", "DK", "NO", "FI"]),
    "dhl": (0.15, ["DE", "NL", "NO", "SE", "GB"]),
    "gls": (0.10, ["DK", "DE", "NL"]),
    "ups": (0.09, ["US", "DE", "GB"]),
    "fedex": (0.08, ["US", "GB"]),
    "usps": (0.08, ["US"]),
    "thailandpost": (0.06, ["TH"]),
}
ZONES = {
    "NO": "Europe/Oslo",
    "SE": "Europe/Stockholm",
    "DK": "Europe/Copenhagen",
    "FI": "Europe/Helsinki",
    "DE": "Europe/Berlin",
    "NL": "Europe/Amsterdam",
    "GB": "Europe/London",
    "US": "America/New_York",
    "TH": "Asia/Bangkok",
}
CITIES = {
    "NO": ["OSLO", "BERGEN", "TRONDHEIM"],
    "SE": ["STOCKHOLM", "GOTEBORG", "MALMO"],
    "DK": ["KOBENHAVN", "AARHUS"],
    "FI": ["HELSINKI", "TAMPERE"],
    "DE": ["HAMBURG", "LEIPZIG", "KOELN"],
    "NL": ["AMSTERDAM", "UTRECHT"],
    "GB": ["LONDON", "COVENTRY", "MANCHESTER"],
    "US": ["MEMPHIS", "LOUISVILLE", "NEW YORK"],
    "TH": ["BANGKOK", "CHIANG MAI"],
}
CURRENCY = {"NO": "NOK", "SE": "SEK", "DK": "DKK", "US": "USD", "GB": "GBP", "TH": "THB"}
SHOP_SHARES = [0.70, 0.15, 0.08, 0.04, 0.03]  # the growing shop, then smaller ones
FINISHED = {"delivered": 0.80, "returned": 0.02, "expired": 0.02, "cancelled": 0.01}
ACTIVE = {
    "in_transit": 0.100,
    "info_received": 0.015,
    "pending": 0.005,
    "out_for_delivery": 0.012,
    "available_for_pickup": 0.010,
    "failed_attempt": 0.003,
    "exception": 0.004,
    "returning": 0.001,
}
RISK = {"on_track": 0.90, "at_risk": 0.06, "late": 0.025, "stuck": 0.01, "lost": 0.005}
DESCRIPTIONS = {
    "info_received": "Shipment information received electronically",
    "in_transit": "The shipment has been processed at the sorting terminal",
    "out_for_delivery": "The shipment is out for delivery",
    "available_for_pickup": "The shipment can be collected at the pickup point",
    "failed_attempt": "Delivery attempted, the recipient was not at home",
    "exception": "The shipment is delayed at the terminal",
    "returning": "The shipment is being returned to the sender",
    "delivered": "The shipment has been delivered",
}
REASON_JSON = (
    '[{"key": "carrier_on_schedule", "text": "The carrier\'s last scan fits the usual timeline.", '
    '"params": {"hours_since_scan": 6}}]'
)
SHIPMENT_COLUMNS = [
    "id",
    "shop_id",
    "carrier",
    "service",
    "tracking_number",
    "order_ref",
    "link_token",
    "customer_name",
    "customer_email",
    "customer_phone",
    "customer_language",
    "customer_timezone",
    "origin_postcode",
    "origin_country",
    "destination_postcode",
    "destination_country",
    "shipped_at",
    "promised_date",
    "declared_value",
    "weight_kg",
    "currency",
    "status",
    "reason",
    "carrier_eta",
    "delivered_at",
    "last_event_at",
    "status_changed_at",
    "last_checked_at",
    "next_poll_at",
    "poll_failures",
    "eta_p10",
    "eta_p50",
    "eta_p90",
    "p_late",
    "p_lost",
    "risk_state",
    "risk_reasons",
    "risk_computed_at",
    "created_at",
    "updated_at",
]
EVENT_COLUMNS = [
    "id",
    "shipment_id",
    "occurred_at",
    "utc_offset_minutes",
    "status",
    "reason",
    "carrier_code",
    "description",
    "location",
    "informational",
    "tz_assumed",
    "source",
    "content_hash",
    "received_at",
]


def _copy_value(value: object) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _line(values: list) -> str:
    return "\t".join(map(_copy_value, values)) + "\n"


def _pick(rng: random.Random, table: dict) -> str:
    return rng.choices(list(table), list(table.values()))[0]


def _timeline(status: str, rng: random.Random, mean_events: float) -> list[str]:
    """The event statuses of one parcel, oldest first; about ten for a delivered one at the default."""
    scale = mean_events / 10
    if status in ("delivered", "returned"):
        middle = max(1, round(rng.randint(5, 11) * scale))
        tail = ["returning"] * 2 if status == "returned" else ["out_for_delivery"]
        return ["info_received", *["in_transit"] * middle, *tail, "delivered"]
    if status in ("pending", "info_received"):
        return ["info_received"] if rng.random() < 0.5 else []
    if status in ("expired", "cancelled"):
        return ["info_received", *["in_transit"] * round(rng.randint(0, 3) * scale)]
    middle = max(1, round(rng.randint(1, 8) * scale))
    return ["info_received", *["in_transit"] * middle, *([status] if status != "in_transit" else [])]


def generate(count: int, mean_events: float, now: datetime, seed: int):
    """Yield (shipment line, event lines) per shipment, ready for COPY … FROM STDIN (text format)."""
    rng = random.Random(seed)
    carriers = list(CARRIERS)
    carrier_weights = [share for share, _ in CARRIERS.values()]
    countries = sorted(ZONES)
    status_table = {**FINISHED, **ACTIVE}
    event_id = 0
    for i in range(1, count + 1):
        carrier = rng.choices(carriers, carrier_weights)[0]
        origin = rng.choice(CARRIERS[carrier][1])
        domestic = rng.random() < 0.8 or carrier in ("usps", "thailandpost")
        destination = origin if domestic else rng.choice(countries)
        status = _pick(rng, status_table)
        active = status in ACTIVE
        if active:  # most active parcels left in the last few days; a tail stuck for weeks
            age = timedelta(hours=rng.expovariate(1 / 48) if rng.random() < 0.95 else rng.uniform(168, 720))
        else:  # finished parcels over half a year, more of them recently (a growing shop)
            age = timedelta(days=3 + 180 * rng.random() ** 1.4)
        created = now - age
        shipped = created + timedelta(hours=rng.uniform(1, 20))
        transit = timedelta(hours=rng.uniform(20, 70 if domestic else 200))
        promised = (created + timedelta(days=3 if domestic else 8)).date()
        statuses = _timeline(status, rng, mean_events)
        span_end = min(now - timedelta(minutes=5), shipped + transit)
        span = max(span_end - shipped, timedelta(minutes=len(statuses) + 1))
        times = sorted(shipped + span * rng.random() for _ in statuses)
        if statuses and status in ("delivered", "returned"):
            times[-1] = shipped + span
        last_event = times[-1] if times else None
        delivered = last_event if status == "delivered" else None
        changed = last_event or created
        if active:
            risk = _pick(rng, RISK)
            p_late = round(rng.betavariate(1, 12) if risk == "on_track" else rng.uniform(0.4, 0.99), 4)
            p_lost = round(rng.betavariate(1, 80) if risk != "lost" else rng.uniform(0.3, 0.9), 4)
            eta = now + timedelta(hours=rng.uniform(2, 90))
            scored = now - timedelta(minutes=rng.uniform(1, 360))
            checked = now - timedelta(minutes=rng.uniform(1, 360))
            next_poll = now + timedelta(minutes=rng.uniform(5, 720))
            prediction = [eta - timedelta(hours=12), eta, eta + timedelta(hours=30), p_late, p_lost, risk]
            prediction += [REASON_JSON, scored]
        else:
            checked = changed + timedelta(minutes=rng.uniform(5, 120))
            next_poll = None
            prediction = [None, None, None, None, None, None, "[]", checked]
        currency = CURRENCY.get(origin, "EUR")
        number = make_tracking_number(carrier, i)
        shipment = [
            i,
            1 + rng.choices(range(len(SHOP_SHARES)), SHOP_SHARES)[0],
            carrier,
            "standard" if rng.random() < 0.8 else "express",
            number,
            f"ORD-{i:09d}",
            hashlib.blake2b(number.encode(), digest_size=16).hexdigest()[:22],
            f"Customer {i}",
            f"customer{i}@example.test" if rng.random() < 0.9 else None,
            f"+47{40000000 + i}" if rng.random() < 0.6 else None,
            "nb" if destination == "NO" else "en",
            ZONES[destination] if rng.random() < 0.5 else None,
            f"{rng.randint(1000, 9999)}",
            origin,
            f"{rng.randint(1000, 9999)}",
            destination,
            shipped,
            promised,
            f"{rng.randint(99, 4999)}.00",
            f"{rng.uniform(0.1, 20):.3f}",
            currency,
            status,
            "refused" if status == "returned" else None,
            promised if rng.random() < 0.4 else None,
            delivered,
            last_event,
            changed,
            checked,
            next_poll,
            0,
            *prediction,
            created,
            max(changed, checked),
        ]
        events = []
        city = CITIES[destination]
        for n, (event_status, at) in enumerate(zip(statuses, times, strict=True)):
            event_id += 1
            # Written straight as text: ten million rows through _line would double the seeding time.
            stamp = at.isoformat()
            reason = "recipient_unavailable" if event_status == "failed_attempt" else "\\N"
            source = "poll" if rng.random() < 0.9 else "webhook"
            digest = hashlib.sha1(f"{i}:{n}".encode()).hexdigest()
            events.append(
                f"{event_id}\t{i}\t{stamp}\t60\t{event_status}\t{reason}\t{event_status.upper()[:12]}\t"
                f"{DESCRIPTIONS[event_status]}\t{rng.choice(city)}, {destination}\tf\tf\t{source}\t"
                f"{digest}\t{stamp}\n"
            )
        yield _line(shipment), events


def _secondary_structures(connection, table: str) -> tuple[list[str], list[str]]:
    """DDL to drop and to re-create a table's foreign keys, unique constraints and plain indexes."""
    constraints = connection.execute(
        text(
            "SELECT conname, pg_get_constraintdef(oid), contype FROM pg_constraint "
            "WHERE conrelid = CAST(:t AS regclass) AND contype IN ('u', 'f')"
        ),
        {"t": table},
    ).all()
    indexes = connection.execute(
        text(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = :t AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname AND c.conrelid = CAST(:t AS regclass))"
        ),
        {"t": table},
    ).all()
    drop = [f'ALTER TABLE {table} DROP CONSTRAINT "{name}"' for name, _, _ in constraints]
    drop += [f'DROP INDEX "{name}"' for name, _ in indexes]
    # Unique constraints before foreign keys; plain indexes last.
    create = [f'ALTER TABLE {table} ADD CONSTRAINT "{n}" {d}' for n, d, kind in constraints if kind == "u"]
    create += [f'ALTER TABLE {table} ADD CONSTRAINT "{n}" {d}' for n, d, kind in constraints if kind == "f"]
    create += [definition for _, definition in indexes]
    return drop, create


def seed(app, count: int, mean_events: float, now: datetime, seed_value: int = 11) -> dict:
    """Drop and create the schema, COPY the shipments and events, rebuild indexes, vacuum; timings."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    with app.app_context():
        db.drop_all()
        db.create_all()
        for n, share in enumerate(SHOP_SHARES, start=1):
            db.session.add(Shop(id=n, name=f"shop {n} ({share:.0%})", default_timezone="Europe/Oslo"))
        db.session.commit()
        with db.engine.begin() as connection:
            ddl = {t: _secondary_structures(connection, t) for t in ("tracking_event", "shipment")}
            for drop, _ in ddl.values():
                for statement in drop:
                    connection.execute(text(statement))
        raw_shipments, raw_events = db.engine.raw_connection(), db.engine.raw_connection()
        try:
            shipments_db, events_db = raw_shipments.driver_connection, raw_events.driver_connection
            shipment_rows = event_rows = 0
            with (
                shipments_db.cursor() as shipment_cursor,
                events_db.cursor() as event_cursor,
                shipment_cursor.copy(
                    f"COPY shipment ({', '.join(SHIPMENT_COLUMNS)}) FROM STDIN"
                ) as ship_copy,
                event_cursor.copy(
                    f"COPY tracking_event ({', '.join(EVENT_COLUMNS)}) FROM STDIN"
                ) as event_copy,
            ):
                ship_buffer: list[str] = []
                event_buffer: list[str] = []
                for shipment, events in generate(count, mean_events, now, seed_value):
                    ship_buffer.append(shipment)
                    event_buffer.extend(events)
                    if len(event_buffer) >= 50_000:
                        ship_copy.write("".join(ship_buffer))
                        event_copy.write("".join(event_buffer))
                        shipment_rows += len(ship_buffer)
                        event_rows += len(event_buffer)
                        ship_buffer, event_buffer = [], []
                ship_copy.write("".join(ship_buffer))
                event_copy.write("".join(event_buffer))
                shipment_rows += len(ship_buffer)
                event_rows += len(event_buffer)
            shipments_db.commit()
            events_db.commit()
        finally:
            raw_shipments.close()
            raw_events.close()
        timings["copy_s"] = time.perf_counter() - started
        mark = time.perf_counter()
        with db.engine.begin() as connection:
            connection.execute(text("SET maintenance_work_mem = '512MB'"))
            for table in ("shipment", "tracking_event"):
                for statement in ddl[table][1]:
                    connection.execute(text(statement))
            for table in ("shipment", "tracking_event"):
                connection.execute(
                    text(f"SELECT setval('{table}_id_seq', (SELECT coalesce(max(id), 1) FROM {table}))")
                )
        timings["indexes_s"] = time.perf_counter() - mark
        mark = time.perf_counter()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
        timings["vacuum_analyze_s"] = time.perf_counter() - mark
        db.engine.dispose()
    return {
        "shipments": shipment_rows,
        "tracking_events": event_rows,
        **{key: round(value, 1) for key, value in timings.items()},
        "seed_s": round(time.perf_counter() - started, 1),
    }


class StatementLog:
    """Every SQL statement's text, parameters and duration, so the slowest can be explained."""

    def __init__(self) -> None:
        self.entries: list[tuple[str, object, float]] = []
        self._started: list[float] = []

    def before(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self._started.append(time.perf_counter())

    def after(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.entries.append((statement, parameters, time.perf_counter() - self._started.pop()))

    def slowest(self) -> tuple[str, object, float] | None:
        return max(self.entries, key=lambda entry: entry[2], default=None)


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(p95 * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


def _explain(statement: str, parameters: object) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of one captured statement, with its own parameters."""
    with db.engine.connect() as connection:
        cursor = connection.connection.driver_connection.cursor()
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        connection.rollback()
    return plan


def measure_api(app, shop_id: int, rounds: int, explain_ms: float) -> tuple[dict, dict[str, str]]:
    """p50/p95/max of the shop API's list, get and at-risk calls for `shop_id`; plans of slow ones."""
    with app.app_context():
        key, plain = ApiKey.issue(db.session.get(Shop, shop_id), "scale bench")
        db.session.commit()
        ids = db.session.scalars(
            select(Shipment.id).where(Shipment.shop_id == shop_id).order_by(func.random()).limit(rounds * 4)
        ).all()
        sample = db.session.execute(
            select(Shipment.order_ref, Shipment.tracking_number)
            .where(Shipment.shop_id == shop_id)
            .order_by(func.random())
            .limit(rounds)
        ).all()
        db.session.remove()
    since = (datetime.now(UTC) - timedelta(hours=6)).isoformat()
    cases = {
        "list, no filter, pages 1-5": lambda n: f"/api/v1/shipments?page={1 + n % 5}",
        "list, page 2,000 (offset 100k)": lambda n: "/api/v1/shipments?page=2000",
        "list, status=in_transit": lambda n: f"/api/v1/shipments?status=in_transit&page={1 + n % 5}",
        "list, carrier=bring&status=delivered": lambda n: "/api/v1/shipments?carrier=bring&status=delivered",
        "list, risk_state=late": lambda n: "/api/v1/shipments?risk_state=late",
        "list, updated_since=6h ago": lambda n: (
            f"/api/v1/shipments?updated_since={since.replace('+', '%2B')}"
        ),
        "list, order_ref": lambda n: f"/api/v1/shipments?order_ref={sample[n % len(sample)][0]}",
        "list, tracking_number": lambda n: f"/api/v1/shipments?tracking_number={sample[n % len(sample)][1]}",
        "list, per_page=500": lambda n: "/api/v1/shipments?per_page=500",
        "get one shipment": lambda n: f"/api/v1/shipments/{ids[n]}",
        "at-risk, page 1": lambda n: "/api/v1/shipments/at-risk",
        "at-risk, page 20": lambda n: "/api/v1/shipments/at-risk?page=20",
    }
    client = app.test_client()
    headers = {"Authorization": f"Bearer {plain}"}
    figures, plans = {}, {}
    log = StatementLog()
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", log.before)
    event.listen(engine, "after_cursor_execute", log.after)
    try:
        client.get(cases["list, no filter, pages 1-5"](0), headers=headers)  # warm-up: imports, caches
        for name, path in cases.items():
            samples, slowest = [], None
            for n in range(rounds):
                log.entries.clear()
                started = time.perf_counter()
                response = client.get(path(n), headers=headers)
                samples.append(time.perf_counter() - started)
                if response.status_code != 200:
                    raise RuntimeError(
                        f"{name}: {response.status_code} {response.get_data(as_text=True)[:300]}"
                    )
                candidate = log.slowest()
                if candidate and (slowest is None or candidate[2] > slowest[2]):
                    slowest = candidate
            body = response.get_json()
            figures[name] = {
                **_percentiles(samples),
                "statements": len(log.entries),
                "slowest_sql_ms": round(slowest[2] * 1000, 1) if slowest else None,
                "total": body.get("total"),
            }
            if slowest and slowest[2] * 1000 > explain_ms:
                with app.app_context():
                    plans[name] = f"{slowest[0]}\n-- {slowest[1]}\n" + _explain(slowest[0], slowest[1])
    finally:
        event.remove(engine, "before_cursor_execute", log.before)
        event.remove(engine, "after_cursor_execute", log.after)
    return figures, plans


def measure_staff_queue(app, shop_id: int, rounds: int) -> dict:
    """The workbench queue page (default filters and sort) for the big shop and for every shop."""
    from app.workbench.queue import QueueFilters, queue_page

    figures = {}
    with app.app_context():
        for label, shop in ((f"shop {shop_id}", shop_id), ("all shops", None)):
            for page in (1, 10):
                samples = []
                for _ in range(max(5, rounds // 3)):
                    started = time.perf_counter()
                    result = queue_page(QueueFilters(page=page), shop, datetime.now(UTC), staff_id=1)
                    samples.append(time.perf_counter() - started)
                    db.session.rollback()
                figures[f"queue page {page}, {label}"] = {**_percentiles(samples), "total": result.total}
    return figures


def _serve_sandbox(conn) -> None:
    from carriers.sandbox.server import SandboxServer, SandboxSettings

    server = SandboxServer(SandboxSettings(port=0, speed=1.0)).start()
    conn.send(server.url)
    while True:
        time.sleep(3600)


def measure_polling(url: str, sandbox_url: str, due: int) -> dict:
    """Make `due` active shipments due, register them in the sandbox, poll until none is due."""
    from app.tracking.polling import due_carriers, poll_due_shipments

    app = create_app(
        Config,
        SQLALCHEMY_DATABASE_URI=url,
        CARRIER_MODE="sandbox",
        SANDBOX_URL=sandbox_url,
        POLL_MAX_SHIPMENTS_PER_RUN=2000,
        LOG_LEVEL="WARNING",
    )
    rng = random.Random(5)
    weights = {scenario: w for scenario, w in DEFAULT_WEIGHTS.items() if w}
    now = datetime.now(UTC)
    with app.app_context():
        rows = db.session.execute(
            select(Shipment.id, Shipment.carrier, Shipment.tracking_number, Shipment.created_at)
            .where(Shipment.status.in_(["in_transit", "info_received", "out_for_delivery", "pending"]))
            .order_by(func.random())
            .limit(due)
        ).all()
        for start in range(0, len(rows), 2000):
            requests.post(
                f"{sandbox_url}/_sandbox/shipments",
                json=[
                    {
                        "carrier": carrier,
                        "tracking_number": number,
                        "scenario": rng.choices(list(weights), list(weights.values()))[0],
                        "created_at": max(created, now - timedelta(hours=60)).isoformat(),
                    }
                    for _, carrier, number, created in rows[start : start + 2000]
                ],
                timeout=60,
            ).raise_for_status()
        ids = [row.id for row in rows]
        warm = ids[:32]  # warm-up (imports, token fetches, model load) is not the sustained rate
        for chosen in (warm, ids[32:]):
            db.session.execute(
                update(Shipment)
                .where(Shipment.id.in_(chosen))
                .values(next_poll_at=now - timedelta(seconds=1))
                .execution_options(synchronize_session=False)
            )
            db.session.commit()
            if chosen is warm:
                poll_due_shipments(now=now)
        totals = {"runs": 0, "shipments": 0, "events": 0, "calls": 0, "errors": 0}
        started = time.perf_counter()
        while True:
            stats = poll_due_shipments(now=now)
            if not stats.calls:
                break
            totals["runs"] += 1
            totals["shipments"] += stats.shipments
            totals["events"] += stats.events
            totals["calls"] += stats.calls
            totals["errors"] += sum(stats.errors.values())
        seconds = time.perf_counter() - started
        samples = []
        for _ in range(10):
            mark = time.perf_counter()
            due_carriers(now)
            samples.append(time.perf_counter() - mark)
            db.session.rollback()
        db.session.remove()
        db.engine.dispose()
    return {
        **totals,
        "seconds": round(seconds, 2),
        "polls_per_s": round(totals["shipments"] / seconds, 1),
        "events_per_s": round(totals["events"] / seconds, 1),
        "due_carriers_query": _percentiles(samples),
        "load_avg_1m": round(os.getloadavg()[0], 1),
    }


def measure_rescore(app) -> dict:
    """One full `rescore_active_shipments` pass; its refresh of recent outcomes is timed apart."""
    from app.models import Notification, PredictionChange
    from app.tracking import updates

    plain = updates.refresh_recent_outcomes
    refresh: dict[str, float] = {}

    def timed_refresh(now):
        mark = time.perf_counter()
        model = plain(now)
        refresh["seconds"] = time.perf_counter() - mark
        return model

    with app.app_context():
        active = db.session.scalar(
            select(func.count()).where(Shipment.status.in_(list(ACTIVE)), Shipment.deleted_at.is_(None))
        )
        before = (
            db.session.scalar(select(func.count()).select_from(PredictionChange)),
            db.session.scalar(select(func.count()).select_from(Notification)),
        )
        db.session.rollback()
        updates.refresh_recent_outcomes = timed_refresh
        try:
            wall, cpu = time.perf_counter(), time.process_time()
            changed = updates.rescore_active_shipments()
            seconds, cpu = time.perf_counter() - wall, time.process_time() - cpu
        finally:
            updates.refresh_recent_outcomes = plain
        after = (
            db.session.scalar(select(func.count()).select_from(PredictionChange)),
            db.session.scalar(select(func.count()).select_from(Notification)),
        )
        db.session.remove()
    scoring = seconds - refresh["seconds"]
    return {
        "active_shipments": active,
        "seconds": round(seconds, 1),
        "python_cpu_seconds": round(cpu, 1),
        "refresh_recent_outcomes_s": round(refresh["seconds"], 1),
        "scoring_s": round(scoring, 1),
        "shipments_per_s": round(active / scoring),
        "risk_state_changes": changed,
        "prediction_changes_written": after[0] - before[0],
        "notifications_written": after[1] - before[1],
        "load_avg_1m": round(os.getloadavg()[0], 1),
    }


def measure_sizes(app) -> dict:
    """Every non-empty table's size with its indexes and TOAST, and the database's, in MB."""
    with app.app_context():
        rows = db.session.execute(
            text(
                "SELECT relname, pg_total_relation_size(relid), pg_relation_size(relid), "
                "pg_indexes_size(relid), n_live_tup FROM pg_stat_user_tables "
                "ORDER BY pg_total_relation_size(relid) DESC"
            )
        ).all()
        database = db.session.scalar(text("SELECT pg_database_size(current_database())"))
        db.session.remove()
    mb = 1024 * 1024
    return {
        "tables": {
            name: {
                "total_mb": round(total / mb, 1),
                "heap_mb": round(heap / mb, 1),
                "indexes_mb": round(indexes / mb, 1),
            }
            for name, total, heap, indexes, _ in rows
            if total > 1024 * 1024
        },
        "database_mb": round(database / mb, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shipments", type=int, default=1_000_000)
    parser.add_argument("--events-per-shipment", type=float, default=10.0)
    parser.add_argument("--due", type=int, default=2000, help="shipments made due for the polling run")
    parser.add_argument("--rounds", type=int, default=30, help="requests per API case")
    parser.add_argument("--explain-ms", type=float, default=20.0, help="explain statements slower than this")
    parser.add_argument("--reuse", action="store_true", help="measure the data already seeded")
    parser.add_argument("--skip-rescore", action="store_true")
    args = parser.parse_args()
    url = os.environ.get("LEVERANSE_BENCH_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        print("skipped: set LEVERANSE_BENCH_DATABASE_URL to a scratch PostgreSQL database")
        return
    app = create_app(Config, SQLALCHEMY_DATABASE_URI=url, LOG_LEVEL="WARNING")
    report: dict = {}
    if not args.reuse:
        report["seed"] = seed(app, args.shipments, args.events_per_shipment, datetime.now(UTC))
        print(json.dumps({"seed": report["seed"]}), flush=True)
    report["size_after_seed"] = measure_sizes(app)
    print(json.dumps({"size_after_seed": report["size_after_seed"]}), flush=True)
    report["api"], plans = measure_api(app, 1, args.rounds, args.explain_ms)
    print(json.dumps({"api": report["api"]}, indent=1), flush=True)
    for name, plan in plans.items():
        print(f"\n=== {name}: slowest statement ===\n{plan}\n", flush=True)
    report["staff_queue"] = measure_staff_queue(app, 1, args.rounds)
    print(json.dumps({"staff_queue": report["staff_queue"]}, indent=1), flush=True)
    parent, child = multiprocessing.Pipe()
    sandbox = multiprocessing.get_context("spawn").Process(target=_serve_sandbox, args=(child,), daemon=True)
    sandbox.start()
    try:
        report["polling"] = measure_polling(url, parent.recv(), args.due)
    finally:
        sandbox.terminate()
    print(json.dumps({"polling": report["polling"]}), flush=True)
    if not args.skip_rescore:
        report["rescore"] = measure_rescore(app)
        print(json.dumps({"rescore": report["rescore"]}), flush=True)
    report["size_at_end"] = measure_sizes(app)
    print(json.dumps({"size_at_end": report["size_at_end"]}), flush=True)


if __name__ == "__main__":
    main()
