"""A shop's branding on its customers' pages: colours and a logo (the name is the shop's own)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, deferred, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class ShopBranding(db.Model):
    """Colours (`#rrggbb`, checked for contrast when saved) and an optional logo served from our origin."""

    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id"), primary_key=True)
    primary_colour: Mapped[str | None] = mapped_column(String(7))  # buttons, with white text
    accent_colour: Mapped[str | None] = mapped_column(String(7))  # the page header, with the ink colour
    # the logo's bytes load only when the logo itself is served, never with every page
    logo: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    logo_type: Mapped[str | None] = mapped_column(String(32))
    logo_width: Mapped[int | None] = mapped_column(Integer)
    logo_height: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
