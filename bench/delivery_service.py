"""Shared by the delivery benchmarks: a seeded database, the local geocoder, and gunicorn serving the app.

Not a benchmark itself: `bench/checkout.py` and `bench/reservations.py` import it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def service_env(database_url: str, geocoder_url: str) -> dict[str, str]:
    """Environment of the service under test (read by app/config.py in every process)."""
    return {
        "LEVERANSE_DATABASE_URL": database_url,
        "LEVERANSE_GEOCODER_URL": geocoder_url,
        "LEVERANSE_GEOCODER_MIN_DELAY_SECONDS": "0",
        "LEVERANSE_LOG_LEVEL": "WARNING",
        "LEVERANSE_SECRET_KEY": "bench-only-secret-key-not-for-production",
    }


def fresh_app(database_url: str, geocoder_url: str):
    """The app bound to an emptied database with every table created."""
    os.environ.update(service_env(database_url, geocoder_url))
    from app import create_app
    from app.extensions import db

    app = create_app()
    with app.app_context():
        db.drop_all()
        db.create_all()
    return app


@contextmanager
def gunicorn(database_url: str, geocoder_url: str, workers: int = 2, threads: int = 1) -> Iterator[str]:
    """`gunicorn wsgi:app` on a free loopback port, as in production; yields its base URL. With `threads`
    above 1 the workers are gthread workers, which keep connections alive (sync workers close them)."""
    port = free_port()
    env = {**os.environ, **service_env(database_url, geocoder_url)}
    command = [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}"]
    if threads > 1:
        command += ["-k", "gthread", "--threads", str(threads)]
    process = subprocess.Popen([*command, "--log-level", "warning", "wsgi:app"], cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"{url}/healthz", timeout=5)
                break
            except (requests.ConnectionError, requests.Timeout):
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
