"""Shipments and their tracking events."""

from __future__ import annotations

import secrets
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    event,
    or_,
    text,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import EnumText, UTCDateTime, utcnow
from carriers.model import Status
from planning.prediction import RiskState


def new_link_token() -> str:
    """A random token (128 bits) that stands for a shipment in customers' links and says nothing about it."""
    return secrets.token_urlsafe(16)


class Shipment(db.Model):
    """One parcel a shop asked us to watch."""

    __table_args__ = (
        UniqueConstraint("shop_id", "carrier", "tracking_number", name="uq_shipment_carrier_number"),
        Index("ix_shipment_due", "carrier", "next_poll_at"),
        # The API's `updated_since` (a shop's incremental sync) scanned every shipment without it.
        Index("ix_shipment_shop_updated", "shop_id", "updated_at"),
        # Staff analytics (app/analytics): ranges of ship days (and of hand-over days: shipped_at, else
        # created_at) and of delivery days, covering the columns the grouped queries read.
        Index(
            "ix_shipment_shipped",
            "shipped_at",
            "created_at",
            "carrier",
            "shop_id",
            "deleted_at",
            "first_scan_at",
        ),
        Index(
            "ix_shipment_delivered",
            "delivered_at",
            "carrier",
            "shop_id",
            "deleted_at",
            "shipped_at",
            "promised_date",
            "service",
            "origin_country",
            "destination_country",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id"), index=True)
    carrier: Mapped[str] = mapped_column(String(20))
    service: Mapped[str | None] = mapped_column(String(50))
    tracking_number: Mapped[str] = mapped_column(String(64), index=True)
    carrier_ref: Mapped[str | None] = mapped_column(String(100))
    order_ref: Mapped[str | None] = mapped_column(String(100), index=True)
    # The tracking and unsubscribe links' key (app/notify/links.py); a new one revokes every link sent.
    link_token: Mapped[str] = mapped_column(String(32), unique=True, index=True, default=new_link_token)

    customer_name: Mapped[str | None] = mapped_column(String(200))
    customer_email: Mapped[str | None] = mapped_column(String(254))
    customer_phone: Mapped[str | None] = mapped_column(String(32))
    customer_language: Mapped[str | None] = mapped_column(String(8))
    customer_timezone: Mapped[str | None] = mapped_column(String(64))

    origin_postcode: Mapped[str | None] = mapped_column(String(16))
    origin_country: Mapped[str | None] = mapped_column(String(2))
    origin_lat: Mapped[float | None] = mapped_column(Float)
    origin_lon: Mapped[float | None] = mapped_column(Float)
    destination_postcode: Mapped[str | None] = mapped_column(String(16))
    destination_country: Mapped[str | None] = mapped_column(String(2))
    destination_lat: Mapped[float | None] = mapped_column(Float)
    destination_lon: Mapped[float | None] = mapped_column(Float)

    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    promised_date: Mapped[date | None] = mapped_column(Date)
    declared_value: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    weight_kg: Mapped[Decimal | None] = mapped_column(Numeric(8, 3))
    currency: Mapped[str | None] = mapped_column(String(3))

    status: Mapped[Status] = mapped_column(EnumText(Status, 24), default=Status.PENDING, index=True)
    reason: Mapped[str | None] = mapped_column(String(32))
    carrier_eta: Mapped[date | None] = mapped_column(Date)
    # The carrier's pickup point (carriers.serialize.pickup_to_dict); read it with app.tracking.pickup.
    pickup_point: Mapped[dict | None] = mapped_column(JSON)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_event_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The earliest stored event that is not `info_received` (a physical scan), kept by ingest.
    first_scan_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    last_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    next_poll_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    poll_failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(300))

    eta_p10: Mapped[datetime | None] = mapped_column(UTCDateTime())
    eta_p50: Mapped[datetime | None] = mapped_column(UTCDateTime())
    eta_p90: Mapped[datetime | None] = mapped_column(UTCDateTime())
    p_late: Mapped[float | None] = mapped_column(Float)
    p_lost: Mapped[float | None] = mapped_column(Float)
    risk_state: Mapped[RiskState | None] = mapped_column(EnumText(RiskState, 16), index=True)
    risk_reasons: Mapped[list | None] = mapped_column(JSON)
    risk_computed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    events: Mapped[list[TrackingEvent]] = relationship(
        back_populates="shipment", order_by="TrackingEvent.occurred_at", passive_deletes=True
    )


class TrackingEvent(db.Model):
    """One normalised carrier scan; unique per shipment on a content hash, so ingest is idempotent."""

    __table_args__ = (
        UniqueConstraint("shipment_id", "content_hash", name="uq_event_content"),
        # Exceptions by reason (analytics): a few percent of the events, so a partial index stays small.
        Index(
            "ix_event_exception",
            "shipment_id",
            "reason",
            sqlite_where=text("status = 'exception'"),
            postgresql_where=text("status = 'exception'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipment.id", ondelete="CASCADE"), index=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    utc_offset_minutes: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str | None] = mapped_column(String(32))
    carrier_code: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text, default="")
    location: Mapped[str] = mapped_column(String(200), default="")
    informational: Mapped[bool] = mapped_column(Boolean, default=False)
    tz_assumed: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(16))
    content_hash: Mapped[str] = mapped_column(String(40))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    shipment: Mapped[Shipment] = relationship(back_populates="events")


@event.listens_for(TrackingEvent, "after_insert")
def _keep_first_scan(mapper, connection, target: TrackingEvent) -> None:
    """An event added through the ORM moves its shipment's `first_scan_at` as ingest's bulk insert does."""
    if target.status == Status.INFO_RECEIVED.value:
        return
    table = Shipment.__table__
    connection.execute(
        update(table)
        .where(
            table.c.id == target.shipment_id,
            or_(table.c.first_scan_at.is_(None), table.c.first_scan_at > target.occurred_at),
        )
        .values(first_scan_at=target.occurred_at)
    )


class IdempotencyRecord(db.Model):
    """The stored answer to a POST made with an `Idempotency-Key`, replayed on retries."""

    __table_args__ = (UniqueConstraint("shop_id", "key", name="uq_idempotency_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id"))
    key: Mapped[str] = mapped_column(String(200))
    request_fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
