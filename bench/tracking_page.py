"""The customer tracking page under load: the verified page of a branded shop through gunicorn on loopback.

Usage: python bench/tracking_page.py [--rate 200] [--seconds 60] [--workers 3] [--processes 4]
                                     [--threads 8] [--server-threads 2] [--postgres URL]
Seeds a shop with branding (colours and a logo) and a parcel on its way with 14 carrier scans, a customer
and a conversation, starts `gunicorn wsgi:app` as the README advises for production (gthread workers, which
keep the clients' connections alive; `--server-threads 1` runs sync workers), verifies the postcode once
per load process (as a customer does), then sends requests on an open-loop schedule: `--processes` client
processes, each with `--threads` keep-alive connections, together `--rate` requests a second for
`--seconds`. Latency counts from the moment a request was due, so a slow server cannot hide its queue
(coordinated omission). Prints p50 / p95 / p99, the achieved rate, errors, and the page weight: the HTML
and every stylesheet and script the page loads, in bytes, without images. Target: p95 ≤ 50 ms at 200/s,
weight ≤ 100 kB.
"""

from __future__ import annotations

import argparse
import http.client
import io
import multiprocessing
import os
import re
import statistics
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import requests
from delivery_service import fresh_app, gunicorn
from PIL import Image

NO_GEOCODER = "http://127.0.0.1:9"  # the tracking page never geocodes
POSTCODE = "0150"
P95_TARGET_MS, WEIGHT_TARGET_BYTES = 50, 100_000


def seed(app) -> str:
    """A branded shop and a parcel on its way with 14 scans and a conversation; returns its link token."""
    from app.admin.branding import BrandingChanges, update_branding
    from app.customer_care.cases import contact
    from app.extensions import db
    from app.models import Shipment, Shop, TrackingEvent
    from app.models.types import utcnow

    with app.app_context():
        shop = Shop(name="Fjord Sko")
        db.session.add(shop)
        db.session.flush()
        logo = io.BytesIO()
        Image.new("RGB", (160, 48), (139, 30, 63)).save(logo, "PNG")
        update_branding(shop, BrandingChanges("#8b1e3f", "#f4e9d8", logo.getvalue()))
        now = utcnow()
        shipment = Shipment(
            shop_id=shop.id,
            carrier="bring",
            tracking_number="70438101015432113",
            service="PAKKE_I_POSTKASSEN",
            order_ref="ORDER-10442",
            status="in_transit",
            poll_failures=0,
            customer_name="Kari Nordmann",
            customer_email="kari@example.no",
            customer_phone="+4791234567",
            customer_language="nb",
            customer_timezone="Europe/Oslo",
            destination_postcode=POSTCODE,
            destination_country="NO",
            shipped_at=now - timedelta(days=2),
            promised_date=(now + timedelta(days=1)).date(),
            last_checked_at=now - timedelta(minutes=9),
            eta_p10=now + timedelta(hours=20),
            eta_p50=now + timedelta(hours=26),
            eta_p90=now + timedelta(hours=34),
            p_late=0.12,
            risk_state="on_track",
        )
        db.session.add(shipment)
        db.session.flush()
        places = ("Oslo", "Oslo terminal", "Alnabru", "Lillestrøm", "Gardermoen", "Oslo")
        for i in range(14):
            db.session.add(
                TrackingEvent(
                    shipment_id=shipment.id,
                    occurred_at=now - timedelta(hours=48 - 3 * i),
                    status="info_received" if i == 0 else "in_transit",
                    carrier_code="EDI" if i == 0 else "TRM",
                    description="The shipment has been handed in" if i == 0 else "Sorted at the terminal",
                    location=places[i % len(places)],
                    source="poll",
                    content_hash=f"bench-{i}",
                )
            )
        contact(shipment, "Kan dere levere den til naboen?", "email", language="nb")
        db.session.commit()
        return shipment.link_token


def verified_cookie(base: str, token: str) -> str:
    """The session cookie of a browser that proved the postcode (CSRF token from the page, then the POST)."""
    session = requests.Session()
    page = session.get(f"{base}/t/{token}", timeout=30).text
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    answer = session.post(
        f"{base}/t/{token}/verify", data={"csrf_token": csrf, "postcode": POSTCODE}, timeout=30
    )
    answer.raise_for_status()
    if "Kari Nordmann" not in answer.text:
        raise RuntimeError("the postcode was not accepted")
    return "; ".join(f"{c.name}={c.value}" for c in session.cookies)


def page_weight(base: str, token: str, cookie: str) -> dict[str, int]:
    """Bytes of the verified page's HTML and of every stylesheet and script it loads (images left out)."""
    html = requests.get(f"{base}/t/{token}", headers={"Cookie": cookie}, timeout=30).text
    sizes = {"html": len(html.encode())}
    links = re.findall(r'<link rel="stylesheet" href="([^"]+)"', html) + re.findall(
        r'<script[^>]* src="([^"]+)"', html
    )
    for link in links:
        sizes[link] = len(requests.get(f"{base}{link}", timeout=30).content)
    return sizes


