"""Liveness/readiness and Prometheus metrics."""

from __future__ import annotations

from flask import Blueprint, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from app.extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """200 when the database answers."""
    db.session.execute(text("SELECT 1"))
    return {"status": "ok"}


@bp.get("/metrics")
def metrics():
    """Prometheus exposition of this process's counters."""
    return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)
