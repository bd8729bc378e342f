"""Every environment variable the service reads, in one place."""

from __future__ import annotations

import os
from pathlib import Path

from carriers.registry import CARRIERS as POLLED_CARRIERS

INSTANCE_DIR = Path(os.environ.get("LEVERANSE_INSTANCE_DIR", Path.cwd() / "instance"))


def _env(name: str, default: str) -> str:
    return os.environ.get(f"LEVERANSE_{name}", default)


def _env_float(name: str, default: float) -> float:
    return float(_env(name, str(default)))


def _env_int(name: str, default: int) -> int:
    return int(_env(name, str(default)))


def _env_bool(name: str, default: bool) -> bool:
    return _env(name, "1" if default else "0").lower() in {"1", "true", "yes", "on"}


CARRIER_CODES = tuple(POLLED_CARRIERS)
CLAIM_API_CODES = ("easypost",)  # claims APIs that are not tracking carriers (USPS files through its own)
CREDENTIAL_NAMES = ("api_uid", "api_key", "client_id", "client_secret")


def carrier_env() -> dict[str, dict[str, str]]:
    """Per-carrier overrides: LEVERANSE_<CARRIER>_BASE_URL and credentials such as LEVERANSE_UPS_CLIENT_ID."""
    found: dict[str, dict[str, str]] = {}
    for code in (*CARRIER_CODES, *CLAIM_API_CODES):
        values = {}
        for name in ("base_url", *CREDENTIAL_NAMES):
            value = os.environ.get(f"LEVERANSE_{code.upper()}_{name.upper()}")
            if value:
                values[name] = value
        found[code] = values
    return found


