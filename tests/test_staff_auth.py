"""Staff pages need a login with a hashed password; the dashboard lists at-risk shipments by cost."""

from __future__ import annotations

from decimal import Decimal

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
