"""Claim detection benchmark: one `detect_claims` run over 100,000 active shipments.

Builds the shipments (all carriers, domestic and cross-border lanes, last scans from minutes to weeks
ago, about 200,000 tracking events, a few carrier lost / damage / refused scans and failed attempts) with
SQLAlchemy Core in a temporary SQLite file, and again in PostgreSQL when LEVERANSE_BENCH_DATABASE_URL is
set (a scratch database: its tables are dropped and created). Runs the job once and prints wall time,
shipments per second, the claims opened per rule and the SQL statements executed, split into the scan
(reading shipments and their signals: a fixed number per batch) and the opening of claims (inserts,
audit trail, notifications: they grow with the claims opened), with the time each part took.

    python bench/claims_detection.py [--shipments 100000] [--batch 5000] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import random
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import event, insert, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from app import create_app  # noqa: E402
from app.claims import detection  # noqa: E402
from app.config import Config  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import Shipment, Shop, TrackingEvent  # noqa: E402
from carriers.model import Reason, Status  # noqa: E402

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)  # a Monday
HOME = {
    "bring": ["NO"],
    "postnord": ["SE", "DK", "NO", "FI"],
    "dhl": ["DE", "NL", "NO", "SE", "GB"],
    "ups": ["US", "DE", "GB"],
    "fedex": ["US", "GB"],
    "usps": ["US"],
    "gls": ["DK", "DE", "NL"],
    "thailandpost": ["TH"],
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
CURRENCY = {"NO": "NOK", "SE": "SEK", "DK": "DKK", "US": "USD", "GB": "GBP", "TH": "THB"}
STATUSES = {
    Status.IN_TRANSIT: 0.665,
    Status.INFO_RECEIVED: 0.08,
    Status.PENDING: 0.03,
    Status.OUT_FOR_DELIVERY: 0.06,
    Status.AVAILABLE_FOR_PICKUP: 0.06,
    Status.FAILED_ATTEMPT: 0.01,
    Status.EXCEPTION: 0.04,
    Status.RETURNING: 0.002,
    Status.UNKNOWN: 0.053,
}


def _last_scan_age(rng: random.Random) -> timedelta:
    """Most parcels scanned within a day or two; a tail that went quiet for one to six weeks."""
    draw = rng.random()
    if draw < 0.90:
        return timedelta(hours=rng.expovariate(1 / 20))
    if draw < 0.994:
        return timedelta(days=rng.uniform(2, 10))
    return timedelta(days=rng.uniform(10, 40))


def build(count: int, seed: int = 7) -> tuple[list[dict], list[dict]]:
    """Shipment rows and tracking-event rows (ids assigned here so events can point at shipments)."""
    rng = random.Random(seed)
    carriers = sorted(HOME)
    statuses, weights = list(STATUSES), list(STATUSES.values())
    countries = sorted(ZONES)
    shipments, events = [], []
    for i in range(1, count + 1):
        carrier = carriers[i % len(carriers)]
        origin = rng.choice(HOME[carrier])
        destination = (
            origin if rng.random() < 0.75 or carrier in ("usps", "thailandpost") else rng.choice(countries)
        )
        status = rng.choices(statuses, weights)[0]
        last_scan = NOW - _last_scan_age(rng)
        shipped = last_scan - timedelta(hours=rng.uniform(2, 96))
        scanned = status not in (Status.PENDING, Status.INFO_RECEIVED)
        currency = CURRENCY.get(origin, "EUR")
        shipments.append(
            {
                "id": i,
                "shop_id": 1 + i % 10,
                "carrier": carrier,
                "service": "standard" if rng.random() < 0.8 else "express",
                "tracking_number": f"B{i:010d}",
                "origin_country": origin,
                "destination_country": destination,
                "origin_postcode": "0150",
                "destination_postcode": "5003",
                "customer_timezone": ZONES[destination] if rng.random() < 0.6 else None,
                "customer_email": f"c{i}@example.test" if rng.random() < 0.7 else None,
                "status": status,
                "reason": None,
                "shipped_at": shipped,
                "last_event_at": last_scan if scanned else None,
                "status_changed_at": last_scan,
                "promised_date": (
                    shipped + timedelta(days=rng.randint(2, 5 if origin == destination else 10))
                ).date(),
                "p_lost": rng.random() ** 3 if rng.random() < 0.02 else None,
                "declared_value": Decimal(rng.randint(100, 3000)),
                "currency": currency,
                "weight_kg": Decimal("1.200"),
                "poll_failures": 0,
                "created_at": shipped - timedelta(hours=1),
                "updated_at": last_scan,
            }
        )
        if not scanned:
            continue
        steps = rng.randint(1, 3)
        for j in range(steps):
            at = last_scan - timedelta(hours=6 * (steps - 1 - j))
            events.append(_event(i, j, at, Status.IN_TRANSIT, "TRANSIT"))
        signal = rng.random()
        if status in (Status.EXCEPTION, Status.IN_TRANSIT) and signal < 0.0015:
            events.append(_event(i, 10, last_scan, Status.EXCEPTION, "LOST", Reason.LOST))
        elif signal < 0.003:
            events.append(_event(i, 11, last_scan, Status.EXCEPTION, "DAMAGED", Reason.DAMAGED))
        if status is Status.FAILED_ATTEMPT:
            for k in range(rng.randint(1, 3)):
                events.append(
                    _event(i, 20 + k, last_scan - timedelta(days=k), Status.FAILED_ATTEMPT, "NOT_HOME")
                )
        if status is Status.RETURNING and rng.random() < 0.5:
            events.append(_event(i, 30, last_scan, Status.RETURNING, "REFUSED", Reason.REFUSED))
    return shipments, events


def _event(
    shipment_id: int, n: int, at: datetime, status: Status, code: str, reason: Reason | None = None
) -> dict:
    return {
        "shipment_id": shipment_id,
        "occurred_at": at,
        "status": status.value,
        "reason": reason.value if reason else None,
        "carrier_code": code,
        "description": code.lower(),
        "location": "",
        "informational": False,
        "tz_assumed": False,
        "source": "poll",
        "content_hash": f"{shipment_id}:{n}",
        "received_at": at,
    }


class Meter:
    """Counts SQL statements, wall time and this process's CPU time, split at the job's own seams: a
    batch's scan ends when `candidates_for` returns, its opening of claims when the batch commits."""

    def __init__(self) -> None:
        self.statements = 0
        self.batches: list[Counter] = []
        self.current: Counter = Counter()
        self.mark = (0, time.perf_counter(), time.process_time())

    def on_statement(self, *_args) -> None:
        self.statements += 1

    def _close(self, phase: str) -> None:
        count, wall, cpu = self.mark
        self.mark = (self.statements, time.perf_counter(), time.process_time())
        self.current[phase] += self.statements - count
        self.current[f"{phase}_s"] += self.mark[1] - wall
        self.current[f"{phase}_cpu_s"] += self.mark[2] - cpu

    def scanned(self) -> None:
        self._close("scan")

    def committed(self, _session) -> None:
        self._close("open")
        self.batches.append(self.current)
        self.current = Counter()

    def finish(self) -> dict:
        self._close("scan")  # the last, empty batch read
        total = sum(self.batches, Counter()) + self.current
        return {
            "statements": self.statements,
            "scan_statements": total["scan"],
            "open_statements": total["open"],
            "scan_statements_per_batch": sorted(Counter(b["scan"] for b in self.batches).items()),
            "open_statements_per_batch": [b["open"] for b in self.batches],
            "scan_seconds": round(total["scan_s"], 2),
            "open_seconds": round(total["open_s"], 2),
            "scan_cpu_seconds": round(total["scan_cpu_s"], 2),
            "open_cpu_seconds": round(total["open_cpu_s"], 2),
        }


