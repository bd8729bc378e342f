"""The README's run command: one process serves the API and the pages while demo parcels get tracked.

Every port is 0, so the OS picks free ones (no race, and `make run` may be running alongside); the
service prints where it listens.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests


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


def _listening_at(log: Path, process: subprocess.Popen) -> str | None:
    """The web server's base URL once the service has printed it."""
    assert process.poll() is None, f"embedded exited:\n{log.read_text(errors='replace')[-3000:]}"
    found = re.search(r"Leveranse on (http://\S+?)/ ", log.read_text(errors="replace"))
    return found[1] if found else None


@pytest.mark.slow
def test_embedded_mode_tracks_demo_parcels_end_to_end(tmp_path: Path) -> None:
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
        *("--port", "0", "--sandbox-port", "0", "--smtp-port", "0", "--sms-port", "0"),
    ]
    log_path = tmp_path / "embedded.log"
    log = log_path.open("wb")
    process = subprocess.Popen(
        command,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=Path(__file__).resolve().parents[1],
    )
    try:
        base = _wait_for(lambda: _listening_at(log_path, process), 120)
        assert requests.get(f"{base}/healthz", timeout=2).ok
        started = log_path.read_text(errors="replace")
        assert "local SMTP sink on 127.0.0.1:" in started and "SMS sandbox on http://127.0.0.1:" in started
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
