"""The branding page of a shop's administration (admins only, within their shop scope): colours checked
for contrast and a logo. Its routes join `staff_admin.bp`."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, HiddenField, StringField
from wtforms.validators import Length

from app.admin.branding import LOGO_MAX_BYTES, LOGO_MAX_SIDE, BrandingChanges, shop_branding, update_branding
from app.admin.errors import AdminError
from app.extensions import db
from app.input_guard import parse_id
from app.models import Role, Shop
from app.web.branding import brand_for, public_shop_key
from app.web.staff_admin import bp, log
from app.web.staff_auth import staff_required, visible_or_404


class BrandingForm(FlaskForm):
    """Colours as hex (empty: the default) and an optional new logo, or removing the current one."""

    shop_id = HiddenField()
    primary_colour = StringField("Primary colour (buttons, white text on it)", validators=[Length(max=16)])
    accent_colour = StringField("Accent colour (page header, dark text on it)", validators=[Length(max=16)])
    logo = FileField("Logo (PNG, JPEG or WebP)")
    remove_logo = BooleanField("Remove the logo")


def _scoped_shop(value: str | None) -> Shop:
    """The shop named by `value` within the admin's scope (404 otherwise); a shop-bound admin's own."""
    shop_id = parse_id(value or "")
    if shop_id is None:
        shop_id = current_user.shop_id
    if shop_id is None:
        abort(404)
    return visible_or_404(db.session.get(Shop, shop_id), shop_id)


def _page(shop: Shop, form: BrandingForm, status: int = 200, error: AdminError | None = None):
    return render_template(
        "staff/admin/branding.html",
        shop=shop,
        form=form,
        brand=brand_for(shop),
        front_door=current_app.config["PUBLIC_BASE_URL"].rstrip("/")
        + url_for("tracking.front", shop=public_shop_key(shop.id)),
        error=error,
        max_kb=LOGO_MAX_BYTES // 1024,
        max_side=LOGO_MAX_SIDE,
    ), status


@bp.get("/admin/branding")
@staff_required(Role.ADMIN)
def branding():
    """The shop's colours and logo on its customers' pages (`?shop=ID`; a shop-bound admin's own)."""
    shop = _scoped_shop(request.args.get("shop"))
    current = shop_branding(shop.id)
    form = BrandingForm(
        formdata=None,
        shop_id=str(shop.id),
        primary_colour=current.primary_colour if current else "",
        accent_colour=current.accent_colour if current else "",
    )
    return _page(shop, form)


@bp.post("/admin/branding")
@staff_required(Role.ADMIN)
def save_branding():
    """Store the colours (refused when they fail WCAG AA contrast) and the logo."""
    form = BrandingForm()
    shop = _scoped_shop(form.shop_id.data)
    if not form.validate_on_submit():
        return _page(shop, form, 400, AdminError("Please check the form and try again."))
    upload = form.logo.data
    changes = BrandingChanges(
        primary_colour=form.primary_colour.data or "",
        accent_colour=form.accent_colour.data or "",
        logo=upload.read(LOGO_MAX_BYTES + 1) if upload else None,
        remove_logo=form.remove_logo.data,
    )
    try:
        update_branding(shop, changes)
    except AdminError as error:
        db.session.rollback()
        return _page(db.session.get(Shop, shop.id), form, 400, error)
    db.session.commit()
    log.info("staff admin %s: saved the branding of shop %s", current_user.email, shop.id)
    flash("Branding saved.", "success")
    return redirect(url_for("staff_admin.branding", shop=shop.id))
