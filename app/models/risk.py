"""Fitted risk models, versioned in the database (never fetched from the internet)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class RiskModelRecord(db.Model):
    """One trained model; the newest row is the one in use."""

    id: Mapped[int] = mapped_column(primary_key=True)
    model_version: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(32))  # "history" (our deliveries) or "generated" (demo seed)
    n_train: Mapped[int] = mapped_column(Integer)
    trained_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    blob: Mapped[bytes] = mapped_column(LargeBinary)
    summary: Mapped[dict | None] = mapped_column(JSON)