class Config:
    """Production-leaning defaults; the embedded default only changes what it must."""

    SECRET_KEY = _env("SECRET_KEY", "")  # required outside the embedded mode: app/secret_key.py
    # Fernet key (urlsafe base64 of 32 bytes) that encrypts carrier credentials stored by staff admins
    CREDENTIALS_KEY = _env("CREDENTIALS_KEY", "")
    LOG_LEVEL = _env("LOG_LEVEL", "INFO")
    SQLALCHEMY_DATABASE_URI = _env("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'leveranse.db'}")
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    MAX_CONTENT_LENGTH = _env_int("MAX_CONTENT_LENGTH", 5 * 1024 * 1024)
    RATELIMIT_STORAGE_URI = _env("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # Served over HTTPS (production): cookies only travel encrypted. The embedded mode is plain HTTP.
    SESSION_COOKIE_SECURE = _env_bool("SECURE_COOKIES", False)
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    PERMANENT_SESSION_LIFETIME = _env_int("SESSION_HOURS", 12) * 3600

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
    SANDBOX_SPEED = _env_float("SANDBOX_SPEED", 60.0)  # `embedded`'s sandbox, and `sandbox --speed`
    # "sandbox": run on the clock of the sandbox at SANDBOX_URL (tests and demos only); "wall": real time
    CLOCK = _env("CLOCK", "wall")
    CARRIER_TIMEOUT_SECONDS = _env_float("CARRIER_TIMEOUT_SECONDS", 10.0)
    CARRIER_MAX_RETRIES = _env_int("CARRIER_MAX_RETRIES", 2)
    SANDBOX_RATE_PER_SECOND = _env_float("SANDBOX_RATE_PER_SECOND", 1000.0)  # the sandbox publishes no limit
    EASYPOST_WEBHOOK_SECRET = _env("EASYPOST_WEBHOOK_SECRET", "")
    AFTERSHIP_WEBHOOK_SECRET = _env("AFTERSHIP_WEBHOOK_SECRET", "")

    # Polling
    POLL_INTERVAL_SECONDS = _env_float("POLL_INTERVAL_SECONDS", 5.0)
    POLL_MAX_SHIPMENTS_PER_RUN = _env_int("POLL_MAX_SHIPMENTS_PER_RUN", 2000)
    POLL_FETCH_THREADS = _env_int("POLL_FETCH_THREADS", 8)
    POLL_INGEST_CHUNK = _env_int("POLL_INGEST_CHUNK", 200)
    POLL_LEASE_SECONDS = _env_int("POLL_LEASE_SECONDS", 300)
    # How often each process that runs jobs writes its carrier-call and job figures for the operations page
    # (app/process_figures.py); a killed process loses at most this much of them. Wall-clock seconds.
    FIGURES_FLUSH_SECONDS = _env_float("FIGURES_FLUSH_SECONDS", 30.0)
    HIGH_VALUE_THRESHOLD = _env_float("HIGH_VALUE_THRESHOLD", 2000.0)
    DELIVERED_GRACE_HOURS = _env_float("DELIVERED_GRACE_HOURS", 24.0)
    EXPIRE_AFTER_DAYS = _env_int("EXPIRE_AFTER_DAYS", 30)

    # Prediction
    RISK_AT_RISK_P_LATE = _env_float("RISK_AT_RISK_P_LATE", 0.4)
    # Customers hear "running late" only from the p_late at which, on history, this share of warned
    # parcels really were late (app/risk/warning_policy.py), judged on at least this many warnings.
    RISK_WARN_PRECISION = _env_float("RISK_WARN_PRECISION", 0.8)
    RISK_WARN_MIN_WARNINGS = _env_int("RISK_WARN_MIN_WARNINGS", 30)
    RISK_QUEUE_PRECISION = _env_float("RISK_QUEUE_PRECISION", 0.5)
    # A delay warning waits for a poll when the carrier was last asked longer ago than this (a little more
    # than the poll policy's rhythm for parcels at risk, 105 minutes)
    RISK_WARN_FRESH_SECONDS = _env_float("RISK_WARN_FRESH_SECONDS", 7200.0)
    RISK_LOST_P_LOST = _env_float("RISK_LOST_P_LOST", 0.5)
    RISK_STUCK_DWELL_FACTOR = _env_float("RISK_STUCK_DWELL_FACTOR", 3.0)
    RISK_RESCORE_INTERVAL_SECONDS = _env_float("RISK_RESCORE_INTERVAL_SECONDS", 300.0)
    RISK_RETRAIN_INTERVAL_SECONDS = _env_float("RISK_RETRAIN_INTERVAL_SECONDS", 86400.0)
    RISK_MIN_TRAINING_SHIPMENTS = _env_int("RISK_MIN_TRAINING_SHIPMENTS", 500)
    RISK_RECENT_DAYS = _env_int("RISK_RECENT_DAYS", 28)

    # Claims: carrier rules file (empty: the shipped app/claims/carrier_rules.toml), jobs, customer reports
    METRICS_TOKEN = _env("METRICS_TOKEN", "")  # empty: /metrics answers loopback clients only
    CLAIM_RULES_FILE = _env("CLAIM_RULES_FILE", "")
    CLAIM_DETECT_INTERVAL_SECONDS = _env_float("CLAIM_DETECT_INTERVAL_SECONDS", 120.0)
    CLAIM_PROGRESS_INTERVAL_SECONDS = _env_float("CLAIM_PROGRESS_INTERVAL_SECONDS", 60.0)
    CLAIM_DETECT_BATCH = _env_int("CLAIM_DETECT_BATCH", 5000)
    CLAIM_AUTO_SUBMIT = _env_bool("CLAIM_AUTO_SUBMIT", True)  # file API carriers' claims when due
    # kind=remedy pairs decided without staff, e.g. "lost=reship,not_received=refund"; empty: staff decide
    CLAIM_AUTO_REMEDY = _env("CLAIM_AUTO_REMEDY", "")
    # carriers whose labels the shop buys through EasyPost: their claims go to EasyPost's claims API
    CLAIM_EASYPOST_CARRIERS = tuple(c for c in _env("CLAIM_EASYPOST_CARRIERS", "").split(",") if c)
    CLAIM_FILES_DIR = Path(_env("CLAIM_FILES_DIR", str(INSTANCE_DIR / "claim-files")))
    CLAIM_REPORT_MAX_FILES = _env_int("CLAIM_REPORT_MAX_FILES", 4)
    CLAIM_REPORT_MAX_FILE_BYTES = _env_int("CLAIM_REPORT_MAX_FILE_BYTES", 5 * 1024 * 1024)
    CLAIM_REPORT_RATE_LIMIT = _env("CLAIM_REPORT_RATE_LIMIT", "5 per hour")

    API_BULK_LIMIT = _env_int("API_BULK_LIMIT", 1000)
    DEMO_SHIPMENTS = _env_int("DEMO_SHIPMENTS", 60)
    DEMO_STREAM_SECONDS = _env_float("DEMO_STREAM_SECONDS", 30.0)
    DEMO_HISTORY_ROWS = _env_int("DEMO_HISTORY_ROWS", 8000)

    # Notifications: customer messages, shop webhooks and the outbox dispatcher
    PUBLIC_BASE_URL = _env("PUBLIC_BASE_URL", "http://127.0.0.1:5000")  # tracking and unsubscribe links
    # Tracking links work while a parcel travels (or has an open claim) and this long after; unsubscribe
    # links this long after the message was sent (app/notify/links.py)
    TRACKING_LINK_DAYS = _env_int("TRACKING_LINK_DAYS", 90)
    UNSUBSCRIBE_LINK_DAYS = _env_int("UNSUBSCRIBE_LINK_DAYS", 365)
    SMTP_HOST = _env("SMTP_HOST", "")  # empty: emails are rendered and kept in the outbox as "captured"
    SMTP_PORT = _env_int("SMTP_PORT", 25)
    SMTP_USERNAME = _env("SMTP_USERNAME", "")
    SMTP_PASSWORD = _env("SMTP_PASSWORD", "")
    SMTP_STARTTLS = _env_bool("SMTP_STARTTLS", False)
    SMTP_SSL = _env_bool("SMTP_SSL", False)
    SMTP_FROM_ADDRESS = _env("SMTP_FROM_ADDRESS", "notifications@leveranse.test")
    SMTP_FROM_NAME = _env("SMTP_FROM_NAME", "Leveranse")
    SMS_BASE_URL = _env("SMS_BASE_URL", "")  # empty: SMS are rendered and kept as "captured"
    SMS_ACCOUNT_SID = _env("SMS_ACCOUNT_SID", "")
    SMS_AUTH_TOKEN = _env("SMS_AUTH_TOKEN", "")
    SMS_SENDER = _env("SMS_SENDER", "Leveranse")
    SMS_DEFAULT_REGION = _env("SMS_DEFAULT_REGION", "NO")
    SEND_TIMEOUT_SECONDS = _env_float("SEND_TIMEOUT_SECONDS", 10.0)
    WEBHOOKS_ALLOW_PRIVATE = _env_bool("WEBHOOKS_ALLOW_PRIVATE", False)  # SSRF guard off: tests/demo only
    WEBHOOK_SECRET_OVERLAP_HOURS = _env_float("WEBHOOK_SECRET_OVERLAP_HOURS", 24.0)
    QUIET_HOURS_START = _env("QUIET_HOURS_START", "21:00")
    QUIET_HOURS_END = _env("QUIET_HOURS_END", "08:00")
    ARRIVING_SOON_MINUTES = _env_int("ARRIVING_SOON_MINUTES", 60)
    PICKUP_HOLD_DAYS = _env_int("PICKUP_HOLD_DAYS", 14)
    OUTBOX_INTERVAL_SECONDS = _env_float("OUTBOX_INTERVAL_SECONDS", 1.0)
    OUTBOX_BATCH_SIZE = _env_int("OUTBOX_BATCH_SIZE", 500)
    # A dispatcher renews the lease on its rows every heartbeat; a dead one's rows are due a lease later.
    OUTBOX_LEASE_SECONDS = _env_float("OUTBOX_LEASE_SECONDS", 20.0)
    OUTBOX_HEARTBEAT_SECONDS = _env_float("OUTBOX_HEARTBEAT_SECONDS", 5.0)
    OUTBOX_SEND_THREADS = _env_int("OUTBOX_SEND_THREADS", 4)
    NOTIFY_SCAN_INTERVAL_SECONDS = _env_float("NOTIFY_SCAN_INTERVAL_SECONDS", 60.0)

    # Delivery options at checkout: geocoding, slot offers, holds, re-optimisation
    GEOCODER_URL = _env("GEOCODER_URL", "https://nominatim.openstreetmap.org")  # any Nominatim-compatible
    GEOCODER_USER_AGENT = _env("GEOCODER_USER_AGENT", "leveranse/0.1 (ops@leveranse.invalid)")
    GEOCODER_MIN_DELAY_SECONDS = _env_float("GEOCODER_MIN_DELAY_SECONDS", 1.0)  # Nominatim: 1 request/s
    GEOCODER_TIMEOUT_SECONDS = _env_float("GEOCODER_TIMEOUT_SECONDS", 3.0)
    GEOCODE_CACHE_DAYS = _env_int("GEOCODE_CACHE_DAYS", 90)
    ROUTING_SPEED_KMH = _env_float("ROUTING_SPEED_KMH", 30.0)
    ROUTING_DETOUR_FACTOR = _env_float("ROUTING_DETOUR_FACTOR", 1.3)
    OPTIONS_DEFAULT_DAYS = _env_int("OPTIONS_DEFAULT_DAYS", 5)
    OPTIONS_MAX_DAYS = _env_int("OPTIONS_MAX_DAYS", 14)
    PRICE_PER_KM = _env("PRICE_PER_KM", "4")
    PRICE_MAX_DISCOUNT = _env("PRICE_MAX_DISCOUNT", "30")
    PRICE_MAX_SURCHARGE = _env("PRICE_MAX_SURCHARGE", "60")
    HOLD_TTL_SECONDS = _env_int("HOLD_TTL_SECONDS", 900)
    EXPIRE_HOLDS_INTERVAL_SECONDS = _env_float("EXPIRE_HOLDS_INTERVAL_SECONDS", 30.0)
    REPLAN_INTERVAL_SECONDS = _env_float("REPLAN_INTERVAL_SECONDS", 10.0)
    REPLAN_DEBOUNCE_SECONDS = _env_float("REPLAN_DEBOUNCE_SECONDS", 5.0)
    REPLAN_TIME_LIMIT_SECONDS = _env_float("REPLAN_TIME_LIMIT_SECONDS", 2.0)
    REPLAN_DAYS_PER_RUN = _env_int("REPLAN_DAYS_PER_RUN", 4)
    DEMO_BOOKING_INTERVAL_SECONDS = _env_float("DEMO_BOOKING_INTERVAL_SECONDS", 20.0)

    # Customer tracking page: per-IP limits on number+postcode lookups and postcode verifications
    TRACKING_LOOKUP_RATE_LIMIT = _env("TRACKING_LOOKUP_RATE_LIMIT", "10 per minute; 50 per hour")
    TRACKING_VERIFY_RATE_LIMIT = _env("TRACKING_VERIFY_RATE_LIMIT", "10 per minute; 50 per hour")
    # "Contact us about this parcel" messages per IP
    CONTACT_RATE_LIMIT = _env("CONTACT_RATE_LIMIT", "5 per hour; 20 per day")


class TestConfig(Config):
    """Tests: a database per run (PostgreSQL when LEVERANSE_TEST_DATABASE_URL is set)."""

    TESTING = True
    WTF_CSRF_ENABLED = False
    SECRET_KEY = "test"
    CREDENTIALS_KEY = "4sOYKx3mJ6oWXTq2u-PNZsb3aWcsPRakdJZjahdH7Ac="  # a Fernet key for tests only
    SQLALCHEMY_DATABASE_URI = _env("TEST_DATABASE_URL", "sqlite://")
    GEOCODER_URL = "http://127.0.0.1:9"  # tests start the local gazetteer; never the internet
    GEOCODER_MIN_DELAY_SECONDS = 0.0
    CARRIERS = {code: {} for code in (*CARRIER_CODES, *CLAIM_API_CODES)}
    EASYPOST_WEBHOOK_SECRET = "easypost-test-secret"
    AFTERSHIP_WEBHOOK_SECRET = "aftership-test-secret"
    POLL_FETCH_THREADS = 4
    WEBHOOKS_ALLOW_PRIVATE = True
    PUBLIC_BASE_URL = "https://track.example.test"
