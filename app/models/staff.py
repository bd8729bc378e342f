"""Staff users of the dashboard, with hashed passwords, a role and the shop they work for."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class Role(StrEnum):
    """What a staff user may do: viewers read, agents act on shipments and claims, admins manage."""

    VIEWER = "viewer"
    AGENT = "agent"
    ADMIN = "admin"


ROLE_RANK = {Role.VIEWER: 0, Role.AGENT: 1, Role.ADMIN: 2}


class StaffUser(UserMixin, db.Model):
    """A logistics staff member: of one shop (`shop_id`), or of the service operator (no shop: every shop)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16), default=Role.VIEWER.value)
    # Every staff page shows only this shop's data; NULL is the operator's own staff, who see all shops.
    shop_id: Mapped[int | None] = mapped_column(ForeignKey("shop.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Part of the session cookie: raising it (logout, a new password) ends every session issued before.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    # An admin disabled the account: no login, and its sessions were ended.
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # TOTP second factor: the base32 secret (set at enrolment, Fernet-encrypted: app/admin/totp.py), active
    # once a code was verified (`totp_enabled_at`); `totp_last_step` refuses a code that was already used.
    totp_secret: Mapped[str | None] = mapped_column(String(200))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    totp_last_step: Mapped[int | None] = mapped_column(Integer)

    def get_id(self) -> str:
        """Flask-Login's session id: the user and the session version it was issued under."""
        return f"{self.id}:{self.session_version}"

    def set_password(self, password: str) -> None:
        """Store a salted scrypt hash (werkzeug's default), never the password; older sessions end."""
        self.password_hash = generate_password_hash(password)
        self.end_sessions()

    def end_sessions(self) -> None:
        """Make every session cookie issued so far worthless (server-side revocation)."""
        self.session_version = (self.session_version or 0) + 1

    def check_password(self, password: str) -> bool:
        """True when `password` matches."""
        return check_password_hash(self.password_hash, password)

    def may_see(self, shop_id: int) -> bool:
        """True when this user may see data of shop `shop_id`."""
        return self.shop_id is None or self.shop_id == shop_id

    def has_role(self, role: Role) -> bool:
        """True when this user's role is at least `role`."""
        return ROLE_RANK[Role(self.role)] >= ROLE_RANK[role]
