"""The service's tables."""

from app.models.shipment import IdempotencyRecord, Shipment, TrackingEvent
from app.models.shop import ApiKey, Shop
from app.models.staff import Role, StaffUser

__all__ = ["ApiKey", "IdempotencyRecord", "Role", "Shipment", "Shop", "StaffUser", "TrackingEvent"]
