"""The service's tables."""

from app.models.claim import (
    Claim,
    ClaimAttachment,
    ClaimEvent,
    ClaimKind,
    ClaimState,
    Liability,
    RemedyKind,
)
from app.models.notification import (
    CustomerPreference,
    DeliveryAttempt,
    Notification,
    ShopNotificationSettings,
    Unsubscribe,
    WebhookEndpoint,
)
from app.models.planning import (
    CarrierService,
    DeliveryZone,
    Depot,
    DepotClosure,
    GeocodeCache,
    Reservation,
    ReservationState,
    RoutePlan,
    Slot,
    SlotTemplate,
    VanLoad,
    Vehicle,
)
from app.models.risk import RiskModelRecord
from app.models.shipment import IdempotencyRecord, Shipment, TrackingEvent
from app.models.shop import ApiKey, Shop
from app.models.staff import Role, StaffUser

__all__ = [
    "Claim",
    "ClaimAttachment",
    "ClaimEvent",
    "ClaimKind",
    "ClaimState",
    "Liability",
    "RemedyKind",
    "ApiKey",
    "CarrierService",
    "CustomerPreference",
    "DeliveryAttempt",
    "DeliveryZone",
    "Depot",
    "DepotClosure",
    "GeocodeCache",
    "IdempotencyRecord",
    "Notification",
    "Reservation",
    "ReservationState",
    "RiskModelRecord",
    "Role",
    "RoutePlan",
    "Shipment",
    "Shop",
    "ShopNotificationSettings",
    "Slot",
    "SlotTemplate",
    "StaffUser",
    "TrackingEvent",
    "Unsubscribe",
    "VanLoad",
    "Vehicle",
    "WebhookEndpoint",
]
