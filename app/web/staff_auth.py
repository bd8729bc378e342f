"""Staff login/logout and the role check every staff page uses."""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from app.extensions import db, limiter, login_manager
from app.models import Role, StaffUser
from app.models.types import utcnow

bp = Blueprint("staff_auth", __name__, url_prefix="/staff")


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


@login_manager.user_loader
def load_user(user_id: str) -> StaffUser | None:
    """Flask-Login's loader."""
    return db.session.get(StaffUser, int(user_id)) if user_id.isdigit() else None


def staff_required(role: Role = Role.VIEWER):
    """Login required, and at least `role`; 403 otherwise."""

    def decorator(view):
        @functools.wraps(view)
        @login_required
        def wrapper(*args, **kwargs):
            if not current_user.has_role(role):
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorator


def _safe_next(target: str | None) -> str:
    if target and not urlsplit(target).netloc and target.startswith("/"):
        return target
    return url_for("staff_home.home")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def login():
    """Email + password login."""
    form = LoginForm()
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            email = form.email.data.strip().lower()
            user = db.session.scalar(select(StaffUser).where(func.lower(StaffUser.email) == email))
            if user is not None and user.check_password(form.password.data):
                login_user(user)
                user.last_login_at = utcnow()
                db.session.commit()
                return redirect(_safe_next(request.args.get("next")))
            flash("Wrong email or password.", "error")
            status = 401
    return render_template("staff/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    """End the session."""
    logout_user()
    return redirect(url_for("staff_auth.login"))
