"""Carrier clients built from config, once per process (they hold sessions, tokens, breakers)."""

from __future__ import annotations

import threading

from flask import Flask, current_app

from app.admin.credentials import stored_credentials
from carriers.base import CarrierSettings
from carriers.registry import CARRIERS, DEFAULT_BASE_URLS

SANDBOX_CREDENTIALS = {
    "api_uid": "sandbox@leveranse.test",
    "api_key": "sandbox-key",
    "client_id": "sandbox",
    "client_secret": "sandbox-secret",
}

_lock = threading.Lock()


def carrier_settings(app: Flask, code: str) -> CarrierSettings:
    """Settings for one carrier: the sandbox in sandbox mode, the real host (or an override) otherwise."""
    overrides = dict(app.config["CARRIERS"].get(code, {}))
    base_url = overrides.pop("base_url", None)
    # Credentials an admin stored (encrypted) replace the environment's; CredentialsKeyError without the key.
    stored = stored_credentials(code, app.config["CREDENTIALS_KEY"])
    if stored is not None:
        overrides = stored
    if app.config["CARRIER_MODE"] == "sandbox":
        sandbox_url = app.config["SANDBOX_URL"].rstrip("/")
        if not sandbox_url:
            raise RuntimeError("CARRIER_MODE=sandbox needs SANDBOX_URL (the embedded command sets it)")
        base_url = base_url or f"{sandbox_url}/{code}"
        credentials = {**SANDBOX_CREDENTIALS, **overrides}
        rate = app.config["SANDBOX_RATE_PER_SECOND"]
    else:
        base_url = base_url or DEFAULT_BASE_URLS[code]
        credentials = overrides
        rate = None  # the carrier's published default
    return CarrierSettings(
        base_url=base_url,
        credentials=credentials,
        timeout=app.config["CARRIER_TIMEOUT_SECONDS"],
        max_retries=app.config["CARRIER_MAX_RETRIES"],
        rate_per_second=rate,
    )


def get_carrier(code: str):
    """The process-wide client for `code` (created on first use)."""
    app = current_app._get_current_object()
    clients = app.extensions.setdefault("leveranse_carriers", {})
    with _lock:
        if code not in clients:
            clients[code] = CARRIERS[code](carrier_settings(app, code))
        return clients[code]
