"""Staff search (tracking number, order reference, email, phone) and one customer's single view."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from sqlalchemy import select

from app.extensions import db
from app.models import Role, Shop
from app.web.staff_auth import staff_required, staff_shop_id
from app.workbench.customers import customer_view, search
from carriers.registry import DISPLAY_NAMES

bp = Blueprint("staff_customers", __name__, url_prefix="/staff")


@bp.get("/search")
@staff_required(Role.VIEWER)
def find():
    """Shipments whose tracking number, order reference, email or phone is the term or starts with it."""
    term = (request.args.get("q") or "").strip()[:254]
    found = search(term, staff_shop_id()) if term else []
    if len(found) == 1 and found[0].tracking_number.upper() == term.upper():
        return redirect(url_for("staff_home.shipment", shipment_id=found[0].id))
    return render_template(
        "staff/search.html", term=term, found=found, carrier_name=lambda c: DISPLAY_NAMES.get(c, c)
    )


@bp.get("/customers")
@staff_required(Role.VIEWER)
def customer():
    """One customer (by email or phone): every shipment, the messages sent to them, their claims."""
    email = (request.args.get("email") or "").strip()[:254]
    phone = (request.args.get("phone") or "").strip()[:32]
    if not (email or phone):
        return render_template("staff/customer.html", view=None, shops={}), 200
    view = customer_view(email or None, phone or None, staff_shop_id())
    ids = {s.shop_id for s in view.shipments}
    shops = dict(db.session.execute(select(Shop.id, Shop.name).where(Shop.id.in_(ids))).all())
    return render_template(
        "staff/customer.html",
        view=view,
        email=email,
        phone=phone,
        shops=shops,
        carrier_name=lambda c: DISPLAY_NAMES.get(c, c),
    ), 200 if view.shipments else 404
