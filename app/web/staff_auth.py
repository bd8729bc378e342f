"""Staff login/logout, the role check every staff page uses, and the shop scope every staff query uses."""

from __future__ import annotations

import functools
import time
from datetime import timedelta
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import Select, func, select
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from app.admin import totp
from app.extensions import db, limiter, login_manager
from app.models import Role, StaffUser
from app.models.types import utcnow

bp = Blueprint("staff_auth", __name__, url_prefix="/staff")


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


# Compared against when the email is unknown, so both answers take the same time (no enumeration).
_DUMMY_HASH = generate_password_hash("not a password of anyone")
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)


@login_manager.user_loader
def load_user(session_id: str) -> StaffUser | None:
    """Flask-Login's loader: the user, if the cookie's session version is still the current one."""
    user_id, _, version = session_id.partition(":")
    if not (user_id.isdigit() and version.isdigit() and len(user_id) < 10):
        return None
    user = db.session.get(StaffUser, int(user_id))
    if user is None or user.disabled_at is not None or user.session_version != int(version):
        return None
    return user


def _authenticate(email: str, password: str) -> StaffUser | None:
    """The user when the password is right and the account is not locked; failures count towards a lockout."""
    user = db.session.scalar(select(StaffUser).where(func.lower(StaffUser.email) == email))
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    now = utcnow()
    locked = user.locked_until is not None and user.locked_until > now
    if user.check_password(password) and not locked and user.disabled_at is None:
        user.failed_logins = 0
        return user
    if not locked:
        user.failed_logins = (user.failed_logins or 0) + 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until, user.failed_logins = now + LOCKOUT, 0
    db.session.commit()
    return None


def staff_required(role: Role = Role.VIEWER):
    """Login required, and at least `role`; 403 otherwise.

    The role is recorded on the view as `required_role`: tests/test_staff_access.py visits every /staff
    URL as each role and holds each view to what it declares.
    """

    def decorator(view):
        @functools.wraps(view)
        @login_required
        def wrapper(*args, **kwargs):
            if not current_user.has_role(role):
                abort(403)
            return view(*args, **kwargs)

        wrapper.required_role = role
        return wrapper

    return decorator


def public(view):
    """Declare a /staff view open to everyone (the login steps): `required_role` None."""
    view.required_role = None
    return view


#: where a password-checked login waits for its TOTP code: [user id, session version, since, next URL]
SECOND_FACTOR_KEY = "second_factor"


def staff_shop_id() -> int | None:
    """The shop the signed-in staff user works for; None for the operator's staff, who see every shop."""
    return current_user.shop_id


def in_staff_shop(query: Select, shop_column) -> Select:
    """`query` limited to rows whose `shop_column` is the staff user's shop (unchanged for all-shops staff)."""
    shop_id = staff_shop_id()
    return query if shop_id is None else query.where(shop_column == shop_id)


def visible_or_404(row, shop_id: int | None = None):
    """`row` when it exists and belongs to the staff user's shop (`shop_id` overrides `row.shop_id`).

    Another shop's row is a 404, like a missing one, so ids of other shops cannot be probed.
    """
    if row is None or not current_user.may_see(shop_id if shop_id is not None else row.shop_id):
        abort(404)
    return row


def _safe_next(target: str | None) -> str:
    if target and not urlsplit(target).netloc and target.startswith("/"):
        return target
    return url_for("staff_home.home")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
@public
def login():
    """Email + password login."""
    form = LoginForm()
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            user = _authenticate(form.email.data.strip().lower(), form.password.data)
            if user is not None and totp.required(user):
                db.session.commit()
                target = _safe_next(request.args.get("next"))
                session[SECOND_FACTOR_KEY] = [user.id, user.session_version, int(time.time()), target]
                return redirect(url_for("staff_admin.second_factor"))
            if user is not None:
                login_user(user)
                user.last_login_at = utcnow()
                db.session.commit()
                return redirect(_safe_next(request.args.get("next")))
            flash(
                f"Wrong email or password. After {MAX_FAILED_LOGINS} failed attempts an account is locked "
                f"for {LOCKOUT.seconds // 60} minutes.",
                "error",
            )
            status = 401
    return render_template("staff/login.html", form=form), status


@bp.post("/logout")
@staff_required(Role.VIEWER)
def logout():
    """End this session and every other one of this user (a copied cookie stops working too)."""
    current_user.end_sessions()
    db.session.commit()
    logout_user()
    return redirect(url_for("staff_auth.login"))
