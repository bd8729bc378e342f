"""Staff claims pages: the board by state, a claim's detail with its actions, its files and evidence pack.

Every action is a POST form for agents; a refused action (a domain error, an illegal move, a claim changed
meanwhile) rolls back, flashes why, and changes nothing.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import MultiDict

from app.claims import evidence_pack, service, submission
from app.claims.evidence import read
from app.claims.lifecycle import can_move, move, record
from app.errors import Conflict, DomainError, InvalidInput
from app.extensions import db
from app.models import (
    Claim,
    ClaimAttachment,
    ClaimKind,
    ClaimState,
    Liability,
    RemedyKind,
    Role,
    Shipment,
    Shop,
)
from app.models.claim import FINISHED_CLAIM_STATES
from app.models.types import utcnow
from app.web.staff_auth import in_staff_shop, staff_required
from carriers.claims import CLAIM_FORMS, ClaimPack
from carriers.errors import CarrierError
from carriers.registry import DISPLAY_NAMES

bp = Blueprint("staff_claims", __name__, url_prefix="/staff/claims")

S = ClaimState
#: the board's columns, left to right
COLUMNS: tuple[tuple[str, tuple[ClaimState, ...]], ...] = (
    ("Opened", (S.OPENED,)),
    ("Classified", (S.CLASSIFIED,)),
    ("Remedy decided", (S.REMEDY_DECIDED,)),
    ("With the carrier", (S.SUBMITTED, S.IN_REVIEW, S.NEEDS_INFORMATION)),
    ("Decided", (S.APPROVED, S.PARTIALLY_APPROVED, S.DENIED)),
)
FINISHED_COLUMN = ("Closed or cancelled", (S.CLOSED, S.CANCELLED))
CARRIER_OUTCOMES = (S.IN_REVIEW, S.NEEDS_INFORMATION, S.APPROVED, S.PARTIALLY_APPROVED, S.DENIED)
BOARD_LIMIT = 1000
_MAX_AMOUNT = Decimal("9999999999.99")  # Numeric(12, 2)


@bp.get("/")
@staff_required(Role.VIEWER)
def board():
    """Claims in columns by state, the nearest filing deadline first; filter by carrier, kind, state."""
    args = {name: request.args.get(name, "") for name in ("carrier", "kind", "state", "show")}
    query = in_staff_shop(
        select(Claim, Shipment).join(Shipment, Shipment.id == Claim.shipment_id), Claim.shop_id
    )
    if args["carrier"]:
        query = query.where(Shipment.carrier == args["carrier"])
    if kind := _member(ClaimKind, args["kind"]):
        query = query.where(Claim.kind == kind)
    if state := _member(ClaimState, args["state"]):
        query = query.where(Claim.state == state)
    elif args["show"] != "all":
        query = query.where(Claim.state.not_in(FINISHED_CLAIM_STATES))
    # Claims without a known deadline last (PostgreSQL would sort NULL first).
    order = (Claim.file_by.is_(None), Claim.file_by, Claim.id)
    rows = db.session.execute(query.order_by(*order).limit(BOARD_LIMIT)).all()
    columns = COLUMNS + ((FINISHED_COLUMN,) if args["show"] == "all" or args["state"] else ())
    board_columns = [
        (title, states, [row for row in rows if row.Claim.state in states]) for title, states in columns
    ]
    # Portal carriers need the claim number staff get from the portal: they are filed one by one.
    fileable = {
        row.Claim.id
        for row in rows
        if row.Claim.state is S.REMEDY_DECIDED and submission.filer_code(row.Shipment) is not None
    }
    carriers = db.session.scalars(
        in_staff_shop(
            select(Shipment.carrier).join(Claim, Claim.shipment_id == Shipment.id), Claim.shop_id
        ).distinct()
    ).all()
    return render_template(
        "staff/claims/board.html",
        columns=board_columns,
        fileable=fileable,
        args=args,
        total=len(rows),
        limit=BOARD_LIMIT,
        carriers=sorted(carriers),
        kinds=list(ClaimKind),
        states=list(ClaimState),
        **_helpers(utcnow()),
    )


@bp.post("/submit")
@staff_required(Role.AGENT)
def bulk_submit():
    """File the ticked claims over their carriers' claims APIs, each in its own transaction."""
    references = request.form.getlist("reference")
    if not references:
        flash("Tick at least one claim to submit.", "error")
        return redirect(url_for("staff_claims.board"))
    done, refused = [], []
    for reference in references:
        claim = db.session.scalar(_claim_query(reference, for_update=True))
        if claim is None or claim.state is not S.REMEDY_DECIDED:
            refused.append(f"{reference}: not waiting for submission.")
            continue
        try:
            submission.submit(claim, actor=_actor())
            db.session.commit()
            done.append(reference)
        except (DomainError, CarrierError, IntegrityError) as error:
            db.session.rollback()
            refused.append(f"{reference}: {_message(error)}")
    if done:
        flash(f"Submitted {len(done)} claim{'s' if len(done) != 1 else ''}: {', '.join(done)}.", "info")
    for line in refused:
        flash(line, "error")
    return redirect(url_for("staff_claims.board"))


