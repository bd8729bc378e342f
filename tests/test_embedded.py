"""The README's run command: one process serves the API and the pages while demo parcels get tracked."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(check, seconds: float):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            result = check()
        except requests.RequestException:
            result = None
        if result:
            return result
        time.sleep(0.5)
    raise AssertionError("timed out")


@pytest.mark.slow
def test_embedded_mode_tracks_demo_parcels_end_to_end(tmp_path: Path) -> None:
    port, sandbox_port = _free_port(), _free_port()
    env = {
        **os.environ,
        "LEVERANSE_INSTANCE_DIR": str(tmp_path),
        "LEVERANSE_DATABASE_URL": f"sqlite:///{tmp_path / 'embedded.db'}",
        "LEVERANSE_DEMO_HISTORY_ROWS": "1500",
        "LEVERANSE_DEMO_SHIPMENTS": "16",
        "LEVERANSE_POLL_INTERVAL_SECONDS": "1",
    }
    command = [
        sys.executable,
        "-c",
        "from app.cli.main import main; main()",
        "embedded",
        "--port",
        str(port),
        "--sandbox-port",
        str(sandbox_port),
    ]
    log = (tmp_path / "embedded.log").open("wb")
    process = subprocess.Popen(
        command,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=Path(__file__).resolve().parents[1],
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(lambda: requests.get(f"{base}/healthz", timeout=2).ok, 120)
        key = (tmp_path / "demo-api-key.txt").read_text().strip()
        headers = {"Authorization": f"Bearer {key}"}

        def tracked():
            items = requests.get(f"{base}/api/v1/shipments?per_page=100", headers=headers, timeout=5).json()[
                "items"
            ]
            checked = [item for item in items if item["freshness"]["last_checked_at"]]
            return checked if len(checked) >= 10 else None

        checked = _wait_for(tracked, 60)
        assert {item["status"] for item in checked} - {"pending"}
        assert any(item["risk_state"] for item in checked)
        assert requests.get(f"{base}/staff/login", timeout=5).status_code == 200
        email, password = (tmp_path / "demo-staff.txt").read_text().split()
        assert email and password
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
