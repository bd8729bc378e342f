"""Staff edit the questions and answers customers see on the tracking page, per shop, topic and language.

Viewers read; agents (who answer these questions every day) and admins edit: the texts are plain text,
escaped on the page, so nothing a writer types can run. Every change names who made it (`updated_by`)
and is logged. Shops, like everything else, are looked up in the staff user's scope: another shop is a 404.
"""

from __future__ import annotations

import logging

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from app.admin.errors import AdminError
from app.extensions import db
from app.faq.choose import FaqItem, topic_items
from app.faq.editing import (
    checked_position,
    own_entry,
    preview_entry,
    restore_shipped,
    save_entry,
    set_hidden,
)
from app.faq.text import ANSWER_MAX, QUESTION_MAX
from app.faq.topics import TOPICS
from app.input_guard import parse_id
from app.models import Role, Shop
from app.web.staff_auth import in_staff_shop, staff_required, visible_or_404
from notifications.render import LANGUAGES

bp = Blueprint("staff_faq", __name__, url_prefix="/staff")
log = logging.getLogger(__name__)


class EntryForm(FlaskForm):
    """One question and its answer; `default_key` or `entry_id` say which one is being changed."""

    shop_id = HiddenField()
    topic = HiddenField()
    language = HiddenField()
    default_key = HiddenField()
    entry_id = HiddenField()
    question = StringField(
        "Question", validators=[DataRequired("Write the question."), Length(max=QUESTION_MAX)]
    )
    answer = TextAreaField("Answer", validators=[DataRequired("Write the answer."), Length(max=ANSWER_MAX)])
    position = StringField("Order (0–999, lower first; empty: keep or put last)")


def _shops() -> list[Shop]:
    return list(db.session.scalars(in_staff_shop(select(Shop), Shop.id).order_by(Shop.name)))


def _shop(value: str | None) -> Shop | None:
    """The shop named by `value` in the staff user's scope (404 otherwise); without one, the user's own
    shop or the first one they see."""
    shop_id = parse_id(value or "")
    if shop_id is not None:
        return visible_or_404(db.session.get(Shop, shop_id), shop_id)
    if current_user.shop_id is not None:
        return db.session.get(Shop, current_user.shop_id)
    shops = _shops()
    return shops[0] if shops else None


def _choice(value: str | None, allowed) -> str:
    if not value:
        return next(iter(allowed))
    if value not in allowed:
        abort(404)
    return value


def _where(source) -> tuple[Shop, str, str]:
    shop = _shop(source.get("shop_id") or source.get("shop"))
    if shop is None:
        abort(404)
    return shop, _choice(source.get("topic"), TOPICS), _choice(source.get("language"), LANGUAGES)


def _editing(shop: Shop, topic: str, language: str, ref: str | None) -> FaqItem | None:
    """The item `?edit=` names: `d:<key>` for a shipped question, the row id for an own one."""
    if not ref:
        return None
    items = topic_items(shop.id, language, [topic], hidden=True)[topic]
    for item in items:
        if ref == f"d:{item.default_key}" or (item.default_key is None and ref == str(item.entry_id)):
            return item
    abort(404)


def _page(shop: Shop, topic: str, language: str, form: EntryForm, status: int = 200, **extra):
    return (
        render_template(
            "staff/faq.html",
            shops=_shops(),
            shop=shop,
            topic=topic,
            language=language,
            topics=TOPICS,
            languages=LANGUAGES,
            items=topic_items(shop.id, language, [topic], hidden=True)[topic],
            form=form,
            may_edit=current_user.has_role(Role.AGENT),
            **extra,
        ),
        status,
    )


@bp.get("/faq")
@staff_required(Role.VIEWER)
def index():
    """One topic's questions in one language as this shop's customers see them, and the editor."""
    shop = _shop(request.args.get("shop"))
    if shop is None:
        return render_template("staff/faq.html", shops=[], shop=None), 200
    topic, language = (
        _choice(request.args.get("topic"), TOPICS),
        _choice(request.args.get("language"), LANGUAGES),
    )
    item = _editing(shop, topic, language, request.args.get("edit"))
    form = EntryForm(formdata=None, shop_id=shop.id, topic=topic, language=language)
    if item is not None:
        form.default_key.data, form.entry_id.data = item.default_key or "", item.entry_id or ""
        form.question.data, form.answer.data, form.position.data = item.question, item.answer, item.position
    return _page(shop, topic, language, form, editing=item)


@bp.post("/faq")
@staff_required(Role.AGENT)
def save():
    """`action=preview` shows the question as customers will see it; `save` stores it after the same checks."""
    shop, topic, language = _where(request.form)
    form = EntryForm()
    own = None
    if form.entry_id.data:
        own = own_entry(shop, parse_id(form.entry_id.data))
        if own is None or (own.topic, own.language) != (topic, language):
            abort(404)
    if not form.validate_on_submit():
        return _page(shop, topic, language, form, 400)
    try:
        if request.form.get("action") == "save":
            row = save_entry(
                shop,
                topic,
                language,
                form.question.data,
                form.answer.data,
                form.position.data,
                current_user.email,
                default_key=form.default_key.data or None,
                own=own,
            )
        else:
            checked_position(form.position.data)
            preview = preview_entry(topic, language, form.question.data, form.answer.data)
    except AdminError as error:
        db.session.rollback()
        if error.field in form:
            form[error.field].errors = [*form[error.field].errors, error.message]
        return _page(shop, topic, language, form, 400, error=error)
    if request.form.get("action") != "save":
        return _page(shop, topic, language, form, preview=preview)
    db.session.commit()
    log.info(
        "staff faq %s: saved %s/%s/%s entry %s of shop %s",
        current_user.email,
        topic,
        language,
        row.default_key or "own",
        row.id,
        shop.id,
    )
    flash("Saved: customers see it from now on.", "success")
    return redirect(url_for(".index", shop=shop.id, topic=topic, language=language))


@bp.post("/faq/hidden")
@staff_required(Role.AGENT)
def hide():
    """Hide a shipped question (`hidden=1`) from this shop's customers, or show it again."""
    shop, topic, language = _where(request.form)
    hidden = request.form.get("hidden") == "1"
    key = request.form.get("default_key", "")
    try:
        set_hidden(shop, topic, language, key, hidden, current_user.email)
    except AdminError:
        db.session.rollback()
        abort(404)
    db.session.commit()
    log.info(
        "staff faq %s: %s %s/%s/%s of shop %s",
        current_user.email,
        "hid" if hidden else "showed",
        topic,
        language,
        key,
        shop.id,
    )
    flash("Hidden from customers." if hidden else "Shown to customers again.", "success")
    return redirect(url_for(".index", shop=shop.id, topic=topic, language=language))


@bp.post("/faq/delete")
@staff_required(Role.AGENT)
def delete():
    """Delete an own question, or take a shipped one back to its shipped wording, order and visibility."""
    shop, topic, language = _where(request.form)
    key = request.form.get("default_key")
    if key:
        restore_shipped(shop, topic, language, key)
        done = "The shipped question is back as it was."
    else:
        row = own_entry(shop, parse_id(request.form.get("entry_id", "")))
        if row is None or (row.topic, row.language) != (topic, language):
            abort(404)
        db.session.delete(row)
        key, done = f"own {row.id}", "Question deleted."
    db.session.commit()
    log.info("staff faq %s: deleted %s/%s/%s of shop %s", current_user.email, topic, language, key, shop.id)
    flash(done, "success")
    return redirect(url_for(".index", shop=shop.id, topic=topic, language=language))
