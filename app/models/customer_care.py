"""Customer care: the post-delivery survey's answers and customers' cases (messages about a parcel)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import EnumText, UTCDateTime, utcnow


class SurveyResponse(db.Model):
    """The customer's one answer about a delivery: CSAT 1–5, NPS 0–10, effort (CES) 1–7, a comment."""

    __table_args__ = (
        CheckConstraint("csat BETWEEN 1 AND 5", name="ck_survey_csat"),
        CheckConstraint("nps BETWEEN 0 AND 10", name="ck_survey_nps"),
        CheckConstraint("ces BETWEEN 1 AND 7", name="ck_survey_ces"),
        Index("ix_survey_shop_answered", "shop_id", "answered_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # unique: a second submission, even a racing one, cannot add another answer
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipment.id"), unique=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id"))
    csat: Mapped[int] = mapped_column(SmallInteger)
    nps: Mapped[int] = mapped_column(SmallInteger)
    ces: Mapped[int] = mapped_column(SmallInteger)
    comment: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8))
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CaseStatus(StrEnum):
    """Where a customer's case stands: waiting for us, answered (waiting for the customer), closed."""

    OPEN = "open"
    ANSWERED = "answered"
    CLOSED = "closed"


class SupportCase(db.Model):
    """A customer's question about one shipment, with the channel they want to hear back on.

    `first_response_at` is the first staff reply, `resolved_at` when staff closed it: the two response
    times staff are measured on.
    """

    __table_args__ = (Index("ix_support_case_status", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id"), index=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipment.id"), index=True)
    status: Mapped[CaseStatus] = mapped_column(EnumText(CaseStatus, 16), default=CaseStatus.OPEN)
    reply_channel: Mapped[str] = mapped_column(String(8))  # email, sms
    language: Mapped[str] = mapped_column(String(8))  # the page's language when the customer wrote
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    messages: Mapped[list[CaseMessage]] = relationship(
        back_populates="case", order_by="CaseMessage.id", cascade="all, delete-orphan"
    )


class CaseMessage(db.Model):
    """One message in a case: the customer's (no staff user) or a staff reply."""

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("support_case.id", ondelete="CASCADE"), index=True)
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    case: Mapped[SupportCase] = relationship(back_populates="messages")

    @property
    def from_staff(self) -> bool:
        """True for a staff reply."""
        return self.staff_user_id is not None
