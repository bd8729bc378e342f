"""Several `leveranse worker` processes polling one PostgreSQL database against the sandbox carriers.

Part 1 (throughput, no faults): N shipments all due at once; 1, 2 and 3 workers (real processes, each on
its own sandbox port); successful polls per second from the first to the last carrier call, counted in
the sandbox's request log, and where the database sessions spent their time (sampled from
pg_stat_activity: running, waiting for a lock, waiting on the client, …).

Part 2 (schedule): 3 workers on the sandbox clock run for one simulated day, without and with about 20 %
faults; carrier calls (HTTP requests) and number look-ups per shipment-day.

Every part samples each worker's RSS. Needs a scratch PostgreSQL database (its tables are dropped):

    LEVERANSE_BENCH_DATABASE_URL=postgresql+psycopg://… python bench/multi_worker_polling.py \
        [--shipments 5000] [--day-shipments 2000] [--day-seconds 40] [--workers 1,2,3]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, insert, select, text  # noqa: E402

from app import create_app  # noqa: E402
from app.config import Config  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import Shipment, Shop  # noqa: E402
from carriers.numbers import make_tracking_number  # noqa: E402
from carriers.registry import CARRIERS  # noqa: E402
from carriers.sandbox.faults import FaultKind, FaultSpec  # noqa: E402
from carriers.sandbox.scenarios import DEFAULT_WEIGHTS  # noqa: E402
from carriers.sandbox.server import SandboxServer, SandboxSettings  # noqa: E402
from tests.worker_fleet import WorkerFleet  # noqa: E402

FAULTS = (
    FaultSpec(FaultKind.SERVER_ERROR, probability=0.05),
    FaultSpec(FaultKind.RATE_LIMIT, probability=0.04, retry_after=1),
    FaultSpec(FaultKind.TIMEOUT, probability=0.04, delay=1.5),
    FaultSpec(FaultKind.MALFORMED, probability=0.04),
    FaultSpec(FaultKind.PARTIAL, probability=0.05),
)


def _env(url: str, folder: str, **settings: object) -> dict[str, str]:
    env = {
        "DATABASE_URL": url,
        "INSTANCE_DIR": folder,
        "SECRET_KEY": "bench-key",
        "CARRIER_MODE": "sandbox",
        "GEOCODER_URL": "http://127.0.0.1:9",
        "POLL_INTERVAL_SECONDS": 0.5,
        "LOG_LEVEL": "WARNING",
        # Only polling matters here: the other jobs run rarely.
        "RISK_RESCORE_INTERVAL_SECONDS": 3600,
        "NOTIFY_SCAN_INTERVAL_SECONDS": 3600,
        "CLAIM_DETECT_INTERVAL_SECONDS": 3600,
        "CLAIM_PROGRESS_INTERVAL_SECONDS": 3600,
        "REPLAN_INTERVAL_SECONDS": 3600,
        **settings,
    }
    return {f"LEVERANSE_{key}": str(value) for key, value in env.items()}


def _reset(url: str):
    app = create_app(Config, SQLALCHEMY_DATABASE_URI=url, LOG_LEVEL="WARNING")
    with app.app_context():
        db.drop_all()
        db.create_all()
    return app


def _seed(sandbox: SandboxServer, count: int, now: datetime, seed: int) -> int:
    """`count` shipments (8 carriers, every scenario, started 0–60 h ago), all due now."""
    rng = random.Random(seed)
    shop = Shop(name="bench")
    db.session.add(shop)
    db.session.flush()
    codes = sorted(CARRIERS)
    weights = {scenario: w for scenario, w in DEFAULT_WEIGHTS.items() if w}
    rows = []
    for i in range(count):
        code = codes[i % len(codes)]
        number = make_tracking_number(code, 500000 + seed * 100000 + i)
        started = now - timedelta(hours=rng.uniform(0, 60))
        sandbox.register(code, number, rng.choices(list(weights), list(weights.values()))[0], started)
        rows.append(
            {
                "shop_id": shop.id,
                "carrier": code,
                "tracking_number": number,
                "status": "pending",
                "poll_failures": 0,
                "next_poll_at": now,
                "created_at": started,
                "updated_at": now,
                "shipped_at": started,
                "promised_date": (started + timedelta(hours=44)).date(),
            }
        )
    db.session.execute(insert(Shipment), rows)
    db.session.commit()
    return count


class Sampler:
    """Every 0.1 s: each worker's RSS and what the database's other sessions are doing."""

    def __init__(self, fleet: WorkerFleet, url_db: str) -> None:
        self.fleet, self.database = fleet, url_db
        self.engine = db.engine  # the sampling thread has no app context
        self.rss: dict[int, list[float]] = {}
        self.waits: Counter[str] = Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        query = text(
            "SELECT state, wait_event_type, wait_event FROM pg_stat_activity "
            "WHERE datname = :db AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        )
        while not self._stop.wait(0.1):
            for worker in list(self.fleet.workers.values()):
                rss = worker.rss_mb()
                if rss is not None:
                    self.rss.setdefault(worker.process.pid, []).append(rss)
            with self.engine.connect() as connection:
                for state, kind, event in connection.execute(query, {"db": self.database}):
                    if state == "active":
                        self.waits[f"{kind}:{event}" if kind else "running"] += 1
                    elif state == "idle in transaction":
                        self.waits["idle in transaction (worker busy)"] += 1

    def rss_summary(self) -> dict[str, float]:
        """Peak and last RSS over every worker."""
        series = [values for values in self.rss.values() if values]
        return {
            "rss_start_mb": round(max(v[0] for v in series), 1),
            "rss_peak_mb": round(max(max(v) for v in series), 1),
            "rss_end_mb": round(max(v[-1] for v in series), 1),
        }

    def wait_shares(self) -> dict[str, float]:
        """Share of sampled busy sessions per state / wait event."""
        total = sum(self.waits.values()) or 1
        return {key: round(n / total, 3) for key, n in self.waits.most_common(8)}


def throughput(url: str, count: int, workers: int) -> dict:
    """Seed `count` due shipments into a running fleet of `workers`; polls/s until all are polled."""
    app = _reset(url)
    database = url.rsplit("/", 1)[-1].split("?")[0]
    with (
        tempfile.TemporaryDirectory() as folder,
        SandboxServer(SandboxSettings(speed=1.0)) as sandbox,
        app.app_context(),
    ):
        fleet = WorkerFleet(
            sandbox, _env(url, folder, CLOCK="wall", POLL_MAX_SHIPMENTS_PER_RUN=1000), Path(folder)
        )
        try:
            for slot in range(workers):
                fleet.start(slot)
            fleet.wait_ready()
            with Sampler(fleet, database) as sampler:
                _seed(sandbox, count, datetime.now(UTC), seed=workers)
                started = time.monotonic()
                while db.session.scalar(select(func.count()).where(Shipment.last_checked_at.is_(None))):
                    db.session.rollback()
                    fleet.check_alive()
                    if time.monotonic() - started > 600:
                        raise RuntimeError("not every shipment was polled within 10 minutes")
                    time.sleep(0.1)
                db.session.rollback()
            entries = sandbox.requests()
        finally:
            fleet.stop()
    served = [e for e in entries if e.served]
    seconds = max(e.wall for e in entries) - min(e.wall for e in entries)
    per_number = Counter(e.tracking_number for e in entries)
    return {
        "workers": workers,
        "shipments": count,
        "seconds": round(seconds, 2),
        "polls_per_s": round(len(served) / seconds, 1),
        "carrier_calls": len({(e.port, e.request) for e in entries}),
        "polled_twice": sum(1 for n in per_number.values() if n > 1),
        **sampler.rss_summary(),
        "db_sessions": sampler.wait_shares(),
    }


def calls_per_shipment_day(url: str, count: int, seconds: float, faults: bool) -> dict:
    """3 workers on the sandbox clock for one simulated day; carrier calls per shipment-day."""
    speed = 86400 / seconds
    app = _reset(url)
    database = url.rsplit("/", 1)[-1].split("?")[0]
    start = datetime.now(UTC).replace(hour=6, minute=0, second=0, microsecond=0)
    settings = SandboxSettings(speed=0, start=start, faults=FAULTS if faults else (), fault_seed=3)
    with (
        tempfile.TemporaryDirectory() as folder,
        SandboxServer(settings) as sandbox,
        app.app_context(),
    ):
        _seed(sandbox, count, start, seed=9)
        db.session.remove()
        env = _env(
            url,
            folder,
            CLOCK="sandbox",
            CARRIER_TIMEOUT_SECONDS=1.0,
            POLL_MAX_SHIPMENTS_PER_RUN=1000,
            # Leases are in service time: 10 real seconds at this speed.
            POLL_LEASE_SECONDS=int(10 * speed),
        )
        fleet = WorkerFleet(sandbox, env, Path(folder))
        try:
            for slot in range(3):
                fleet.start(slot)
            fleet.wait_ready()
            with Sampler(fleet, database) as sampler:
                sandbox.set_speed(speed)
                time.sleep(seconds)
                sandbox.set_speed(0)
                fleet.check_alive()
            entries = sandbox.requests()
        finally:
            fleet.stop()
    days = count * 1.0
    return {
        "faults": "20 %" if faults else "none",
        "shipments": count,
        "simulated_days": 1,
        "speed": round(speed),
        "calls_per_shipment_day": round(len({(e.port, e.request) for e in entries}) / days, 2),
        "lookups_per_shipment_day": round(len(entries) / days, 2),
        "faulted_lookups": sum(1 for e in entries if not e.served),
        **sampler.rss_summary(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shipments", type=int, default=5000)
    parser.add_argument("--workers", default="1,2,3")
    parser.add_argument("--day-shipments", type=int, default=2000)
    parser.add_argument("--day-seconds", type=float, default=40.0)
    args = parser.parse_args()
    url = os.environ.get("LEVERANSE_BENCH_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        print("skipped: set LEVERANSE_BENCH_DATABASE_URL to a scratch PostgreSQL database")
        return
    for workers in (int(n) for n in args.workers.split(",")):
        print(json.dumps({"throughput": throughput(url, args.shipments, workers)}), flush=True)
    for faults in (False, True):
        result = calls_per_shipment_day(url, args.day_shipments, args.day_seconds, faults)
        print(json.dumps({"schedule": result}), flush=True)


if __name__ == "__main__":
    main()