@bp.get("/<reference>")
@staff_required(Role.VIEWER)
def detail(reference: str):
    """One claim: shipment, evidence, amounts, filing calendar, audit trail, files and the actions."""
    claim = _claim_or_404(reference)
    shipment = db.session.get(Shipment, claim.shipment_id)
    warn_days = service.current_rules().detection.warn_days_before_last_day
    api = submission.filer_code(shipment)
    return render_template(
        "staff/claims/detail.html",
        claim=claim,
        shipment=shipment,
        shop=db.session.get(Shop, claim.shop_id),
        api=api,
        claim_form=CLAIM_FORMS.get(shipment.carrier),
        pack=_pack(claim) if api is None and can_move(claim, S.SUBMITTED) else None,
        warn_from=claim.file_by - timedelta(days=warn_days) if claim.file_by else None,
        actions=_available_actions(claim),
        kinds=list(ClaimKind),
        liabilities=list(Liability),
        remedies=list(RemedyKind),
        outcomes=CARRIER_OUTCOMES,
        **_helpers(utcnow()),
    )


@bp.post("/<reference>/<action>")
@staff_required(Role.AGENT)
def act(reference: str, action: str):
    """Run one action on a claim; a refusal flashes its reason and leaves the claim as it was."""
    handler = ACTIONS.get(action)
    if handler is None:
        abort(404)
    claim = _claim_or_404(reference, for_update=True)
    try:
        version = request.form.get("version", "")
        if version and version != str(claim.version):
            raise Conflict(
                "Someone changed this claim while you were looking at it; review it and try again."
            )
        done = handler(claim, request.form, _actor())
        db.session.commit()
    except (DomainError, CarrierError, IntegrityError) as error:
        db.session.rollback()
        flash(_message(error), "error")
    else:
        flash(done, "info")
    return redirect(url_for("staff_claims.detail", reference=reference))


@bp.get("/<reference>/files/<int:attachment_id>")
@staff_required(Role.VIEWER)
def attachment(reference: str, attachment_id: int):
    """A claim file: images inline (for thumbnails), anything else as a download; never sniffed."""
    claim = _claim_or_404(reference)
    found = db.session.get(ClaimAttachment, attachment_id)
    if found is None or found.claim_id != claim.id:
        abort(404)
    try:
        data = read(found)
    except FileNotFoundError:
        abort(404)
    is_image = found.content_type.startswith("image/")
    response = send_file(
        io.BytesIO(data),
        mimetype=found.content_type,
        as_attachment=not is_image,
        download_name=found.filename,
        max_age=0,
    )
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return _private(response)


@bp.get("/<reference>/evidence.pdf")
@staff_required(Role.VIEWER)
def evidence_pdf(reference: str):
    """The evidence pack as one PDF."""
    claim = _claim_or_404(reference)
    response = send_file(
        io.BytesIO(evidence_pack.build_pdf(claim)),
        mimetype="application/pdf",
        download_name=evidence_pack.pdf_filename(claim),
        max_age=0,
    )
    return _private(response)


@bp.get("/<reference>/evidence.zip")
@staff_required(Role.VIEWER)
def evidence_zip(reference: str):
    """The evidence PDF with the original files."""
    claim = _claim_or_404(reference)
    response = send_file(
        io.BytesIO(evidence_pack.build_zip(claim)),
        mimetype="application/zip",
        as_attachment=True,
        download_name=f"{claim.reference}-evidence.zip",
        max_age=0,
    )
    return _private(response)


# -- actions: each takes the claim, the form and the actor, and returns what to tell the agent ----------


def _classify(claim: Claim, form: MultiDict, actor: str) -> str:
    service.classify(
        claim,
        liability=_choice(Liability, form, "liability"),
        kind=_choice(ClaimKind, form, "kind"),
        actor=actor,
        note=_text(form, "note"),
    )
    return f"Classified: {claim.kind} claim, liability with the {claim.liability}."


def _decide_remedy(claim: Claim, form: MultiDict, actor: str) -> str:
    service.decide_remedy(
        claim,
        remedy=_choice(RemedyKind, form, "remedy"),
        amount=_amount(form, "amount"),
        actor=actor,
        note=_text(form, "note"),
    )
    return f"Remedy decided: {claim.remedy_kind}."


def _submit(claim: Claim, form: MultiDict, actor: str) -> str:
    number = _text(form, "carrier_claim_id", limit=64)
    submission.submit(claim, actor=actor, carrier_claim_id=number)
    return f"Submitted to the carrier: claim number {claim.carrier_claim_id}."


def _record_decision(claim: Claim, form: MultiDict, actor: str) -> str:
    outcome = _choice(ClaimState, form, "outcome")
    if outcome not in CARRIER_OUTCOMES:
        raise InvalidInput(f"'{outcome}' is not a carrier decision.", errors={"outcome": "Unknown decision."})
    service.record_carrier_decision(
        claim,
        outcome=outcome,
        amount=_amount(form, "amount"),
        reason=_text(form, "reason", limit=300),
        actor=actor,
        carrier_claim_id=_text(form, "carrier_claim_id", limit=64),
    )
    return f"Carrier decision recorded: {outcome}."


