"""The staff outbox viewer: every message, its state, rendered content and attempts, with filters."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.input_guard import MAX_PAGE, parse_id
from app.models import Notification, Role, Shop
from app.models.notification import OPEN_STATES, OutboxState
from app.notify.dispatch import replay
from app.web.staff_auth import in_staff_shop, staff_required, visible_or_404
from notifications.model import Trigger

bp = Blueprint("outbox", __name__, url_prefix="/staff/outbox")
PER_PAGE = 50
FILTERS = ("state", "channel", "trigger", "shop")


@bp.get("/")
@staff_required(Role.VIEWER)
def index():
    """Messages newest first, filtered by state, channel, trigger, shop and a search over key/recipient."""
    args = {name: request.args.get(name, "") for name in (*FILTERS, "q")}
    page = min(max(request.args.get("page", 1, type=int), 1), MAX_PAGE)
    query = in_staff_shop(select(Notification), Notification.shop_id)
    for name in ("state", "channel", "trigger"):
        if args[name]:
            query = query.where(getattr(Notification, name) == args[name])
    if (shop_id := parse_id(args["shop"])) is not None:
        query = query.where(Notification.shop_id == shop_id)
    if args["q"]:
        pattern = f"%{args['q'].strip()}%"
        query = query.where(or_(Notification.recipient.like(pattern), Notification.dedupe_key.like(pattern)))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.scalars(
        query.order_by(Notification.id.desc()).offset((page - 1) * PER_PAGE).limit(PER_PAGE)
    ).all()
    counts = dict(
        db.session.execute(
            in_staff_shop(select(Notification.state, func.count()), Notification.shop_id).group_by(
                Notification.state
            )
        ).all()
    )
    return render_template(
        "outbox/index.html",
        rows=rows,
        args=args,
        page=page,
        pages=max(1, -(-total // PER_PAGE)),
        total=total,
        counts=counts,
        states=[s.value for s in OutboxState],
        triggers=[t.value for t in Trigger] + ["test"],
        shops=db.session.execute(
            in_staff_shop(select(Shop.id, Shop.name), Shop.id).order_by(Shop.name)
        ).all(),
    )


@bp.get("/<int:notification_id>")
@staff_required(Role.VIEWER)
def detail(notification_id: int):
    """One message: metadata, the rendered text/HTML or webhook payload, and every attempt."""
    row = visible_or_404(
        db.session.get(Notification, notification_id, options=[selectinload(Notification.attempt_log)])
    )
    replayable = row.state not in {state.value for state in OPEN_STATES}
    return render_template("outbox/detail.html", row=row, replayable=replayable)


@bp.post("/<int:notification_id>/replay")
@staff_required(Role.AGENT)
def resend(notification_id: int):
    """Queue a finished message again (same dedupe key, so receivers can recognise it)."""
    row = visible_or_404(db.session.get(Notification, notification_id))
    if row.state in {state.value for state in OPEN_STATES}:
        flash("This message is still being attempted.", "error")
    else:
        replay(row)
        db.session.commit()
        flash("Queued again.", "info")
    return redirect(url_for("outbox.detail", notification_id=notification_id))
