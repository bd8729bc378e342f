"""What staff admins store: carrier credentials (encrypted) and shops' own message template texts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class CarrierCredential(db.Model):
    """One carrier's credentials set by an admin, Fernet-encrypted with CREDENTIALS_KEY; they replace the
    environment's for that carrier."""

    carrier: Mapped[str] = mapped_column(String(32), primary_key=True)
    ciphertext: Mapped[str] = mapped_column(Text)  # a Fernet token of the JSON object of credential names
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str] = mapped_column(String(254))


class MessageTemplate(db.Model):
    """A shop's own text of one message (trigger) in one language, rendered instead of the shipped file."""

    __table_args__ = (UniqueConstraint("shop_id", "trigger", "language", name="uq_message_template"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id"), index=True)
    trigger: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(8))
    source: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str] = mapped_column(String(254))
