"""Inbound webhooks from EasyPost and AfterShip, verified against the raw body."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, request

from app import metrics
from app.api.problems import problem_response
from app.extensions import db
from app.tracking.carrier_webhooks import ingest_pushed_updates
from carriers.errors import CarrierError
from carriers.registry import WEBHOOKS

log = logging.getLogger(__name__)
bp = Blueprint("carrier_webhooks", __name__, url_prefix="/webhooks/carriers")

SECRET_SETTINGS = {"easypost": "EASYPOST_WEBHOOK_SECRET", "aftership": "AFTERSHIP_WEBHOOK_SECRET"}


@bp.post("/<provider>")
def receive(provider: str):
    """Verify, parse and ingest one pushed tracking update."""
    module = WEBHOOKS.get(provider)
    if module is None:
        return problem_response(404, "Not Found", f"No webhook receiver for '{provider}'.", kind="not-found")
    secret = current_app.config[SECRET_SETTINGS[provider]]
    body = request.get_data(cache=False)
    if not secret:
        metrics.webhooks_received.labels(provider, "not_configured").inc()
        return problem_response(503, "Not configured", f"Set LEVERANSE_{SECRET_SETTINGS[provider]}.")
    if not module.verify_signature(body, request.headers, secret):
        metrics.webhooks_received.labels(provider, "bad_signature").inc()
        return problem_response(
            401, "Bad signature", "The webhook signature does not match.", kind="unauthorized"
        )
    try:
        updates = module.parse_webhook(body, request.headers)
    except CarrierError as error:
        log.warning("%s webhook not ingested: %s (%s)", provider, error.kind, error.message)
        metrics.webhooks_received.labels(provider, error.kind).inc()
        return problem_response(422, "Payload not understood", error.message, kind=error.kind)
    outcome = ingest_pushed_updates(updates)
    db.session.commit()
    metrics.webhooks_received.labels(provider, "ok").inc()
    return {"accepted": len(updates), "matched": outcome.matched, "new_events": outcome.new_events}