def _request_information(claim: Claim, form: MultiDict, actor: str) -> str:
    if not claim.is_open:
        raise Conflict(f"The claim is {claim.state}; nobody can be asked for more now.")
    question = _required_text(form, "message")
    record(claim, "information_requested", actor=actor, note=question, data={"from": "customer"})
    if can_move(claim, S.NEEDS_INFORMATION):
        move(claim, S.NEEDS_INFORMATION, actor=actor, note="Asked the customer for information.")
        return "Information requested; the claim waits for it."
    return "Information request recorded."


def _add_note(claim: Claim, form: MultiDict, actor: str) -> str:
    record(claim, "note", actor=actor, note=_required_text(form, "note"))
    return "Note added."


def _close(claim: Claim, form: MultiDict, actor: str) -> str:
    service.close(claim, actor=actor, note=_text(form, "note"))
    return "Claim closed."


def _cancel(claim: Claim, form: MultiDict, actor: str) -> str:
    move(claim, S.CANCELLED, actor=actor, note=_text(form, "note"))
    return "Claim cancelled."


ACTIONS: dict[str, Callable[[Claim, MultiDict, str], str]] = {
    "classify": _classify,
    "remedy": _decide_remedy,
    "submit": _submit,
    "decision": _record_decision,
    "request-information": _request_information,
    "note": _add_note,
    "close": _close,
    "cancel": _cancel,
}


def _available_actions(claim: Claim) -> set[str]:
    """The forms worth showing for the claim's state (the POST checks again, whatever is shown)."""
    shown = {"note"}
    checks = {
        "classify": can_move(claim, S.CLASSIFIED),
        "remedy": can_move(claim, S.REMEDY_DECIDED),
        "submit": can_move(claim, S.SUBMITTED),
        "decision": claim.state in (S.SUBMITTED, S.IN_REVIEW, S.NEEDS_INFORMATION),
        "request-information": claim.is_open,
        "close": can_move(claim, S.CLOSED),
        "cancel": can_move(claim, S.CANCELLED),
    }
    return shown | {name for name, ok in checks.items() if ok}


# -- helpers -----------------------------------------------------------------------------------------------


def _pack(claim: Claim) -> ClaimPack | str:
    """The pre-filled claim pack for filing on the carrier's portal, or why there is none."""
    try:
        return submission.pack(claim)
    except InvalidInput as error:
        return error.message
    except FileNotFoundError:
        return "An attached file is missing from storage."


def _claim_query(reference: str, *, for_update: bool = False):
    """The claim with this reference, if it is of the staff user's shop (another shop's is not found)."""
    query = in_staff_shop(select(Claim).where(Claim.reference == reference.strip().upper()), Claim.shop_id)
    return query.with_for_update() if for_update else query


def _claim_or_404(reference: str, *, for_update: bool = False) -> Claim:
    claim = db.session.scalar(_claim_query(reference, for_update=for_update))
    if claim is None:
        abort(404)
    return claim


def _actor() -> str:
    return f"staff:{current_user.email}"


def _member(enum: type[StrEnum], value: str | None) -> StrEnum | None:
    try:
        return enum(value)
    except ValueError:
        return None


def _choice(enum: type[StrEnum], form: MultiDict, name: str):
    member = _member(enum, form.get(name, ""))
    if member is None:
        raise InvalidInput(f"Choose a {name.replace('_', ' ')}.", errors={name: "Required."})
    return member


def _text(form: MultiDict, name: str, *, limit: int = 2000) -> str | None:
    value = (form.get(name) or "").strip()
    if len(value) > limit:
        raise InvalidInput(f"The {name.replace('_', ' ')} is too long (at most {limit} characters).")
    return value or None


def _required_text(form: MultiDict, name: str) -> str:
    value = _text(form, name)
    if value is None:
        raise InvalidInput(f"Write a {name.replace('_', ' ')} first.", errors={name: "Required."})
    return value


def _amount(form: MultiDict, name: str) -> Decimal | None:
    raw = (form.get(name) or "").strip().replace(" ", "").replace(",", ".")
    if not raw:
        return None
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite() or abs(amount) > _MAX_AMOUNT:
        raise InvalidInput(f"'{form.get(name)}' is not an amount.", errors={name: "A number like 249.50."})
    return amount.quantize(Decimal("0.01"))


def _message(error: Exception) -> str:
    if isinstance(error, DomainError | CarrierError):
        return error.message
    return "Someone changed this claim at the same moment; review it and try again."


def _helpers(now: datetime) -> dict:
    """What templates need to show deadlines: the current time and a days-left function."""
    warn_days = service.current_rules().detection.warn_days_before_last_day

    def days_left(file_by: datetime | None) -> int | None:
        return None if file_by is None else math.floor((file_by - now).total_seconds() / 86400)

    return {
        "now": now,
        "days_left": days_left,
        "warn_days": warn_days,
        "carrier_name": lambda code: DISPLAY_NAMES.get(code, code),
    }


def _private(response):
    """Claim files and packs: never sniffed, never cached by shared caches."""
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