def server_cpu_seconds(base: str) -> float:
    """CPU seconds (user + system) used so far by the gunicorn processes listening on `base`'s port."""
    marker = f"127.0.0.1:{urlsplit(base).port}".encode()
    total = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if (
                b"gunicorn" not in (command := Path(f"/proc/{pid}/cmdline").read_bytes())
                or marker not in command
            ):
                continue
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # a process that ended meanwhile
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime in clock ticks
    return total / os.sysconf("SC_CLK_TCK")


def load(base: str, path: str, cookie: str, rate: float, seconds: float, threads: int, start_at: float):
    """One client process: `rate` requests a second on an open-loop schedule; (due-latency ms, send-latency
    ms, status) per request, and the CPU seconds the process used."""
    host, port = urlsplit(base).hostname, urlsplit(base).port
    results: list[tuple[float, float, int]] = []
    lock = threading.Lock()
    slots = iter(range(10**9))
    total = int(rate * seconds)

    def client() -> None:
        connection = http.client.HTTPConnection(host, port, timeout=30)
        while True:
            with lock:
                slot = next(slots)
            if slot >= total:
                break
            due = start_at + slot / rate
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            sent = time.perf_counter()
            try:
                connection.request("GET", path, headers={"Cookie": cookie})
                response = connection.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                connection.close()
                status = 0
            done = time.perf_counter()
            with lock:
                results.append(((done - due) * 1000, (done - sent) * 1000, status))
        connection.close()

    workers = [threading.Thread(target=client) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return results, time.process_time()


def _run(args: tuple) -> tuple[list[tuple[float, float, int]], float]:
    return load(*args)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--server-threads", type=int, default=2, help="above 1: gthread workers (keep-alive)")
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--postgres", help="a PostgreSQL URL (a scratch database) instead of a SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        database_url = args.postgres or f"sqlite:///{folder}/bench.db"
        token = seed(fresh_app(database_url, NO_GEOCODER))
        with gunicorn(database_url, NO_GEOCODER, args.workers, args.server_threads) as base:
            cookies = [verified_cookie(base, token) for _ in range(args.processes)]
            weight = page_weight(base, token, cookies[0])
            load(base, f"/t/{token}", cookies[0], 50, 2, 4, time.perf_counter())  # warm-up: every worker
            server_cpu = server_cpu_seconds(base)
            start_at = time.perf_counter() + 1.0  # perf_counter is system-wide on Linux: one schedule
            jobs = [
                (
                    base,
                    f"/t/{token}",
                    cookie,
                    args.rate / args.processes,
                    args.seconds,
                    args.threads,
                    start_at,
                )
                for cookie in cookies
            ]
            with multiprocessing.get_context("fork").Pool(args.processes) as pool:
                outcomes = pool.map(_run, jobs)
            wall = max(args.seconds, time.perf_counter() - start_at)
            server_cpu = server_cpu_seconds(base) - server_cpu
    results = [row for rows, _ in outcomes for row in rows]
    client_cpu = sum(cpu for _, cpu in outcomes)
    due = [r[0] for r in results]
    sent = [r[1] for r in results]
    errors = sum(1 for r in results if r[2] != 200)
    cut, cut_sent = statistics.quantiles(due, n=100), statistics.quantiles(sent, n=100)
    backend = "postgresql" if args.postgres else "sqlite"
    server = f" -k gthread --threads {args.server_threads}" if args.server_threads > 1 else ""
    print(
        f"verified tracking page ({backend}, gunicorn -w {args.workers}{server}, {args.processes} client processes × "
        f"{args.threads} connections, open loop at {args.rate:.0f}/s for {args.seconds:.0f} s)"
    )
    print(
        f"  latency from due time: p50 {cut[49]:.1f} ms, p95 {cut[94]:.1f} ms, p99 {cut[98]:.1f} ms, "
        f"max {max(due):.1f} ms (target p95 ≤ {P95_TARGET_MS} ms)"
    )
    print(
        f"  latency from send:     p50 {cut_sent[49]:.1f} ms, p95 {cut_sent[94]:.1f} ms, p99 {cut_sent[98]:.1f} ms"
    )
    print(f"  achieved {len(results) / wall:.1f} requests/s, {len(results)} requests, {errors} errors")
    print(
        f"  CPU per request: server {server_cpu / len(results) * 1000:.1f} ms (gunicorn, all workers), "
        f"load generator {client_cpu / len(results) * 1000:.2f} ms; load average {os.getloadavg()[0]:.1f}"
    )
    parts = ", ".join(f"{name} {size:,}" for name, size in weight.items())
    print(f"  page weight {sum(weight.values()):,} bytes ({parts}; target ≤ {WEIGHT_TARGET_BYTES:,})")


if __name__ == "__main__":
    main()
