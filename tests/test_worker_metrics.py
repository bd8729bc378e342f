"""`leveranse worker --metrics-port`: what a worker process counts can be scraped from that process."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import requests

from app.extensions import db
from app.models.types import utcnow
from carriers.numbers import make_tracking_number
from carriers.sandbox.server import SandboxServer, SandboxSettings
from tests.factories import make_shipment, make_shop

REPO = Path(__file__).resolve().parents[1]
POLLED_OK = 'leveranse_carrier_calls_total{carrier="bring",outcome="ok"} 1.0'


def _metrics_url(log: Path, process: subprocess.Popen, seconds: float = 60) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        assert process.poll() is None, f"the worker exited:\n{text[-3000:]}"
        found = re.search(r"worker: metrics on (http://\S+)", text)
        if found:
            return found[1]
        time.sleep(0.1)
    raise AssertionError("the worker printed no metrics address")


def test_a_counter_incremented_in_the_worker_is_served_by_it(app, database_url, tmp_path) -> None:
    with SandboxServer(SandboxSettings(port=0, speed=1.0)) as sandbox:
        number = make_tracking_number("bring", 1)
        sandbox.register("bring", number, "on_time", created_at=sandbox.now() - timedelta(hours=200))
        shop, _ = make_shop()
        make_shipment(shop, tracking_number=number, next_poll_at=utcnow())
        db.session.remove()
        env = {
            **os.environ,
            "LEVERANSE_DATABASE_URL": database_url,
            "LEVERANSE_INSTANCE_DIR": str(tmp_path),
            "LEVERANSE_SECRET_KEY": "worker-metrics-test-key",
            "LEVERANSE_CARRIER_MODE": "sandbox",
            "LEVERANSE_SANDBOX_URL": sandbox.url,
            "LEVERANSE_POLL_INTERVAL_SECONDS": "0.5",
        }
        log = tmp_path / "worker.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    "from app.cli.main import main; main()",
                    "worker",
                    "--metrics-port",
                    "0",
                ],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=REPO,
            )
            try:
                url = _metrics_url(log, process)
                assert "leveranse_carrier_calls_total" in requests.get(url, timeout=5).text
                deadline = time.monotonic() + 30
                while POLLED_OK not in (body := requests.get(url, timeout=5).text):
                    assert process.poll() is None, log.read_text(errors="replace")[-3000:]
                    assert time.monotonic() < deadline, f"the poll was never counted:\n{body}"
                    time.sleep(0.2)
                assert 'leveranse_shipments_polled_total{carrier="bring",outcome="ok"} 1.0' in body
            finally:
                process.send_signal(signal.SIGINT)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
