"""Liveness/readiness and Prometheus metrics."""

from __future__ import annotations

import hmac
import ipaddress

from flask import Blueprint, Response, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from app.api.problems import problem_response
from app.extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """200 when the database answers."""
    db.session.execute(text("SELECT 1"))
    return {"status": "ok"}


@bp.get("/metrics")
def metrics():
    """Prometheus exposition of this process's counters: with LEVERANSE_METRICS_TOKEN set, for
    `Authorization: Bearer <token>` only; without it, for loopback clients only."""
    token = current_app.config["METRICS_TOKEN"]
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").encode()
        allowed = hmac.compare_digest(given, token.encode())
    else:
        allowed = ipaddress.ip_address(request.remote_addr or "0.0.0.0").is_loopback
    if not allowed:
        return problem_response(403, "Forbidden", "Metrics are for the monitoring system.", kind="forbidden")
    return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)
