"""Every environment variable the service reads, in one place."""

from __future__ import annotations

import os
from pathlib import Path

INSTANCE_DIR = Path(os.environ.get("LEVERANSE_INSTANCE_DIR", Path.cwd() / "instance"))


def _env(name: str, default: str) -> str:
    return os.environ.get(f"LEVERANSE_{name}", default)


def _env_float(name: str, default: float) -> float:
    return float(_env(name, str(default)))


def _env_int(name: str, default: int) -> int:
    return int(_env(name, str(default)))


def _env_bool(name: str, default: bool) -> bool:
    return _env(name, "1" if default else "0").lower() in {"1", "true", "yes", "on"}


CARRIER_CODES = ("bring", "postnord", "dhl", "ups", "fedex", "usps", "gls", "thailandpost")
CREDENTIAL_NAMES = ("api_uid", "api_key", "client_id", "client_secret")


def carrier_env() -> dict[str, dict[str, str]]:
    """Per-carrier overrides: LEVERANSE_<CARRIER>_BASE_URL and credentials such as LEVERANSE_UPS_CLIENT_ID."""
    found: dict[str, dict[str, str]] = {}
    for code in CARRIER_CODES:
        values = {}
        for name in ("base_url", *CREDENTIAL_NAMES):
            value = os.environ.get(f"LEVERANSE_{code.upper()}_{name.upper()}")
            if value:
                values[name] = value
        found[code] = values
    return found


class Config:
    """Production-leaning defaults; the embedded default only changes what it must."""

    SECRET_KEY = _env("SECRET_KEY", "dev-only-change-me")
    SQLALCHEMY_DATABASE_URI = _env("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'leveranse.db'}")
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    MAX_CONTENT_LENGTH = _env_int("MAX_CONTENT_LENGTH", 5 * 1024 * 1024)
    RATELIMIT_STORAGE_URI = _env("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"

    # OpenAPI (flask-smorest)
    API_TITLE = "Leveranse API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    API_SPEC_OPTIONS = {
        "security": [{"bearerAuth": []}],
        "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
        "info": {"description": "Shop API of Leveranse. Errors are RFC 9457 problem details."},
    }

    # Carriers: "sandbox" talks to the built-in sandbox; "live" to the carriers' real hosts.
    CARRIER_MODE = _env("CARRIER_MODE", "sandbox")
    CARRIERS = carrier_env()
    SANDBOX_URL = _env("SANDBOX_URL", "")  # empty: the embedded command starts one in-process
    SANDBOX_SPEED = _env_float("SANDBOX_SPEED", 600.0)
    CARRIER_TIMEOUT_SECONDS = _env_float("CARRIER_TIMEOUT_SECONDS", 10.0)
    EASYPOST_WEBHOOK_SECRET = _env("EASYPOST_WEBHOOK_SECRET", "")
    AFTERSHIP_WEBHOOK_SECRET = _env("AFTERSHIP_WEBHOOK_SECRET", "")

    # Polling
    POLL_INTERVAL_SECONDS = _env_float("POLL_INTERVAL_SECONDS", 5.0)
    POLL_MAX_SHIPMENTS_PER_RUN = _env_int("POLL_MAX_SHIPMENTS_PER_RUN", 2000)
    POLL_FETCH_THREADS = _env_int("POLL_FETCH_THREADS", 8)
    POLL_LEASE_SECONDS = _env_int("POLL_LEASE_SECONDS", 300)
    HIGH_VALUE_THRESHOLD = _env_float("HIGH_VALUE_THRESHOLD", 2000.0)
    DELIVERED_GRACE_HOURS = _env_float("DELIVERED_GRACE_HOURS", 48.0)
    EXPIRE_AFTER_DAYS = _env_int("EXPIRE_AFTER_DAYS", 30)

    API_BULK_LIMIT = _env_int("API_BULK_LIMIT", 1000)
    DEMO_SHIPMENTS = _env_int("DEMO_SHIPMENTS", 40)


class TestConfig(Config):
    """Tests: a database per run (PostgreSQL when LEVERANSE_TEST_DATABASE_URL is set)."""

    TESTING = True
    WTF_CSRF_ENABLED = False
    SECRET_KEY = "test"
    SQLALCHEMY_DATABASE_URI = _env("TEST_DATABASE_URL", "sqlite://")
    CARRIERS = {code: {} for code in CARRIER_CODES}
    EASYPOST_WEBHOOK_SECRET = "easypost-test-secret"
    AFTERSHIP_WEBHOOK_SECRET = "aftership-test-secret"
    POLL_FETCH_THREADS = 4
