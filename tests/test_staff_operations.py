"""The operations page adds up the figures every worker process flushed: a real `leveranse worker` next to
this test process, a silent worker, the window, and who may read the page."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import CarrierMinute, CarrierState, Role, Shop, WorkerProcess
from app.process_figures import flush_figures, process_figures
from app.tracking.polling import poll_due_shipments
from carriers.numbers import make_tracking_number
from carriers.sandbox.server import SandboxServer, SandboxSettings
from tests.factories import PASSWORD, make_shipment, make_shop, make_staff

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def sandbox(app):
    server = SandboxServer(SandboxSettings(port=0, speed=1.0, token_ttl=600)).start()
    app.config.update(SANDBOX_URL=server.url, CARRIER_MODE="sandbox", CARRIER_MAX_RETRIES=0)
    yield server
    server.stop()


def login(client, shop: Shop | None = None) -> None:
    """Log in as a viewer, of the operator (no shop) or of `shop`."""
    user = make_staff("viewer@ops.test", Role.VIEWER)
    user.shop_id = None if shop is None else shop.id
    db.session.commit()
    assert client.post("/staff/login", data={"email": user.email, "password": PASSWORD}).status_code == 302


def rows(html: str, table_id: str) -> list[list[str]]:
    """The body rows of the table `table_id`, as the text of their cells."""
    table = re.search(rf'<table[^>]*id="{table_id}".*?<tbody>(.*?)</tbody>', html, re.S)
    assert table, f"no table {table_id}"
    return [
        [
            " ".join(re.sub(r"<[^>]+>", " ", cell).split())
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", table[1], re.S)
    ]


def carrier_row(html: str, carrier: str) -> list[str]:
    """Carrier, calls, success, rate-limited, mean, p50, p95, breakers, last success, …"""
    return next(row for row in rows(html, "carrier-health") if row[0] == carrier)


def watch(sandbox, shop, carrier: str, seq: int) -> None:
    """A delivered parcel at the sandbox, due for a poll now."""
    number = make_tracking_number(carrier, seq)
    sandbox.register(carrier, number, "on_time", created_at=sandbox.now() - timedelta(hours=200))
    make_shipment(shop, carrier=carrier, tracking_number=number, next_poll_at=datetime.now(UTC))


def start_worker(database_url: str, sandbox_url: str, folder: Path) -> tuple[subprocess.Popen, Path]:
    """A real `leveranse worker` that polls and flushes every half second."""
    env = {
        **os.environ,
        "LEVERANSE_DATABASE_URL": database_url,
        "LEVERANSE_INSTANCE_DIR": str(folder),
        "LEVERANSE_SECRET_KEY": "operations-test-key",
        "LEVERANSE_CARRIER_MODE": "sandbox",
        "LEVERANSE_SANDBOX_URL": sandbox_url,
        "LEVERANSE_POLL_INTERVAL_SECONDS": "0.5",
        "LEVERANSE_FIGURES_FLUSH_SECONDS": "0.5",
        "LEVERANSE_GEOCODER_URL": "http://127.0.0.1:9",
        "LEVERANSE_LOG_LEVEL": "WARNING",
    }
    log = folder / "worker.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", "from app.cli.main import main; main()", "worker"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=REPO,
        )
    return process, log


def worker_calls(pid: int) -> int:
    """Calls the worker with `pid` has flushed so far."""
    db.session.rollback()  # a fresh snapshot of what the worker committed
    query = (
        select(func.coalesce(func.sum(CarrierMinute.calls), 0))
        .join(WorkerProcess, WorkerProcess.id == CarrierMinute.process_id)
        .where(WorkerProcess.pid == pid)
    )
    return db.session.scalar(query)


def test_the_page_needs_a_login_and_a_viewer_may_read_it(client) -> None:
    response = client.get("/staff/operations/")
    assert response.status_code == 302 and "/staff/login" in response.headers["Location"]
    login(client)
    assert client.get("/staff/operations/").status_code == 200
    assert client.get("/staff/operations/?window=24h").status_code == 200


@pytest.mark.timeout(120)
def test_a_real_worker_and_this_process_add_up(app, client, sandbox, database_url, tmp_path) -> None:
    shop, _ = make_shop()
    watch(sandbox, shop, "bring", 1)
    poll_due_shipments()
    flush_figures()
    watch(sandbox, shop, "bring", 2)
    watch(sandbox, shop, "bring", 3)
    db.session.remove()
    process, log = start_worker(database_url, sandbox.url, tmp_path)
    try:
        deadline = time.monotonic() + 60
        while worker_calls(process.pid) < 2:
            assert process.poll() is None, log.read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, log.read_text(errors="replace")[-3000:]
            time.sleep(0.2)
    finally:
        process.send_signal(signal.SIGTERM)  # a clean stop writes its last figures
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()  # never leave a worker polling the next test's database
            process.wait()
            raise
    login(client)
    html = client.get("/staff/operations/").get_data(as_text=True)
    assert carrier_row(html, "bring")[1:4] == ["3", "100.0 %", "0"]
    processes = {row[0]: row for row in rows(html, "processes")}
    mine = processes[f"{process_figures().host} · pid {os.getpid()}"]
    worker = processes[f"{process_figures().host} · pid {process.pid}"]
    assert (mine[1], mine[4]) == ("live", "1")
    assert (worker[1], worker[4]) == ("stopped", "2")
    assert "bring closed" in worker[6]


def test_a_silent_worker_is_shown_silent_and_its_breaker_left_out(app, client) -> None:
    now = datetime.now(UTC)
    minute = now.replace(second=0, microsecond=0)
    for pid, seen, state in ((101, now, "closed"), (102, now - timedelta(minutes=10), "open")):
        process_id = f"box:{pid}:aaa"
        started = now - timedelta(hours=2)
        db.session.add(
            WorkerProcess(
                id=process_id, host="box", pid=pid, started_at=started, last_seen_at=seen, flush_seconds=30
            )
        )
        db.session.flush()
        db.session.add(
            CarrierState(process_id=process_id, carrier="ups", breaker=state, last_success_at=seen)
        )
        db.session.add(
            CarrierMinute(
                process_id=process_id, carrier="ups", minute=minute - timedelta(minutes=10), calls=4, ok=3
            )
        )
        # Three hours ago: in the 24 h window, not in the last hour.
        db.session.add(
            CarrierMinute(
                process_id=process_id, carrier="ups", minute=minute - timedelta(hours=3), calls=10, ok=10
            )
        )
    db.session.commit()
    login(client)
    html = client.get("/staff/operations/").get_data(as_text=True)
    processes = {row[0]: row for row in rows(html, "processes")}
    assert processes["box · pid 101"][1] == "live" and processes["box · pid 102"][1] == "silent"
    assert "ups open" in processes["box · pid 102"][6]
    ups = carrier_row(html, "ups")
    assert ups[1:4] == ["8", "75.0 %", "0"]
    assert ups[7] == "closed ×1"  # the silent worker's open breaker is stale
    day = carrier_row(client.get("/staff/operations/?window=24h").get_data(as_text=True), "ups")
    assert day[1:3] == ["28", "92.9 %"]


def test_shop_staff_see_the_carrier_figures_but_not_the_processes(app, client) -> None:
    shop, _ = make_shop()
    make_shipment(shop, carrier="ups", tracking_number="1Z999AA10100000001")
    flush_figures()
    login(client, shop)
    html = client.get("/staff/operations/").get_data(as_text=True)
    assert 'id="processes"' not in html
    assert [row[0] for row in rows(html, "carrier-health")] == ["ups"]
