"""The service's tables."""

from app.models.admin import CarrierCredential, MessageTemplate
from app.models.branding import ShopBranding
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
from app.models.faq import FaqEntry
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
from app.models.process_figures import CarrierMinute, CarrierState, JobMinute, WorkerProcess
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
    "CarrierMinute",
    "CarrierService",
    "CarrierState",
    "CaseMessage",
    "CaseStatus",
    "CustomerPreference",
    "DeliveryAttempt",
    "DeliveryZone",
    "Depot",
    "DepotClosure",
    "FaqEntry",
    "GeocodeCache",
    "IdempotencyRecord",
    "JobMinute",
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
    "ShopBranding",
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
    "WorkerProcess",
]
