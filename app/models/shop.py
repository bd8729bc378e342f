"""Shops (tenants) and their API keys."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, utcnow

API_KEY_PREFIX = "lv_"


class Shop(db.Model):
    """A shop whose parcels Leveranse watches."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    default_language: Mapped[str] = mapped_column(String(8), default="en")
    default_timezone: Mapped[str] = mapped_column(String(64), default="Europe/Oslo")
    # Who carriers write to about claims, and the sender address on claim forms.
    claims_email: Mapped[str | None] = mapped_column(String(254))
    sender_address: Mapped[dict | None] = mapped_column(JSON)  # name, street, city, postcode, country
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    api_keys: Mapped[list[ApiKey]] = relationship(back_populates="shop")


class ApiKey(db.Model):
    """A hashed API key; the plain key is shown once, at creation."""

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[str] = mapped_column(String(200), default="shipments:read shipments:write")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    shop: Mapped[Shop] = relationship(back_populates="api_keys")

    @staticmethod
    def hash_key(plain: str) -> str:
        """API keys are 256-bit random, so a fast digest is safe (no password stretching needed)."""
        return hashlib.sha256(plain.encode()).hexdigest()

    @classmethod
    def issue(cls, shop: Shop, name: str, scopes: str | None = None) -> tuple[ApiKey, str]:
        """Create a key for `shop`; returns the row and the plain key (never stored)."""
        prefix = secrets.token_hex(4)
        plain = f"{API_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
        key = cls(shop=shop, name=name, prefix=prefix, key_hash=cls.hash_key(plain))
        if scopes:
            key.scopes = scopes
        db.session.add(key)
        return key, plain
