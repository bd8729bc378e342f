"""The service's tables."""

from app.models.admin import CarrierCredential, MessageTemplate
from app.models.claim import (
    Claim,
    ClaimAttachment,
    ClaimEvent,
    ClaimKind,
    ClaimState,
    Liability,
    RemedyKind,
)
from app.models.customer_care import CaseMessage, CaseStatus, SupportCase, SurveyResponse
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
from app.models.workbench import PredictionChange, ShipmentTriage, StaffAuditEntry

__all__ = [
    "Claim",
    "ClaimAttachment",
    "ClaimEvent",
    "ClaimKind",
    "ClaimState",
    "Liability",
    "RemedyKind",
    "ApiKey",
    "CarrierCredential",
    "CarrierService",
    "CaseMessage",
    "CaseStatus",
    "CustomerPreference",
    "DeliveryAttempt",
    "DeliveryZone",
    "Depot",
    "DepotClosure",
    "GeocodeCache",
    "IdempotencyRecord",
    "MessageTemplate",
    "Notification",
    "PredictionChange",
    "Reservation",
    "ReservationState",
    "RiskModelRecord",
    "Role",
    "RoutePlan",
    "Shipment",
    "ShipmentTriage",
    "Shop",
    "ShopNotificationSettings",
    "Slot",
    "SlotTemplate",
    "StaffAuditEntry",
    "StaffUser",
    "SupportCase",
    "SurveyResponse",
    "TrackingEvent",
    "Unsubscribe",
    "VanLoad",
    "Vehicle",
    "WebhookEndpoint",
]