def run(database_url: str, count: int, batch: int, profile: bool) -> dict:
    """Build the data in `database_url`, run detection once, return the figures."""
    app = create_app(Config, SQLALCHEMY_DATABASE_URI=database_url, LOG_LEVEL="WARNING")
    shipments, events = build(count)
    with app.app_context():
        db.drop_all()
        db.create_all()
        started = time.perf_counter()
        zones = sorted(ZONES.values())
        db.session.execute(
            insert(Shop.__table__),
            [{"id": n, "name": f"shop {n}", "default_timezone": zones[n % len(zones)]} for n in range(1, 11)],
        )
        for start in range(0, len(shipments), 20000):
            db.session.execute(insert(Shipment.__table__), shipments[start : start + 20000])
        for start in range(0, len(events), 20000):
            db.session.execute(insert(TrackingEvent.__table__), events[start : start + 20000])
        db.session.commit()
        event_count = len(events)
        del shipments, events  # 280,000 dicts left alive would slow every garbage collection in the run
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as connection:
                connection.execute(text("SELECT setval('shipment_id_seq', (SELECT max(id) FROM shipment))"))
                connection.execute(text("ANALYZE"))
        build_seconds = time.perf_counter() - started

        meter = Meter()
        event.listen(db.engine, "before_cursor_execute", meter.on_statement)
        event.listen(Session, "after_commit", meter.committed)
        plain = detection.candidates_for

        def measured_candidates(*args, **kwargs):
            found = plain(*args, **kwargs)
            meter.scanned()
            return found

        detection.candidates_for = measured_candidates
        profiler = cProfile.Profile() if profile else None
        try:
            meter.mark = (0, time.perf_counter(), time.process_time())
            wall, cpu = time.perf_counter(), time.process_time()
            if profiler:
                profiler.enable()
            stats = detection.detect_claims(now=NOW, batch_size=batch)
            if profiler:
                profiler.disable()
            seconds, cpu = time.perf_counter() - wall, time.process_time() - cpu
        finally:
            detection.candidates_for = plain
            event.remove(Session, "after_commit", meter.committed)
            event.remove(db.engine, "before_cursor_execute", meter.on_statement)
        queries = meter.finish()
        if profiler:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
        db.session.remove()
        db.engine.dispose()
    opened = sum(stats.opened.values())
    return {
        "database": database_url.split(":", 1)[0],
        "shipments": stats.scanned,
        "tracking_events": event_count,
        "build_seconds": round(build_seconds, 1),
        "batches": stats.batches,
        "seconds": round(seconds, 2),
        "python_cpu_seconds": round(cpu, 2),  # this process only; tells a busy machine from slow code
        "shipments_per_s": round(stats.scanned / seconds),
        "claims_opened": opened,
        "opened_by_rule": dict(sorted(stats.opened.items())),
        **queries,
        "open_statements_per_claim": round(queries["open_statements"] / opened, 2) if opened else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shipments", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=5000, help="CLAIM_DETECT_BATCH (the default is 5000)")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        print(
            json.dumps(
                run(f"sqlite:///{folder}/bench.db", args.shipments, args.batch, args.profile), indent=2
            )
        )
    postgres = os.environ.get("LEVERANSE_BENCH_DATABASE_URL")
    if postgres:
        print(json.dumps(run(postgres, args.shipments, args.batch, args.profile), indent=2))


if __name__ == "__main__":
    main()
