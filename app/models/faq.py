"""Shops' own questions and answers for the tracking page, per language and topic (status or reason)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class FaqEntry(db.Model):
    """A shop's change to the shipped questions of one topic in one language.

    With `default_key` the row changes a shipped question: its text (`question` and `answer` set), its
    place (`position`) or whether it shows (`hidden`). Without it the row is the shop's own question.
    """

    __table_args__ = (
        UniqueConstraint("shop_id", "language", "topic", "default_key", name="uq_faq_entry_default"),
        Index("ix_faq_entry_shop_topic", "shop_id", "language", "topic"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id"))
    language: Mapped[str] = mapped_column(String(8))
    topic: Mapped[str] = mapped_column(String(32))
    default_key: Mapped[str | None] = mapped_column(String(40))
    question: Mapped[str | None] = mapped_column(String(200))
    answer: Mapped[str | None] = mapped_column(Text)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str] = mapped_column(String(254))
