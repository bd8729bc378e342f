"""Staff case inbox: customers' messages about a parcel with the shipment's context and a first-response
timer; agents reply (sent through the outbox on the customer's channel) and close; response times per week."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import case, select
from sqlalchemy.orm import selectinload

from app.customer_care.cases import close, reply
from app.customer_care.charts import Series, line_chart, nice_ceiling
from app.customer_care.stats import (
    ResponseTimes,
    case_rows,
    response_times,
    week_label,
    weekly_response_times,
    weeks_until,
)
from app.errors import DomainError
from app.extensions import db
from app.models import CaseStatus, Role, Shipment, SupportCase, TrackingEvent
from app.models.notification import OutboxState
from app.models.types import utcnow
from app.notify.triggers import eta_window
from app.web.staff_auth import in_staff_shop, staff_required, staff_shop_id, visible_or_404
from app.web.staff_survey import period_start, requested_weeks
from carriers.registry import DISPLAY_NAMES

bp = Blueprint("staff_cases", __name__)

INBOX_LIMIT = 500
RECENT_EVENTS = 5
SHOW = {
    "waiting": (CaseStatus.OPEN,),
    "active": (CaseStatus.OPEN, CaseStatus.ANSWERED),
    "answered": (CaseStatus.ANSWERED,),
    "closed": (CaseStatus.CLOSED,),
}


@bp.get("/staff/cases")
@staff_required(Role.VIEWER)
def inbox():
    """Cases waiting for us (the longest waiting first), or answered / closed ones; response times per week."""
    show = request.args.get("show") if request.args.get("show") in SHOW else "active"
    waiting_first = case((SupportCase.status == CaseStatus.OPEN, 0), else_=1)
    query = (
        select(SupportCase, Shipment)
        .join(Shipment, Shipment.id == SupportCase.shipment_id)
        .where(SupportCase.status.in_(SHOW[show]))
        .options(selectinload(SupportCase.messages))
        .order_by(waiting_first, SupportCase.created_at, SupportCase.id)
        .limit(INBOX_LIMIT)
    )
    rows = db.session.execute(in_staff_shop(query, SupportCase.shop_id)).all()
    weeks = weeks_until(utcnow().date(), requested_weeks())
    cases = case_rows(period_start(weeks), staff_shop_id())
    weekly = weekly_response_times(cases, weeks)
    return render_template(
        "staff/cases/inbox.html",
        rows=rows,
        show=show,
        shows=list(SHOW),
        limit=INBOX_LIMIT,
        now=utcnow(),
        total=response_times(cases),
        weekly=[(week_label(monday), times) for monday, times in weekly],
        weeks=len(weeks),
        chart=_times_chart(weekly),
        duration=duration_words,
        carrier_name=_carrier_name,
    )


@bp.get("/staff/cases/<int:case_id>")
@staff_required(Role.VIEWER)
def detail(case_id: int):
    """One case: the conversation, the shipment's status, carrier, ETA and latest scans, reply and close."""
    found = _case_or_404(case_id)
    shipment = db.session.get(Shipment, found.shipment_id)
    events = db.session.scalars(
        select(TrackingEvent)
        .where(TrackingEvent.shipment_id == shipment.id)
        .order_by(TrackingEvent.occurred_at.desc(), TrackingEvent.id.desc())
        .limit(RECENT_EVENTS)
    ).all()
    return render_template(
        "staff/cases/detail.html",
        case=found,
        shipment=shipment,
        events=events,
        eta=eta_window(shipment),
        now=utcnow(),
        duration=duration_words,
        carrier_name=_carrier_name,
    )


@bp.post("/staff/cases/<int:case_id>/reply")
@staff_required(Role.AGENT)
def send_reply(case_id: int):
    """Answer the customer: on the tracking page at once, and through the outbox on their channel."""
    found = _case_or_404(case_id, for_update=True)
    try:
        row = reply(found, current_user, request.form.get("body"))
    except DomainError as error:
        db.session.rollback()
        flash(f"Nothing was sent: {_refusal(error)}", "error")
        return redirect(url_for(".detail", case_id=case_id))
    db.session.commit()
    if row is None:
        flash("The reply is on the tracking page, but the customer unsubscribed from that channel.", "error")
    elif row.state == OutboxState.DEAD:
        flash(f"The reply is on the tracking page, but it cannot be sent: {row.last_error}", "error")
    else:
        flash(f"Reply queued by {row.channel} to {row.recipient}.", "info")
    return redirect(url_for(".detail", case_id=case_id))


@bp.post("/staff/cases/<int:case_id>/close")
@staff_required(Role.AGENT)
def close_case(case_id: int):
    """Close the case: resolved."""
    found = _case_or_404(case_id, for_update=True)
    try:
        close(found)
    except DomainError as error:
        db.session.rollback()
        flash(_refusal(error), "error")
    else:
        db.session.commit()
        flash(f"Case {case_id} closed.", "info")
    return redirect(url_for(".detail", case_id=case_id))


def duration_words(span: timedelta | None) -> str:
    """`2 d 4 h`, `3 h 5 min`, `12 min`, `<1 min`; `–` for none."""
    if span is None:
        return "–"
    minutes = int(span.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min" if minutes else "<1 min"


def _refusal(error: DomainError) -> str:
    if error.errors:
        return " ".join(f"{name}: {' '.join(texts)}" for name, texts in error.errors.items())
    return error.message


def _carrier_name(code: str) -> str:
    return DISPLAY_NAMES.get(code, code)


def _case_or_404(case_id: int, *, for_update: bool = False) -> SupportCase:
    query = select(SupportCase).where(SupportCase.id == case_id)
    if for_update:
        query = query.with_for_update()  # two agents replying at once: one first response
    return visible_or_404(db.session.scalar(query))


def _hours(span: timedelta | None) -> float | None:
    return None if span is None else span.total_seconds() / 3600


def _times_chart(weekly: list[tuple[date, ResponseTimes]]) -> Markup:
    labels = [week_label(monday) for monday, _ in weekly]
    lines = [
        Series("First response, median", [_hours(t.first_response.median) for _, t in weekly], "#2456d6"),
        Series("First response, p90", [_hours(t.first_response.p90) for _, t in weekly], "#2456d6", True),
        Series("Resolution, median", [_hours(t.resolution.median) for _, t in weekly], "#0f8a5f"),
        Series("Resolution, p90", [_hours(t.resolution.p90) for _, t in weekly], "#0f8a5f", True),
    ]
    highest = max((v for line in lines for v in line.values if v is not None), default=0)
    return line_chart(
        "Response times per week (hours)", labels, lines, low=0, high=nice_ceiling(highest), unit=" h"
    )
