"""The staff dashboard: the at-risk queue and a shipment's timeline."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Role, Shipment
from app.risk.queue import at_risk_query, book_share
from app.web.staff_auth import staff_required

bp = Blueprint("staff_home", __name__, url_prefix="/staff")


@bp.get("/")
@staff_required(Role.VIEWER)
def home():
    """At-risk shipments, most expensive first, and the share of the book they are."""
    shipments = db.session.scalars(at_risk_query().limit(200)).all()
    return render_template("staff/home.html", shipments=shipments, book=book_share())


@bp.get("/shipments/<int:shipment_id>")
@staff_required(Role.VIEWER)
def shipment(shipment_id: int):
    """One shipment: status, prediction with its reasons, and the event timeline."""
    found = db.session.get(Shipment, shipment_id, options=[selectinload(Shipment.events)])
    if found is None:
        abort(404)
    return render_template("staff/shipment.html", shipment=found)
