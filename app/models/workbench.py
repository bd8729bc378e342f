"""The staff workbench's tables: a shipment's triage state, the staff audit log and the prediction's history.

Also the shipment indexes the workbench needs: search (customer email and phone: exact or prefix match) and
the at-risk queue.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.shipment import Shipment
from app.models.types import EnumText, UTCDateTime, utcnow
from planning.prediction import RiskState

_shipment = Shipment.__table__.c
Index("ix_shipment_customer_email", _shipment.customer_email)
Index("ix_shipment_customer_phone", _shipment.customer_phone)
# Covers the at-risk queue's count, order (expected cost), "handled" check and filter choices, so neither
# reads the wide shipment rows of thousands of queued parcels; only the page's rows are read.
Index(
    "ix_shipment_queue",
    _shipment.risk_state,
    _shipment.status,
    _shipment.deleted_at,
    _shipment.shop_id,
    _shipment.carrier,
    _shipment.service,
    _shipment.origin_country,
    _shipment.destination_country,
    _shipment.declared_value,
    _shipment.p_late,
    _shipment.p_lost,
    _shipment.last_event_at,
)
# Covers the count of active shipments the queue is a share of.
Index("ix_shipment_active", _shipment.status, _shipment.deleted_at, _shipment.shop_id)


class ShipmentTriage(db.Model):
    """What staff decided about an at-risk shipment: snoozed until, assigned to, handled when.

    Handled leaves the queue until something new happens: a scan after `handled_at`, or a risk state other
    than `handled_risk_state`.
    """

    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipment.id", ondelete="CASCADE"), primary_key=True)
    snoozed_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="SET NULL"), index=True
    )
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    handled_risk_state: Mapped[RiskState | None] = mapped_column(EnumText(RiskState, 16))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class StaffAuditEntry(db.Model):
    """One thing a staff member did to a shipment: who, what, when, and the details."""

    __table_args__ = (Index("ix_staff_audit_entry_shipment", "shipment_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id"), index=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipment.id", ondelete="CASCADE"))
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(280))  # the email at the time: it survives the user
    action: Mapped[str] = mapped_column(String(32))  # notify, claim, note, snooze, assign, handled
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PredictionChange(db.Model):
    """A shipment's prediction when it moved: p_late, risk state or the most likely arrival day changed."""

    __table_args__ = (Index("ix_prediction_change_shipment", "shipment_id", "recorded_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipment.id", ondelete="CASCADE"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    p_late: Mapped[float | None] = mapped_column(Float)
    p_lost: Mapped[float | None] = mapped_column(Float)
    risk_state: Mapped[RiskState | None] = mapped_column(EnumText(RiskState, 16))
    eta_p10: Mapped[datetime | None] = mapped_column(UTCDateTime())
    eta_p50: Mapped[datetime | None] = mapped_column(UTCDateTime())
    eta_p90: Mapped[datetime | None] = mapped_column(UTCDateTime())
