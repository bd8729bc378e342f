"""Staff accounts as admins manage them: create, role, disable, password reset, shop binding.

An admin bound to a shop manages only that shop's accounts and can bind them to no other shop; the
operator's admins (no shop) manage every account. Nobody can lock themselves out by disabling or
demoting their own account.
"""

from __future__ import annotations

from sqlalchemy import func, select

from app.admin.errors import AdminError
from app.admin.passwords import check_password_policy
from app.extensions import db
from app.models import Role, Shop, StaffUser
from app.models.types import utcnow
from notifications.errors import InvalidRecipient
from notifications.recipients import validate_email


def visible_users(actor: StaffUser) -> list[StaffUser]:
    """The accounts `actor` manages, by email."""
    query = select(StaffUser).order_by(StaffUser.email)
    if actor.shop_id is not None:
        query = query.where(StaffUser.shop_id == actor.shop_id)
    return list(db.session.scalars(query))


def managed_user(actor: StaffUser, user_id: int | None) -> StaffUser | None:
    """The account `user_id` when `actor` manages it, else None (treated as not found)."""
    user = db.session.get(StaffUser, user_id) if user_id else None
    if user is None or (actor.shop_id is not None and user.shop_id != actor.shop_id):
        return None
    return user


def _shop_for(actor: StaffUser, shop_id: int | None) -> int | None:
    """The shop a new or rebound account gets: a shop-bound admin's own, or any existing one."""
    if actor.shop_id is not None:
        if shop_id not in (None, actor.shop_id):
            raise AdminError("You can only bind accounts to your own shop.", "shop_id")
        return actor.shop_id
    if shop_id is not None and db.session.get(Shop, shop_id) is None:
        raise AdminError(f"No shop {shop_id}.", "shop_id")
    return shop_id


def _role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise AdminError(f"Unknown role {value!r}.", "role") from None


def create_user(actor: StaffUser, email: str, password: str, role: str, shop_id: int | None) -> StaffUser:
    """A new account after the password policy; AdminError on a taken or invalid email."""
    try:
        address = validate_email(email.strip()).lower()
    except InvalidRecipient as exc:
        raise AdminError(f"Not a valid email address: {exc.message}", "email") from None
    if db.session.scalar(select(StaffUser.id).where(func.lower(StaffUser.email) == address)) is not None:
        raise AdminError("An account with this email exists already.", "email")
    check_password_policy(password, address)
    user = StaffUser(email=address, role=_role(role).value, shop_id=_shop_for(actor, shop_id))
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def change_role(actor: StaffUser, user: StaffUser, role: str) -> None:
    """Give `user` another role (not one's own: an admin cannot demote themselves by accident)."""
    new = _role(role)
    if user.id == actor.id and new is not Role.ADMIN:
        raise AdminError("You cannot take the admin role from your own account.", "role")
    user.role = new.value


def set_disabled(actor: StaffUser, user: StaffUser, disabled: bool) -> None:
    """Disable (no login, every session ends) or enable an account."""
    if disabled:
        if user.id == actor.id:
            raise AdminError("You cannot disable your own account.")
        user.disabled_at = utcnow()
        user.end_sessions()
    else:
        user.disabled_at = None


def reset_password(actor: StaffUser, user: StaffUser, password: str) -> None:
    """A new password after the policy; every session of the user ends, and a lockout is lifted."""
    check_password_policy(password, user.email)
    user.set_password(password)
    user.failed_logins, user.locked_until = 0, None


def bind_to_shop(actor: StaffUser, user: StaffUser, shop_id: int | None) -> None:
    """Bind `user` to one shop, or (operator admins only) to none: every shop."""
    if user.id == actor.id:
        raise AdminError("You cannot change the shop of your own account.", "shop_id")
    user.shop_id = _shop_for(actor, shop_id)
