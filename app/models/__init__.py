"""The service's tables."""

from app.models.notification import (
    CustomerPreference,
    DeliveryAttempt,
    Notification,
    ShopNotificationSettings,
    Unsubscribe,
    WebhookEndpoint,
)
from app.models.risk import RiskModelRecord
from app.models.shipment import IdempotencyRecord, Shipment, TrackingEvent
from app.models.shop import ApiKey, Shop
from app.models.staff import Role, StaffUser

__all__ = [
    "ApiKey",
    "CustomerPreference",
    "DeliveryAttempt",
    "IdempotencyRecord",
    "Notification",
    "RiskModelRecord",
    "Role",
    "Shipment",
    "Shop",
    "ShopNotificationSettings",
    "StaffUser",
    "TrackingEvent",
    "Unsubscribe",
    "WebhookEndpoint",
]
