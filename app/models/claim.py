"""Claims for failed shipments: the claim (customer remedy and carrier recovery), its audit trail, its files."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import EnumText, UTCDateTime, utcnow


class ClaimKind(StrEnum):
    """What went wrong."""

    LOST = "lost"
    DAMAGED = "damaged"
    MISSING_CONTENTS = "missing_contents"
    WRONG_ITEM = "wrong_item"
    REFUSED = "refused"
    RETURNED = "returned"
    FAILED_DELIVERY = "failed_delivery"
    NOT_RECEIVED = "not_received"  # "delivered" but the customer says it never arrived


class ClaimState(StrEnum):
    """The claim's lifecycle (see app/claims/lifecycle.py for the allowed moves)."""

    OPENED = "opened"
    CLASSIFIED = "classified"
    REMEDY_DECIDED = "remedy_decided"
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    NEEDS_INFORMATION = "needs_information"
    APPROVED = "approved"
    PARTIALLY_APPROVED = "partially_approved"
    DENIED = "denied"
    CLOSED = "closed"
    CANCELLED = "cancelled"


FINISHED_CLAIM_STATES = frozenset({ClaimState.CLOSED, ClaimState.CANCELLED})


class Liability(StrEnum):
    """Who bears the loss."""

    CARRIER = "carrier"
    SHOP = "shop"
    CUSTOMER = "customer"


class RemedyKind(StrEnum):
    """How the shop makes the customer whole (decided fast, before and regardless of the carrier)."""

    REFUND = "refund"
    RESHIP = "reship"
    STORE_CREDIT = "store_credit"
    COMPENSATION = "compensation"
    NONE = "none"


class Claim(db.Model):
    """One claim about one shipment: the customer's remedy and the shop's recovery from the carrier.

    `open_key` is `<shipment>:<kind>` while the claim is open and NULL once it is closed or cancelled; its
    unique index is what keeps one open claim per shipment and kind, with any number of workers racing.
    """

    __table_args__ = (Index("ix_claim_shop_state", "shop_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id"))
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipment.id"), index=True)
    kind: Mapped[ClaimKind] = mapped_column(EnumText(ClaimKind, 24))
    state: Mapped[ClaimState] = mapped_column(EnumText(ClaimState, 24), default=ClaimState.OPENED)
    open_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    source: Mapped[str] = mapped_column(String(16))  # detection, customer, shop, staff
    rule: Mapped[str] = mapped_column(String(40))
    evidence: Mapped[dict] = mapped_column(JSON, default=dict)
    customer_statement: Mapped[str | None] = mapped_column(Text)

    liability: Mapped[Liability | None] = mapped_column(EnumText(Liability, 16))
    goods_value: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    carrier_cap: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    claim_amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))

    remedy_kind: Mapped[RemedyKind | None] = mapped_column(EnumText(RemedyKind, 16))
    remedy_amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    remedy_decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    carrier_claim_id: Mapped[str | None] = mapped_column(String(64))
    carrier_status: Mapped[str | None] = mapped_column(String(32))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    carrier_decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    approved_amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    denial_reason: Mapped[str | None] = mapped_column(String(300))

    earliest_file_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    file_by: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    filed_in_time: Mapped[bool | None] = mapped_column()

    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    events: Mapped[list[ClaimEvent]] = relationship(
        back_populates="claim", order_by="ClaimEvent.id", cascade="all, delete-orphan"
    )
    attachments: Mapped[list[ClaimAttachment]] = relationship(
        back_populates="claim", order_by="ClaimAttachment.id", cascade="all, delete-orphan"
    )

    @property
    def is_open(self) -> bool:
        """Neither closed nor cancelled."""
        return self.state not in FINISHED_CLAIM_STATES

    @property
    def uncovered_amount(self) -> Decimal | None:
        """What the carrier's cap leaves with the shop: goods value − claimable amount."""
        if self.goods_value is None or self.claim_amount is None:
            return None
        return self.goods_value - self.claim_amount


class ClaimEvent(db.Model):
    """The audit trail: who or what moved the claim, when, why."""

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claim.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(
        String(120)
    )  # system:detector, staff:<email>, shop:api, customer, carrier
    action: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str | None] = mapped_column(String(24))
    to_state: Mapped[str | None] = mapped_column(String(24))
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict | None] = mapped_column(JSON)

    claim: Mapped[Claim] = relationship(back_populates="events")


class ClaimAttachment(db.Model):
    """A file attached to a claim (a customer's photo, an invoice), stored outside the web root."""

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claim.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_name: Mapped[str] = mapped_column(String(100))
    uploaded_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    claim: Mapped[Claim] = relationship(back_populates="attachments")
