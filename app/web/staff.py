"""The staff dashboard: the at-risk workbench queue and a shipment's page (actions: app/web/staff_queue.py)."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import (
    Claim,
    ClaimKind,
    Notification,
    Role,
    Shipment,
    ShipmentTriage,
    StaffAuditEntry,
    StaffUser,
)
from app.models.types import utcnow
from app.risk.queue import AT_RISK_STATES, book_share
from app.web.staff_auth import staff_required, staff_shop_id, visible_or_404
from app.workbench.history import history_of, p_late_chart
from app.workbench.messages import STAFF_TRIGGERS
from app.workbench.queue import SHOWS, SORTS, parse_filters, queue_page
from carriers.registry import DISPLAY_NAMES

bp = Blueprint("staff_home", __name__, url_prefix="/staff")


@bp.get("/")
@staff_required(Role.VIEWER)
def home():
    """The at-risk queue of the staff user's shop(s): filtered, sorted (expected cost first), paged, with
    what staff set aside left out, and its share of the book."""
    shop_id = staff_shop_id()
    filters = parse_filters(request.args)
    page = queue_page(filters, shop_id, utcnow(), current_user.id)
    colleagues = db.session.scalars(
        select(StaffUser).where(StaffUser.role != Role.VIEWER.value).order_by(StaffUser.email)
    ).all()
    return render_template(
        "staff/home.html",
        page=page,
        filters=page.filters,
        args=request.args,
        book=book_share(shop_id),
        carrier_name=lambda code: DISPLAY_NAMES.get(code, code),
        risk_states=AT_RISK_STATES,
        sorts=SORTS,
        shows=SHOWS,
        colleagues=[c for c in colleagues if shop_id is None or c.may_see(shop_id)],
        staff_names={c.id: c.email for c in colleagues},
        triggers=STAFF_TRIGGERS,
        kinds=list(ClaimKind),
        now=utcnow(),
        next_url=request.full_path.rstrip("?"),
    ), 400 if page.filters.errors else 200


@bp.get("/shipments/<int:shipment_id>")
@staff_required(Role.VIEWER)
def shipment(shipment_id: int):
    """One shipment: status, prediction with its reasons and history, the event timeline (raw carrier
    codes on demand), messages and their delivery, claims, notes, the staff audit log and the actions."""
    found = visible_or_404(db.session.get(Shipment, shipment_id, options=[selectinload(Shipment.events)]))
    history = history_of(found.id)
    sent = db.session.scalars(
        select(Notification)
        .where(Notification.shipment_id == found.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(200)
    ).all()
    claims = db.session.scalars(
        select(Claim).where(Claim.shipment_id == found.id).order_by(Claim.opened_at.desc())
    ).all()
    entries = db.session.scalars(
        select(StaffAuditEntry)
        .where(StaffAuditEntry.shipment_id == found.id)
        .order_by(StaffAuditEntry.created_at.desc(), StaffAuditEntry.id.desc())
        .limit(500)
    ).all()
    triage = db.session.get(ShipmentTriage, found.id)
    colleagues = db.session.scalars(
        select(StaffUser).where(StaffUser.role != Role.VIEWER.value).order_by(StaffUser.email)
    ).all()
    return render_template(
        "staff/shipment.html",
        shipment=found,
        history=history,
        chart=p_late_chart(history),
        messages=sent,
        claims=claims,
        notes=[e for e in entries if e.action == "note"],
        entries=entries,
        triage=triage,
        assignee=db.session.get(StaffUser, triage.assignee_id) if triage and triage.assignee_id else None,
        colleagues=[c for c in colleagues if c.may_see(found.shop_id)],
        triggers=STAFF_TRIGGERS,
        kinds=list(ClaimKind),
        now=utcnow(),
    )
