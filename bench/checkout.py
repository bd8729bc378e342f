"""Checkout latency: `POST /api/v1/delivery-options` through gunicorn, 5 open days x 10 vans x 300 stops.

Usage: python bench/checkout.py [--requests 600] [--clients 2] [--workers 2] [--postgres URL]
Seeds the database through the real hold + confirm path (takes a minute), starts the local geocoder and
gunicorn, then times requests from client threads (random Oslo addresses, geocoded once then cached, and
raw coordinates). Prints p50 / p95 / p99 in milliseconds.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import threading
import time
from datetime import timedelta

import requests
from delivery_service import fresh_app, gunicorn

from planning.geo_sandbox import Gazetteer, GeocoderSandbox

DAYS, VANS, STOPS = 5, 10, 300


def seed(app) -> tuple[str, int]:
    """A shop with 10 vans and 5 open days of 300 confirmed stops each; returns its API key and days asked."""
    from app.delivery.depot_days import closed_reason, local_today
    from app.demo.fleet import create_fleet, seed_bookings
    from app.extensions import db
    from app.models import ApiKey, Shop
    from app.models.types import utcnow

    with app.app_context():
        shop = Shop(name="Bench shop")
        db.session.add(shop)
        _, key = ApiKey.issue(shop, "bench")
        db.session.flush()
        depot = create_fleet(shop, vans=VANS, capacity_kg=800, slot_capacity=60, zone_radius_km=20)
        db.session.commit()
        now, rng = utcnow(), random.Random(5)
        day, days = local_today(depot, now) + timedelta(days=1), []
        while len(days) < DAYS:
            if closed_reason(depot, day) is None:
                days.append(day)
            day += timedelta(days=1)
        for day in days:
            began = time.perf_counter()
            made = seed_bookings(depot, day, STOPS, rng=rng, now=now)
            print(f"seeded {day}: {made} stops in {time.perf_counter() - began:.1f} s", flush=True)
        return key, (days[-1] - local_today(depot, now)).days + 1


def measure(url: str, key: str, days: int, total: int, clients: int) -> list[float]:
    addresses = Gazetteer().addresses("Oslo", 400, seed="bench-checkout")
    latencies: list[float] = []
    lock = threading.Lock()

    def client(n: int, seed_: int) -> None:
        rng, session = random.Random(seed_), requests.Session()
        session.headers["Authorization"] = f"Bearer {key}"
        for _ in range(n):
            if rng.random() < 0.7:
                a = rng.choice(addresses)
                place = {
                    "address": {"street": a.street, "postcode": a.postcode, "city": a.city, "country": "NO"}
                }
            else:
                place = {"coordinates": {"lat": rng.uniform(59.88, 59.96), "lon": rng.uniform(10.65, 10.88)}}
            body = {**place, "parcel": {"weight_kg": rng.uniform(0.5, 15)}, "days": days}
            began = time.perf_counter()
            response = session.post(f"{url}/api/v1/delivery-options", json=body, timeout=30)
            elapsed = time.perf_counter() - began
            response.raise_for_status()
            with lock:
                latencies.append(elapsed * 1000)

    client(30, 99)  # warm-up: imports, first geocodes, day plans cached in the workers
    latencies.clear()
    threads = [threading.Thread(target=client, args=(total // clients, k)) for k in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--postgres", help="a PostgreSQL URL to use instead of a SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, GeocoderSandbox() as geocoder:
        database_url = args.postgres or f"sqlite:///{folder}/bench.db"
        key, days = seed(fresh_app(database_url, geocoder.url))
        with gunicorn(database_url, geocoder.url, args.workers) as url:
            began = time.perf_counter()
            latencies = measure(url, key, days, args.requests, args.clients)
            wall = time.perf_counter() - began
    cuts = statistics.quantiles(latencies, n=100)
    backend = "postgresql" if args.postgres else "sqlite"
    setup = f"{DAYS} days x {VANS} vans x {STOPS} stops, gunicorn -w {args.workers}"
    print(
        f"delivery-options ({backend}, {setup}, "
        f"{args.clients} clients, {len(latencies)} requests): p50 {cuts[49]:.1f} ms, p95 {cuts[94]:.1f} ms, "
        f"p99 {cuts[98]:.1f} ms, max {max(latencies):.1f} ms, {len(latencies) / wall:.0f} req/s"
    )


if __name__ == "__main__":
    main()
