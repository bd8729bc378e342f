"""Staff acting on at-risk shipments, one (from its page) or many (ticked in the queue): tell the customer
(preview first), open a claim, add a note, snooze, assign, mark handled.

Agents act, viewers only read. Each action runs in one transaction with its audit entries; refused input
flashes why and writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import MultiDict

from app.errors import DomainError, InvalidInput
from app.extensions import db
from app.models import Role, Shipment, StaffUser
from app.models.types import utcnow
from app.web.staff_auth import in_staff_shop, staff_required, visible_or_404
from app.workbench import actions, messages

bp = Blueprint("staff_queue", __name__, url_prefix="/staff")

MAX_BULK = 200


@bp.post("/shipments/<int:shipment_id>/<action>")
@staff_required(Role.AGENT)
def act(shipment_id: int, action: str):
    """One action on one shipment."""
    handler = ACTIONS.get(action)
    if handler is None:
        abort(404)
    shipment = visible_or_404(db.session.get(Shipment, shipment_id))
    return _run(handler, [shipment], url_for("staff_home.shipment", shipment_id=shipment.id))


@bp.post("/queue/bulk")
@staff_required(Role.AGENT)
def bulk():
    """One action on every ticked shipment of the queue."""
    back = _back()
    handler = ACTIONS.get(request.form.get("action", ""))
    if handler is None:
        flash("Choose what to do with the ticked shipments.", "error")
        return redirect(back)
    ids = {int(value) for value in request.form.getlist("shipment") if value.isdigit() and len(value) < 10}
    if not ids:
        flash("Tick at least one shipment.", "error")
        return redirect(back)
    if len(ids) > MAX_BULK:
        flash(f"At most {MAX_BULK} shipments at a time.", "error")
        return redirect(back)
    shipments = db.session.scalars(
        in_staff_shop(select(Shipment).where(Shipment.id.in_(ids)), Shipment.shop_id).order_by(Shipment.id)
    ).all()
    if len(shipments) != len(ids):
        flash("Some ticked shipments no longer exist; nothing was done.", "error")
        return redirect(back)
    return _run(handler, list(shipments), back)


def _run(handler: Callable, shipments: list[Shipment], back: str):
    try:
        outcome = handler(shipments, request.form, current_user._get_current_object())
        if not isinstance(outcome, str):
            db.session.rollback()  # a preview: nothing to keep
            return outcome
        db.session.commit()
    except (DomainError, IntegrityError) as error:
        db.session.rollback()
        message = error.message if isinstance(error, DomainError) else "Someone else changed it; try again."
        flash(message, "error")
    else:
        flash(outcome, "info")
    return redirect(back)


def _back() -> str:
    target = request.form.get("next", "")
    if target.startswith("/staff/") and not urlsplit(target).netloc and "\\" not in target:
        return target
    return url_for("staff_home.home")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


# -- actions: each takes the shipments, the form and the user, and returns what to tell the agent ---------


def _notify(shipments: list[Shipment], form: MultiDict, user: StaffUser):
    trigger = messages.staff_trigger(form.get("trigger"))
    now = utcnow()
    if form.get("confirm") != "1":
        previews = [messages.preview(shipment, trigger, now) for shipment in shipments]
        page = render_template(
            "staff/notify_preview.html",
            previews=previews,
            trigger=trigger,
            label=messages.STAFF_TRIGGERS[trigger],
            back=_back()
            if len(shipments) > 1
            else url_for("staff_home.shipment", shipment_id=shipments[0].id),
        )
        return make_response(page)
    written, skipped = 0, []
    for shipment in shipments:
        try:
            rows = messages.notify(shipment, trigger, now)
        except InvalidInput as error:
            skipped.append(error.message)
            continue
        written += rows
        actions.audit(shipment, user, "notify", {"trigger": trigger.value, "outbox_rows": rows}, now)
    if skipped and len(skipped) == len(shipments):
        raise InvalidInput(" ".join(skipped))
    told = f"{_plural(written, 'message')} queued for {_plural(len(shipments) - len(skipped), 'shipment')}"
    extra = (
        " (the others were already sent, or the customer has no channel for it)"
        if written < len(shipments) - len(skipped)
        else ""
    )
    return f"{told}{extra}." + "".join(f" Not sent: {line}" for line in skipped)


def _claim(shipments: list[Shipment], form: MultiDict, user: StaffUser) -> str:
    kind = actions.claim_kind(form.get("kind"))
    statement = (form.get("statement") or "").strip()[:2000] or None
    opened, already = actions.open_manual_claims(shipments, kind, statement, user, utcnow())
    if not opened:
        raise InvalidInput(f"A {kind} claim is already open for {'it' if len(shipments) == 1 else 'each'}.")
    done = f"Opened {', '.join(c.reference for c in opened)}."
    return done + (f" Already open for {', '.join(s.tracking_number for s in already)}." if already else "")


def _note(shipments: list[Shipment], form: MultiDict, user: StaffUser) -> str:
    text, now = actions.note_text(form.get("note")), utcnow()
    for shipment in shipments:
        actions.add_note(shipment, text, user, now)
    return "Note added."


def _snooze(shipments: list[Shipment], form: MultiDict, user: StaffUser) -> str:
    now = utcnow()
    until = actions.snooze_date(
        form.get("until"), now.astimezone(actions.shop_zone(shipments[0].shop_id)).date()
    )
    for shipment in shipments:
        actions.snooze(shipment, until, user, now)
    return f"Snoozed {_plural(len(shipments), 'shipment')} until {until.isoformat()}."


def _assign(shipments: list[Shipment], form: MultiDict, user: StaffUser) -> str:
    raw = (form.get("assignee") or "").strip()
    assignee = None
    if raw:
        assignee = db.session.get(StaffUser, int(raw)) if raw.isdigit() and len(raw) < 10 else None
        if assignee is None:
            raise InvalidInput("Choose a colleague.", errors={"assignee": "Unknown."})
    now = utcnow()
    for shipment in shipments:
        actions.assign(shipment, assignee, user, now)
    return f"Assigned to {assignee.email}." if assignee else "Unassigned."


def _handled(shipments: list[Shipment], form: MultiDict, user: StaffUser) -> str:
    now = utcnow()
    for shipment in shipments:
        actions.mark_handled(shipment, user, now)
    return f"Marked {_plural(len(shipments), 'shipment')} handled: back in the queue on news."


ACTIONS: dict[str, Callable] = {
    "notify": _notify,
    "claim": _claim,
    "note": _note,
    "snooze": _snooze,
    "assign": _assign,
    "handled": _handled,
}
