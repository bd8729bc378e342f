"""Own-fleet delivery planning: depots, vans, zones, slot templates, slots, holds, route plans, geocodes.

Capacity is guarded by the database itself: slot and van counters have CHECK constraints and are only
changed by conditional UPDATEs (see app/reservations.py), so several web processes never overbook.
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, utcnow

ALL_WEEKDAYS = "1234567"  # ISO weekday numbers, Monday = 1


class Depot(db.Model):
    """Where a shop's vans start and end; orders for a day close at `order_cutoff`, N days before."""

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    country: Mapped[str] = mapped_column(String(2))
    postcode: Mapped[str] = mapped_column(String(16), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Oslo")
    opens: Mapped[time] = mapped_column(Time, default=time(7))
    closes: Mapped[time] = mapped_column(Time, default=time(21))
    order_cutoff: Mapped[time] = mapped_column(Time, default=time(22))
    cutoff_days_before: Mapped[int] = mapped_column(Integer, default=1)
    service_seconds: Mapped[int] = mapped_column(Integer, default=180)

    vehicles: Mapped[list[Vehicle]] = relationship(back_populates="depot", order_by="Vehicle.id")
    zones: Mapped[list[DeliveryZone]] = relationship(order_by="DeliveryZone.id")
    templates: Mapped[list[SlotTemplate]] = relationship(order_by="SlotTemplate.start")
    closures: Mapped[list[DepotClosure]] = relationship()


class DepotClosure(db.Model):
    """A day the depot does not deliver, besides the country's public holidays."""

    __table_args__ = (UniqueConstraint("depot_id", "day", name="uq_depot_closure"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    depot_id: Mapped[int] = mapped_column(ForeignKey("depot.id"))
    day: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(200), default="closed")


class Vehicle(db.Model):
    """A van and its shift on the weekdays it works; `fixed_cost` (km) is charged when it goes out."""

    id: Mapped[int] = mapped_column(primary_key=True)
    depot_id: Mapped[int] = mapped_column(ForeignKey("depot.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    capacity_kg: Mapped[int] = mapped_column(Integer)
    shift_start: Mapped[time] = mapped_column(Time)
    shift_end: Mapped[time] = mapped_column(Time)
    weekdays: Mapped[str] = mapped_column(String(7), default=ALL_WEEKDAYS)
    fixed_cost: Mapped[float] = mapped_column(Float, default=0.0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    depot: Mapped[Depot] = relationship(back_populates="vehicles")


class DeliveryZone(db.Model):
    """A disc around a point that a depot delivers to."""

    id: Mapped[int] = mapped_column(primary_key=True)
    depot_id: Mapped[int] = mapped_column(ForeignKey("depot.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    radius_km: Mapped[float] = mapped_column(Float)


class SlotTemplate(db.Model):
    """A daily delivery window: capacity, base price and the lead time orders need."""

    id: Mapped[int] = mapped_column(primary_key=True)
    depot_id: Mapped[int] = mapped_column(ForeignKey("depot.id"), index=True)
    start: Mapped[time] = mapped_column(Time)
    end: Mapped[time] = mapped_column(Time)
    capacity: Mapped[int] = mapped_column(Integer)
    base_price: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    currency: Mapped[str] = mapped_column(String(3), default="NOK")
    lead_minutes: Mapped[int] = mapped_column(Integer, default=240)
    weekdays: Mapped[str] = mapped_column(String(7), default=ALL_WEEKDAYS)


class Slot(db.Model):
    """A template's window on one day, with its counters (created when first needed)."""

    __table_args__ = (
        UniqueConstraint("template_id", "day", name="uq_slot_template_day"),
        CheckConstraint("held >= 0 AND booked >= 0 AND held + booked <= capacity", name="ck_slot_capacity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("slot_template.id"))
    day: Mapped[date] = mapped_column(Date)
    capacity: Mapped[int] = mapped_column(Integer)
    held: Mapped[int] = mapped_column(Integer, default=0)
    booked: Mapped[int] = mapped_column(Integer, default=0)

    template: Mapped[SlotTemplate] = relationship()


class VanLoad(db.Model):
    """How many kg a van carries on a day, never above its capacity."""

    __table_args__ = (
        UniqueConstraint("vehicle_id", "day", name="uq_van_load_day"),
        CheckConstraint("load >= 0 AND load <= capacity", name="ck_van_load_capacity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    vehicle_id: Mapped[int] = mapped_column(ForeignKey("vehicle.id"))
    day: Mapped[date] = mapped_column(Date)
    capacity: Mapped[int] = mapped_column(Integer)
    load: Mapped[int] = mapped_column(Integer, default=0)


class RoutePlan(db.Model):
    """The current plan of a depot-day: van -> ordered reservation ids, its distance, and replan state.

    `revision` rises with every change; changes take the row first (UPDATE), so they are serialised per
    day across processes. The re-optimiser writes only if the revision it solved is still current, and
    takes the row as a lease (`lease_until`) so one worker at a time solves a day.
    """

    __table_args__ = (UniqueConstraint("depot_id", "day", name="uq_route_plan_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    depot_id: Mapped[int] = mapped_column(ForeignKey("depot.id"))
    day: Mapped[date] = mapped_column(Date)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[str] = mapped_column(String(32))  # new random value at every change: cache key
    sequences: Mapped[dict] = mapped_column(JSON, default=dict)
    distance_km: Mapped[float] = mapped_column(Float, default=0.0)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    optimised_revision: Mapped[int] = mapped_column(Integer, default=0)
    optimised_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    optimised_saving_km: Mapped[float | None] = mapped_column(Float)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())

    depot: Mapped[Depot] = relationship()


class ReservationState(StrEnum):
    """A reservation's life: held during checkout, then confirmed, released or expired."""

    HELD = "held"
    CONFIRMED = "confirmed"
    RELEASED = "released"
    EXPIRED = "expired"


ACTIVE_STATES = (ReservationState.HELD.value, ReservationState.CONFIRMED.value)


class Reservation(db.Model):
    """A hold on (or booking of) a slot for one delivery, placed on a van's route."""

    __table_args__ = (Index("ix_reservation_due", "state", "expires_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id"), index=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slot.id"), index=True)
    depot_id: Mapped[int] = mapped_column(ForeignKey("depot.id"))
    day: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(12), default=ReservationState.HELD.value)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    address: Mapped[str] = mapped_column(Text, default="")
    weight_kg: Mapped[float] = mapped_column(Float)
    volume_l: Mapped[float] = mapped_column(Float, default=0.0)
    demand: Mapped[int] = mapped_column(Integer)
    price: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    currency: Mapped[str] = mapped_column(String(3))
    order_ref: Mapped[str | None] = mapped_column(String(100))
    shipment_id: Mapped[int | None] = mapped_column(ForeignKey("shipment.id"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    slot: Mapped[Slot] = relationship()


class CarrierService(db.Model):
    """A carrier service the shop offers at checkout, handed over at a depot's daily cut-off."""

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id"), index=True)
    depot_id: Mapped[int] = mapped_column(ForeignKey("depot.id"))
    carrier: Mapped[str] = mapped_column(String(20))
    service: Mapped[str] = mapped_column(String(50))
    label: Mapped[str] = mapped_column(String(100))
    price: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    currency: Mapped[str] = mapped_column(String(3), default="NOK")
    cutoff: Mapped[time] = mapped_column(Time, default=time(15))
    transit_days: Mapped[int] = mapped_column(Integer, default=1)

    depot: Mapped[Depot] = relationship()


class GeocodeCache(db.Model):
    """A geocoder's answer for a normalised address (found or not), so each address is asked once."""

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    query: Mapped[str] = mapped_column(Text)
    found: Mapped[bool] = mapped_column(Boolean)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    label: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
