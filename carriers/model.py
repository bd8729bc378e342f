"""The normalised tracking model every carrier adapter produces (versioned, see README)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

MODEL_VERSION = "1.0"


class Status(StrEnum):
    """Normalised shipment / event status."""

    PENDING = "pending"
    INFO_RECEIVED = "info_received"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    FAILED_ATTEMPT = "failed_attempt"
    AVAILABLE_FOR_PICKUP = "available_for_pickup"
    DELIVERED = "delivered"
    EXCEPTION = "exception"
    RETURNING = "returning"
    RETURNED = "returned"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    UNKNOWN = "unknown"


TERMINAL_STATUSES = frozenset({Status.DELIVERED, Status.RETURNED, Status.CANCELLED, Status.EXPIRED})
ACTIVE_STATUSES = frozenset(Status) - TERMINAL_STATUSES


class Reason(StrEnum):
    """Why a shipment is in its status (mostly for exceptions and delays)."""

    LOST = "lost"
    DAMAGED = "damaged"
    ADDRESS_PROBLEM = "address_problem"
    RECIPIENT_UNAVAILABLE = "recipient_unavailable"
    REFUSED = "refused"
    CUSTOMS = "customs"
    WEATHER = "weather"
    CARRIER_DELAY = "carrier_delay"
    HELD = "held"
    PICKED_UP = "picked_up"
    OTHER = "other"


@dataclass(frozen=True)
class TrackingEvent:
    """One carrier scan, normalised; the raw carrier code is always kept."""

    occurred_at: datetime  # aware; carries the local offset where known
    status: Status
    carrier_code: str
    description: str = ""
    location: str = ""
    reason: Reason | None = None
    informational: bool = False  # kept in the history but does not change status
    tz_assumed: bool = False  # carrier sent no offset; the location's zone was assumed


@dataclass(frozen=True)
class PickupPoint:
    """Where the parcel waits, or will wait, for collection: a carrier's service point, locker or counter."""

    name: str  # "" when the carrier says only where (Bring's pickup scan, UPS Access Point address)
    point_id: str = ""  # the carrier's own id of the point
    street: str = ""
    postcode: str = ""
    city: str = ""
    country: str = ""  # ISO alpha-2
    info_url: str = ""  # the carrier's page about the point (opening hours), https only
    last_day: date | None = None  # the last day it is kept before it goes back to the sender


@dataclass(frozen=True)
class TrackingUpdate:
    """Everything one carrier response says about one shipment."""

    carrier: str
    tracking_number: str
    status: Status
    events: tuple[TrackingEvent, ...] = ()  # oldest first, duplicates removed
    reason: Reason | None = None
    estimated_delivery: date | None = None
    delivered_at: datetime | None = None
    carrier_ref: str | None = None  # distinguishes several shipments behind one number
    original_carrier: str | None = None  # for aggregators (EasyPost, AfterShip): the real carrier
    pickup_point: PickupPoint | None = None
    warnings: tuple[str, ...] = field(default=())
