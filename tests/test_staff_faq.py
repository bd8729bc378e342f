"""The staff FAQ editor over HTTP: who may read and edit, preview, friendly refusals that store nothing,
CSRF, and the shop scope (another shop's questions are a 404)."""

from __future__ import annotations

import re

import pytest
from flask import g
from sqlalchemy import select

from app.extensions import db, limiter
from app.models import FaqEntry, Role, StaffUser
from tests.factories import PASSWORD, make_shop


@pytest.fixture(autouse=True)
def _fresh_limits(app):
    limiter.reset()
    yield
    limiter.reset()


def _login(client, role: Role, shop_id: int | None = None) -> StaffUser:
    user = StaffUser(email=f"{role.value}-{shop_id or 'all'}@faq.test", role=role.value, shop_id=shop_id)
    user.set_password(PASSWORD)
    db.session.add(user)
    db.session.commit()
    g.pop("_login_user", None)
    assert client.post("/staff/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    return user


def _post(client, path: str, **data):
    g.pop("_login_user", None)  # the test's app context outlives requests; Flask-Login caches the user in g
    return client.post(path, data=data)


def _get(client, path: str, **params):
    g.pop("_login_user", None)
    return client.get(path, query_string=params)


def _rows() -> list[FaqEntry]:
    db.session.expire_all()
    return list(db.session.scalars(select(FaqEntry).order_by(FaqEntry.id)))


def test_anonymous_visitors_log_in_first(client) -> None:
    response = client.get("/staff/faq")
    assert response.status_code == 302 and "/staff/login" in response.headers["Location"]


def test_viewers_read_but_may_not_change(app, client) -> None:
    shop, _ = make_shop("Fjord Sko")
    _login(client, Role.VIEWER)
    page = _get(client, "/staff/faq", shop=shop.id, topic="customs", language="nb").get_data(as_text=True)
    assert "Hva betyr «toll»?" in page and "Questions and answers of Fjord Sko" in page
    assert 'method="post" action="/staff/faq' not in page and "Hide" not in page
    base = {"shop_id": shop.id, "topic": "customs", "language": "nb"}
    assert _post(client, "/staff/faq", **base, question="Q?", answer="A.", action="save").status_code == 403
    assert _post(client, "/staff/faq/hidden", **base, default_key="what", hidden="1").status_code == 403
    assert _rows() == []


def test_an_agent_previews_saves_hides_and_restores(app, client) -> None:
    shop, _ = make_shop("Fjord Sko")
    agent = _login(client, Role.AGENT)
    base = {"shop_id": shop.id, "topic": "failed_attempt", "language": "en"}
    answer = "Call <b>us</b>.\n\nOr see https://help.example/parcels."
    preview = _post(client, "/staff/faq", **base, question="Can I call?", answer=answer, action="preview")
    assert preview.status_code == 200
    html = preview.get_data(as_text=True)
    assert "<summary>Can I call?</summary>" in html
    assert '<p>Call &lt;b&gt;us&lt;/b&gt;.</p><p>Or see <a href="https://help.example/parcels"' in html
    assert _rows() == []

    saved = _post(
        client, "/staff/faq", **base, question="Can I call?", answer=answer, position="5", action="save"
    )
    assert saved.status_code == 302
    [own] = _rows()
    assert (own.question, own.answer, own.position, own.updated_by) == ("Can I call?", answer, 5, agent.email)
    page = _get(client, "/staff/faq", shop=shop.id, topic="failed_attempt", language="en").get_data(
        as_text=True
    )
    assert page.index("Can I call?") < page.index("When will you try again?")

    edit = _get(client, "/staff/faq", shop=shop.id, topic="failed_attempt", language="en", edit=str(own.id))
    assert "Edit “Can I call?”" in edit.get_data(as_text=True)
    changed = _post(
        client, "/staff/faq", **base, entry_id=own.id, question="May I call?", answer="Yes.", action="save"
    )
    assert changed.status_code == 302 and [(r.question, r.position) for r in _rows()] == [("May I call?", 5)]

    assert _post(client, "/staff/faq/hidden", **base, default_key="why", hidden="1").status_code == 302
    page = _get(client, "/staff/faq", shop=shop.id, topic="failed_attempt", language="en").get_data(
        as_text=True
    )
    assert "Show again" in page and 'class="pill late">hidden' in page
    assert _post(client, "/staff/faq/delete", **base, default_key="why").status_code == 302
    assert _post(client, "/staff/faq/delete", **base, entry_id=own.id).status_code == 302
    assert _rows() == []


def test_admins_edit_too(app, client) -> None:
    shop, _ = make_shop()
    _login(client, Role.ADMIN)
    base = {"shop_id": shop.id, "topic": "customs", "language": "th"}
    response = _post(
        client,
        "/staff/faq",
        **base,
        default_key="pay",
        question="ต้องจ่ายไหม",
        answer="อาจต้องจ่าย",
        action="save",
    )
    assert response.status_code == 302 and [r.default_key for r in _rows()] == ["pay"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"question": "", "answer": "An answer."}, "Write the question."),
        ({"question": "Q?", "answer": "   "}, "Write the answer."),
        ({"question": "Q?", "answer": "A" * 2001}, "Field cannot be longer than 2000 characters."),
        ({"question": "Two\r\nlines?", "answer": "A."}, "The question is one line of plain text."),
        (
            {"question": "Q?", "answer": "A.", "position": "soon"},
            "The order is a whole number from 0 to 999.",
        ),
    ],
)
@pytest.mark.parametrize("action", ["save", "preview"])
def test_bad_input_gets_a_friendly_error_and_nothing_is_written(app, client, fields, message, action) -> None:
    shop, _ = make_shop()
    _login(client, Role.AGENT)
    response = _post(
        client, "/staff/faq", shop_id=shop.id, topic="lost", language="da", action=action, **fields
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page and 'aria-invalid="true"' in page
    assert "Preview, as customers see it" not in page
    assert _rows() == []


def test_unknown_topics_and_keys_are_not_found(app, client) -> None:
    shop, _ = make_shop()
    _login(client, Role.AGENT)
    assert _get(client, "/staff/faq", shop=shop.id, topic="nope").status_code == 404
    assert _get(client, "/staff/faq", shop=shop.id, edit="d:nope").status_code == 404
    base = {"shop_id": shop.id, "topic": "customs", "language": "en"}
    assert _post(client, "/staff/faq/hidden", **base, default_key="nope", hidden="1").status_code == 404
    assert (
        _post(client, "/staff/faq", **{**base, "language": "sv"}, question="Q?", answer="A.").status_code
        == 404
    )
    assert _rows() == []


def test_another_shops_questions_are_out_of_reach(app, client) -> None:
    mine, _ = make_shop("Mine")
    theirs, _ = make_shop("Theirs")
    foreign = FaqEntry(
        shop_id=theirs.id,
        language="en",
        topic="lost",
        question="Secret?",
        answer="Theirs.",
        position=5,
        updated_by="x",
    )
    db.session.add(foreign)
    db.session.commit()
    foreign_id = foreign.id
    _login(client, Role.AGENT, shop_id=mine.id)

    assert _get(client, "/staff/faq", shop=theirs.id).status_code == 404
    page = _get(client, "/staff/faq", topic="lost").get_data(as_text=True)
    assert "Questions and answers of Mine" in page and "Secret?" not in page and "Theirs" not in page
    assert _get(client, "/staff/faq", shop=mine.id, topic="lost", edit=str(foreign_id)).status_code == 404
    theirs_base = {"shop_id": theirs.id, "topic": "lost", "language": "en"}
    assert (
        _post(client, "/staff/faq", **theirs_base, question="Q?", answer="A.", action="save").status_code
        == 404
    )
    assert (
        _post(client, "/staff/faq/hidden", **theirs_base, default_key="what_now", hidden="1").status_code
        == 404
    )
    mine_base = {"shop_id": mine.id, "topic": "lost", "language": "en"}
    edit = _post(
        client, "/staff/faq", **mine_base, entry_id=foreign_id, question="Mine?", answer="A.", action="save"
    )
    assert edit.status_code == 404
    assert _post(client, "/staff/faq/delete", **mine_base, entry_id=foreign_id).status_code == 404
    assert [(r.shop_id, r.question) for r in _rows()] == [(theirs.id, "Secret?")]


def test_changes_need_the_pages_csrf_token(app, client) -> None:
    shop, _ = make_shop()
    _login(client, Role.AGENT)
    app.config["WTF_CSRF_ENABLED"] = True
    base = {"shop_id": shop.id, "topic": "customs", "language": "en", "question": "Q?", "answer": "A."}
    refused = _post(client, "/staff/faq", **base, action="save")
    assert refused.status_code == 400 and "CSRF token" in refused.get_data(as_text=True)
    assert _rows() == []
    page = _get(client, "/staff/faq", shop=shop.id, topic="customs").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert _post(client, "/staff/faq", **base, action="save", csrf_token=token).status_code == 302
    assert [r.question for r in _rows()] == ["Q?"]
