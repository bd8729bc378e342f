"""Staff pages need a login with a hashed password; the dashboard lists at-risk shipments by cost."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from flask import g

from app.extensions import db, limiter
from app.models.types import utcnow
from app.web import staff_auth
from tests.factories import PASSWORD, make_shipment, make_shop, make_staff


def test_password_is_stored_hashed(app) -> None:
    user = make_staff()
    assert PASSWORD not in user.password_hash
    assert user.check_password(PASSWORD)
    assert not user.check_password("wrong")


def test_dashboard_redirects_to_login_then_shows_the_queue(client) -> None:
    response = client.get("/staff/")
    assert response.status_code == 302
    assert "/staff/login" in response.headers["Location"]

    make_staff()
    wrong = client.post("/staff/login", data={"email": "ops@shop.test", "password": "nope"})
    assert wrong.status_code == 401
    assert b"Wrong email or password" in wrong.data

    shop, _ = make_shop()
    make_shipment(
        shop, tracking_number="CHEAP", risk_state="at_risk", p_late=0.9, declared_value=Decimal("10")
    )
    make_shipment(shop, tracking_number="DEAR", risk_state="late", p_late=0.5, declared_value=Decimal("5000"))
    make_shipment(
        shop, tracking_number="FINE", risk_state="on_track", p_late=0.1, declared_value=Decimal("9000")
    )
    ok = client.post("/staff/login?next=/staff/", data={"email": "OPS@shop.test", "password": PASSWORD})
    assert ok.status_code == 302
    page = client.get("/staff/").get_data(as_text=True)
    assert page.index("DEAR") < page.index("CHEAP")
    assert "FINE" not in page


def test_open_redirects_are_refused(client) -> None:
    make_staff()
    response = client.post(
        "/staff/login?next=https://evil.example/", data={"email": "ops@shop.test", "password": PASSWORD}
    )
    assert response.headers["Location"] == "/staff/"


@pytest.fixture
def fresh_limits(app):
    limiter.reset()  # the per-IP login limit (10 a minute) is not what these tests are about
    yield
    limiter.reset()


def _login(client, password: str = PASSWORD):
    return client.post("/staff/login", data={"email": "ops@shop.test", "password": password})


def test_a_session_cookie_copied_before_logout_stops_working(app, fresh_limits) -> None:
    make_staff()
    mine, thief = app.test_client(), app.test_client()
    assert _login(mine).status_code == 302
    thief.set_cookie("session", mine.get_cookie("session").value)
    assert thief.get("/staff/").status_code == 200
    mine.post("/staff/logout")
    assert thief.get("/staff/").status_code == 302  # back to the login page


def test_a_new_password_ends_existing_sessions(app, client, fresh_limits) -> None:
    user = make_staff()
    assert _login(client).status_code == 302
    user.set_password("another long password")
    db.session.commit()
    g.pop("_login_user", None)  # the test's app context outlives requests; Flask-Login caches the user in g
    assert client.get("/staff/").status_code == 302


def test_five_wrong_passwords_lock_the_account_for_a_while(app, client, fresh_limits) -> None:
    user = make_staff()
    for _ in range(5):
        assert _login(client, "wrong").status_code == 401
    assert _login(client).status_code == 401  # the right password, but locked
    db.session.refresh(user)
    assert user.locked_until is not None
    user.locked_until = utcnow() - timedelta(seconds=1)  # the 15 minutes are over
    db.session.commit()
    assert _login(client).status_code == 302


def test_an_unknown_email_costs_a_password_check_too(app, client, fresh_limits, monkeypatch) -> None:
    checked = []
    real = staff_auth.check_password_hash
    monkeypatch.setattr(staff_auth, "check_password_hash", lambda *a: checked.append(1) or real(*a))
    response = client.post("/staff/login", data={"email": "nobody@shop.test", "password": "x"})
    assert response.status_code == 401 and checked == [1]
