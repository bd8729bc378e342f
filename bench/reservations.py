"""The reservation race through gunicorn: 50 concurrent clients hold and confirm one slot of capacity 5.

Usage: python bench/reservations.py [--clients 50] [--workers 4] [--postgres URL]
Prints how many holds and confirmations succeeded (must be exactly 5) and the slot's counters.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from collections import Counter
from datetime import timedelta

import requests
from delivery_service import fresh_app, gunicorn

from planning.geo_sandbox import GeocoderSandbox

CAPACITY = 5


def seed(app) -> tuple[str, dict]:
    """A shop whose slots take 5 deliveries; returns its key and the hold request for the contested slot."""
    from app.delivery.depot_days import closed_reason, local_today
    from app.demo.fleet import create_fleet
    from app.extensions import db
    from app.models import ApiKey, Shop
    from app.models.types import utcnow

    with app.app_context():
        shop = Shop(name="Race shop")
        db.session.add(shop)
        _, key = ApiKey.issue(shop, "bench")
        db.session.flush()
        depot = create_fleet(shop, vans=2, slot_capacity=CAPACITY)
        db.session.commit()
        day = local_today(depot, utcnow()) + timedelta(days=2)
        while closed_reason(depot, day):
            day += timedelta(days=1)
        body = {
            "template_id": depot.templates[1].id,
            "date": day.isoformat(),
            "coordinates": {"lat": 59.92, "lon": 10.75},
            "parcel": {"weight_kg": 3},
        }
        return key, body


def race(url: str, key: str, body: dict, clients: int) -> tuple[Counter, int]:
    barrier = threading.Barrier(clients)
    outcomes: Counter = Counter()
    confirmed = [0]
    lock = threading.Lock()

    def client() -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {key}"
        barrier.wait()
        held = session.post(f"{url}/api/v1/reservations", json=body, timeout=60)
        ok = False
        if held.status_code == 201:
            done = session.post(f"{url}/api/v1/reservations/{held.json()['id']}/confirm", json={}, timeout=60)
            ok = done.status_code == 200
        with lock:
            outcomes[held.status_code] += 1
            confirmed[0] += ok

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes, confirmed[0]


def slot_counters(app) -> tuple[int, int]:
    from app.extensions import db
    from app.models import Slot

    with app.app_context():
        slot = db.session.scalars(db.select(Slot)).one()
        return slot.held, slot.booked


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--postgres", help="a PostgreSQL URL to use instead of a SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, GeocoderSandbox() as geocoder:
        database_url = args.postgres or f"sqlite:///{folder}/race.db"
        app = fresh_app(database_url, geocoder.url)
        key, body = seed(app)
        with gunicorn(database_url, geocoder.url, args.workers) as url:
            began = time.perf_counter()
            outcomes, confirmed = race(url, key, body, args.clients)
            seconds = time.perf_counter() - began
        held, booked = slot_counters(app)
    backend = "postgresql" if args.postgres else "sqlite"
    setup = f"gunicorn -w {args.workers}, {args.clients} clients, capacity {CAPACITY}"
    print(
        f"reservation race ({backend}, {setup}): "
        f"holds {dict(sorted(outcomes.items()))}, confirmed {confirmed}, slot held={held} booked={booked}, "
        f"{seconds:.2f} s"
    )
    if confirmed != CAPACITY or booked != CAPACITY:
        raise SystemExit("OVERBOOKED OR UNDERBOOKED")


if __name__ == "__main__":
    main()
