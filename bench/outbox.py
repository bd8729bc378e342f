"""Outbox throughput and end-to-end delay, through the real outbox and dispatcher (a SQLite file database,
or PostgreSQL when LEVERANSE_BENCH_DATABASE_URL is set: a scratch database, its tables are dropped).

Usage: python bench/outbox.py [N]   (default 2000)

1. N emails to a local aiosmtpd, then N webhooks to a local receiver, dispatched by `dispatch_due`
   from one worker process (claim, lease, send on OUTBOX_SEND_THREADS threads, each thread marking
   the attempt started and recording its outcome in its own short transaction).
   The receivers run in a separate process, as a real SMTP relay and shop endpoint would.
2. End to end: status changes ingested at random moments while the dispatcher job runs on
   APScheduler at the default interval; delay = SMTP server received - ingest committed.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import random
import socket
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from aiosmtpd.controller import Controller
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app import create_app  # noqa: E402
from app.config import TestConfig  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import Notification, Shipment, Shop, WebhookEndpoint  # noqa: E402
from app.models.types import utcnow  # noqa: E402
from app.notify.dispatch import dispatch_due  # noqa: E402
from app.notify.enqueue import Change, queue_change
from app.notify.settings import shop_settings  # noqa: E402
from app.tracking.updates import process_updates  # noqa: E402
from carriers.model import Status, TrackingEvent, TrackingUpdate  # noqa: E402
from notifications.model import Trigger  # noqa: E402
from notifications.webhook_sandbox import WebhookSandbox  # noqa: E402


class Sink:
    """Counts messages and remembers when each Message-ID arrived."""

    def __init__(self) -> None:
        self.count = 0
        self.arrived: dict[str, float] = {}
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        headers = envelope.content.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
        for line in headers.split("\r\n"):
            if line.lower().startswith("to:"):
                with self.lock:
                    self.arrived[line.split(":", 1)[1].strip()] = time.time()
        with self.lock:
            self.count += 1
        return "250 OK"


def serve_receivers(smtp_port: int, ready, counts, stop) -> None:
    """In a separate process, so the receivers do not compete with the dispatcher for the GIL."""

    class Counting:
        async def handle_DATA(self, server, session, envelope):
            counts[0] += 1
            return "250 OK"

    controller = Controller(Counting(), hostname="127.0.0.1", port=smtp_port)
    controller.start()
    with WebhookSandbox(["whsec_bench"]) as receiver:
        ready.put(receiver.endpoint)
        while not stop.wait(0.05):
            counts[1] = len(receiver.events)
    controller.stop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fill(shop: Shop, n: int, prefix: str) -> None:
    """N pending rows: one rendered message copied (rendering is not what this measures)."""
    shipment = Shipment(
        shop_id=shop.id,
        carrier="bring",
        tracking_number=f"{prefix}TEMPLATE",
        customer_email="kunde@example.no",
        customer_timezone="UTC",
        poll_failures=0,
    )
    db.session.add(shipment)
    db.session.flush()
    queue_change(shipment, Change(Trigger.OUT_FOR_DELIVERY, prefix, {}))
    db.session.flush()
    template = db.session.scalars(select(Notification).where(Notification.shipment_id == shipment.id)).all()
    rows = []
    for row in template:
        for i in range(n):
            rows.append(
                Notification(
                    **{
                        column.key: getattr(row, column.key)
                        for column in Notification.__table__.columns
                        if column.key != "id"
                    }
                    | {
                        "dedupe_key": f"{row.dedupe_key}:{i}",
                        "recipient": f"kunde{i}@example.no" if row.channel == "email" else row.recipient,
                        "event_id": f"{row.event_id}{i}" if row.event_id else None,
                    }
                )
            )
        db.session.delete(row)
    db.session.add_all(rows)
    db.session.commit()


def throughput(label: str, n: int, received) -> None:
    start, cpu = time.perf_counter(), time.process_time()
    stats = dispatch_due()
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    deadline = time.monotonic() + 5  # the receiver process publishes its count every 50 ms
    while received() < n and time.monotonic() < deadline:
        time.sleep(0.05)
    assert stats.sent == n and received() == n, (stats, received())
    print(
        f"{label:<10} {n / elapsed:8.0f} /s  ({n} in {elapsed:.2f} s, {cpu:.2f} CPU s, {stats.claimed} claimed)"
    )


def end_to_end(app, sink: Sink, shop: Shop, count: int) -> None:
    def job() -> None:
        with app.app_context():
            try:
                dispatch_due()
            finally:
                db.session.remove()

    scheduler = BackgroundScheduler()
    scheduler.add_job(job, "interval", seconds=app.config["OUTBOX_INTERVAL_SECONDS"], max_instances=1)
    scheduler.start()
    rng = random.Random(3)
    committed: dict[str, float] = {}
    try:
        for i in range(count):
            time.sleep(rng.uniform(0.05, 0.6))
            email = f"e2e{i}@example.no"
            shipment = Shipment(
                shop_id=shop.id,
                carrier="bring",
                tracking_number=f"E2E{i:05d}",
                customer_email=email,
                customer_timezone="UTC",
                poll_failures=0,
                created_at=datetime(2026, 1, 1, tzinfo=UTC),
            )
            db.session.add(shipment)
            db.session.flush()
            scan = TrackingEvent(utcnow(), Status.OUT_FOR_DELIVERY, "OUT", "Out for delivery", "OSLO")
            update = TrackingUpdate("bring", shipment.tracking_number, Status.OUT_FOR_DELIVERY, (scan,))
            process_updates([(shipment, update)], source="webhook")
            db.session.commit()
            committed[email] = time.time()
        deadline = time.time() + 10
        while len([e for e in committed if e in sink.arrived]) < count and time.time() < deadline:
            time.sleep(0.05)
    finally:
        scheduler.shutdown()
    delays = sorted(sink.arrived[e] - t for e, t in committed.items() if e in sink.arrived)
    p95 = delays[int(len(delays) * 0.95) - 1]
    print(
        f"end-to-end {len(delays)}/{count} delivered; delay p50 {statistics.median(delays):.2f} s, "
        f"p95 {p95:.2f} s, max {delays[-1]:.2f} s (job interval {app.config['OUTBOX_INTERVAL_SECONDS']:g} s)"
    )


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    for name in ("mail.log", "apscheduler"):
        logging.getLogger(name).setLevel(logging.WARNING)
    folder = tempfile.mkdtemp(prefix="bench-outbox-")
    spawn = multiprocessing.get_context("spawn")
    ready, counts, stop, smtp_port = spawn.Queue(), spawn.Array("i", 2), spawn.Event(), free_port()
    receivers = spawn.Process(target=serve_receivers, args=(smtp_port, ready, counts, stop), daemon=True)
    receivers.start()
    webhook_url = ready.get(timeout=30)
    sink, sink_port = Sink(), free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=sink_port)
    controller.start()
    app = create_app(
        TestConfig,
        SQLALCHEMY_DATABASE_URI=os.environ.get("LEVERANSE_BENCH_DATABASE_URL")
        or f"sqlite:///{folder}/bench.db",
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=smtp_port,
        OUTBOX_BATCH_SIZE=n,
    )
    try:
        with app.app_context():
            db.drop_all()
            db.create_all()
            shop = Shop(name="Bench shop")
            db.session.add(shop)
            db.session.commit()
            config = app.config
            print(f"threads {config['OUTBOX_SEND_THREADS']}, each outcome committed as it comes")
            fill(shop, n, "MAIL")
            throughput("email", n, lambda: counts[0])
            endpoint = WebhookEndpoint(shop_id=shop.id, url=webhook_url, secret="whsec_bench")
            db.session.add(endpoint)
            settings = shop_settings(shop.id)
            settings.channels = []
            db.session.add(settings)
            db.session.commit()
            fill(shop, n, "HOOK")
            throughput("webhooks", n, lambda: counts[1])
            settings.channels = ["email"]
            endpoint.enabled = False
            db.session.commit()
            config["SMTP_PORT"] = sink_port
            end_to_end(app, sink, shop, 30)
    finally:
        stop.set()
        receivers.join(timeout=10)
        controller.stop()


if __name__ == "__main__":
    main()
