"""Staff administration: accounts and the password policy, API keys, webhooks, shop settings, encrypted
carrier credentials, shops' own message texts and the admins' TOTP second factor."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from cryptography.fernet import Fernet
from flask import g
from sqlalchemy import func, select

from app.admin.credentials import CredentialsKeyError
from app.extensions import db, limiter
from app.models import (
    ApiKey,
    CarrierCredential,
    MessageTemplate,
    Notification,
    Role,
    StaffUser,
    WebhookEndpoint,
)
from app.notify.enqueue import Change, queue_change
from app.notify.settings import shop_settings
from app.tracking.carrier_clients import carrier_settings
from notifications.model import Trigger
from tests.factories import PASSWORD, make_shipment, make_shop

STRONG = "plum tractor quietly 42"


@pytest.fixture(autouse=True)
def _fresh_limits(app):
    limiter.reset()
    yield
    limiter.reset()


def _staff(email: str, role: Role, shop_id: int | None = None, password: str = PASSWORD) -> StaffUser:
    user = StaffUser(email=email, role=role.value, shop_id=shop_id)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


def _login(client, email: str, password: str = PASSWORD):
    g.pop("_login_user", None)  # the test's app context outlives requests; Flask-Login caches the user in g
    return client.post("/staff/login", data={"email": email, "password": password})


def _as_admin(client, shop_id: int | None = None) -> StaffUser:
    admin = _staff(f"admin-{shop_id or 'all'}@leveranse.test", Role.ADMIN, shop_id)
    assert _login(client, admin.email).status_code == 302
    return admin


def _open(client, method: str, url: str, **kwargs):
    g.pop("_login_user", None)
    return client.open(url, method=method, **kwargs)


# --- accounts --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short one", "at least 12 characters"),
        ("new@leveranse.test", "must not be the email"),
        ("Password1234", "too common"),
        ("aaaaaaaaaaaaaaaa", "too common"),
    ],
)
def test_the_password_policy_refuses_and_stores_nothing(client, password, message) -> None:
    _as_admin(client)
    response = _open(
        client, "POST", "/staff/admin/users", data={"email": "new@leveranse.test", "password": password}
    )
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(StaffUser).where(StaffUser.email == "new@leveranse.test")) is None


def test_an_admin_creates_an_account_that_can_log_in(app, client) -> None:
    shop, _ = make_shop("Fjord Sko")
    _as_admin(client)
    data = {"email": "Kari@Fjord.test", "password": STRONG, "role": "agent", "shop_id": str(shop.id)}
    assert _open(client, "POST", "/staff/admin/users", data=data).status_code == 302
    user = db.session.scalar(select(StaffUser).where(StaffUser.email == "kari@fjord.test"))
    assert (user.role, user.shop_id) == ("agent", shop.id) and STRONG not in user.password_hash
    again = _open(client, "POST", "/staff/admin/users", data=data)
    assert again.status_code == 400 and "exists already" in again.get_data(as_text=True)
    assert _login(app.test_client(), "kari@fjord.test", STRONG).status_code == 302


def test_disable_and_password_reset_end_the_users_sessions(app, client) -> None:
    _as_admin(client)
    agent = _staff("agent@leveranse.test", Role.AGENT)
    theirs = app.test_client()
    assert _login(theirs, agent.email).status_code == 302
    assert _open(theirs, "GET", "/staff/").status_code == 200

    reset = {"user_id": agent.id, "password": STRONG}
    assert _open(client, "POST", "/staff/admin/users/password", data=reset).status_code == 302
    assert _open(theirs, "GET", "/staff/").status_code == 302  # the old session is over
    assert _login(theirs, agent.email, STRONG).status_code == 302

    assert _open(client, "POST", "/staff/admin/users/disable", data={"user_id": agent.id}).status_code == 302
    assert _open(theirs, "GET", "/staff/").status_code == 302
    assert _login(theirs, agent.email, STRONG).status_code == 401  # disabled: no login
    assert _open(client, "POST", "/staff/admin/users/enable", data={"user_id": agent.id}).status_code == 302
    assert _login(theirs, agent.email, STRONG).status_code == 302


def test_role_changes_and_no_admin_locks_themselves_out(client) -> None:
    admin = _as_admin(client)
    viewer = _staff("viewer@leveranse.test", Role.VIEWER)
    assert (
        _open(
            client, "POST", "/staff/admin/users/role", data={"user_id": viewer.id, "role": "agent"}
        ).status_code
        == 302
    )
    assert db.session.get(StaffUser, viewer.id).role == "agent"
    for path, data in (
        ("/staff/admin/users/role", {"user_id": admin.id, "role": "viewer"}),
        ("/staff/admin/users/disable", {"user_id": admin.id}),
    ):
        assert _open(client, "POST", path, data=data).status_code == 400
    db.session.refresh(admin)
    assert (admin.role, admin.disabled_at) == ("admin", None)


def test_a_shop_bound_admin_manages_only_their_shop(app, client) -> None:
    mine, _ = make_shop("Shop A")
    other, _ = make_shop("Shop B")
    _as_admin(client, mine.id)
    foreign = _staff("b-agent@b.test", Role.AGENT, other.id)
    operator = _staff("ops@leveranse.test", Role.ADMIN)
    page = _open(client, "GET", "/staff/admin/users").get_data(as_text=True)
    assert "b-agent@b.test" not in page and "ops@leveranse.test" not in page and "Shop B" not in page
    for user in (foreign, operator):
        response = _open(client, "POST", "/staff/admin/users/disable", data={"user_id": user.id})
        assert response.status_code == 404
    created = {"email": "new@a.test", "password": STRONG, "role": "admin", "shop_id": str(other.id)}
    assert _open(client, "POST", "/staff/admin/users", data=created).status_code == 400
    created["shop_id"] = ""  # no shop given: the admin's own, never "every shop"
    assert _open(client, "POST", "/staff/admin/users", data=created).status_code == 302
    assert db.session.scalar(select(StaffUser.shop_id).where(StaffUser.email == "new@a.test")) == mine.id
    assert _open(client, "GET", f"/staff/admin/shop?shop={other.id}").status_code == 404
    assert _open(client, "GET", "/staff/admin/carriers").status_code == 403


# --- API keys and webhooks -------------------------------------------------------------------------------


def test_an_api_key_is_shown_once_stored_hashed_stamped_and_revoked(app, client) -> None:
    shop, _ = make_shop("Fjord Sko")
    _as_admin(client)
    created = _open(client, "POST", "/staff/admin/api-keys", data={"shop_id": shop.id, "label": "webshop"})
    assert created.status_code == 201 and created.headers["Cache-Control"] == "no-store"
    plain = re.search(r'<code id="new-key">(lv_[^<]+)</code>', created.get_data(as_text=True)).group(1)
    key = db.session.scalar(select(ApiKey).where(ApiKey.name == "webshop"))
    assert key.key_hash == ApiKey.hash_key(plain)
    assert plain not in _open(client, "GET", f"/staff/admin/shop?shop={shop.id}").get_data(as_text=True)

    api = app.test_client()
    assert api.get("/api/v1/shipments", headers={"Authorization": f"Bearer {plain}"}).status_code == 200
    db.session.refresh(key)
    first_use = key.last_used_at
    assert first_use is not None
    assert api.get("/api/v1/shipments", headers={"Authorization": f"Bearer {plain}"}).status_code == 200
    db.session.refresh(key)
    assert key.last_used_at == first_use  # at most one write a minute

    assert _open(client, "POST", "/staff/admin/api-keys/revoke", data={"key_id": key.id}).status_code == 302
    assert api.get("/api/v1/shipments", headers={"Authorization": f"Bearer {plain}"}).status_code == 401


def test_webhook_urls_pass_the_destination_guard_and_secrets_show_once(app, client) -> None:
    shop, _ = make_shop("Fjord Sko")
    _as_admin(client)
    app.config["WEBHOOKS_ALLOW_PRIVATE"] = False
    for url in ("http://127.0.0.1:8080/hook", "http://169.254.169.254/latest", "ftp://example.com/x"):
        refused = _open(client, "POST", "/staff/admin/webhooks", data={"shop_id": shop.id, "url": url})
        assert refused.status_code == 400, url
        assert "cannot receive webhooks" in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(WebhookEndpoint)) == 0

    app.config["WEBHOOKS_ALLOW_PRIVATE"] = True
    data = {"shop_id": shop.id, "url": "http://127.0.0.1:8080/hook", "description": "ERP"}
    created = _open(client, "POST", "/staff/admin/webhooks", data=data)
    assert created.status_code == 201
    secret = re.search(r'<code id="new-secret">(whsec_[^<]+)</code>', created.get_data(as_text=True)).group(1)
    endpoint = db.session.scalar(select(WebhookEndpoint))
    assert endpoint.secret == secret
    assert secret not in _open(client, "GET", f"/staff/admin/shop?shop={shop.id}").get_data(as_text=True)
    off = {"endpoint_id": endpoint.id, "enabled": "0"}
    assert _open(client, "POST", "/staff/admin/webhooks/enabled", data=off).status_code == 302
    db.session.refresh(endpoint)
    assert not endpoint.enabled and "admin-all@leveranse.test" in endpoint.disabled_reason
    on = {"endpoint_id": endpoint.id, "enabled": "1"}
    assert _open(client, "POST", "/staff/admin/webhooks/enabled", data=on).status_code == 302
    db.session.refresh(endpoint)
    assert endpoint.enabled and endpoint.disabled_reason is None


# --- shop settings ---------------------------------------------------------------------------------------


def _settings(shop_id: int, **changes) -> dict:
    return {
        "shop_id": shop_id,
        "name": "Fjord Sko AS",
        "default_language": "nb",
        "default_timezone": "Europe/Oslo",
        "claims_email": "claims@fjord.test",
        "survey_url": "https://fjord.test/survey",
        "survey_delay_hours": "12",
        "sender_name": "Fjord Sko AS",
        "sender_country": "no",
        **changes,
    }


def test_shop_settings_are_checked_then_saved(client) -> None:
    shop, _ = make_shop("Fjord Sko")
    _as_admin(client)
    bad = _open(
        client, "POST", "/staff/admin/shop/settings", data=_settings(shop.id, default_timezone="Mars/Base")
    )
    assert bad.status_code == 400 and "Unknown time zone" in bad.get_data(as_text=True)
    db.session.refresh(shop)
    assert shop.name == "Fjord Sko"
    assert _open(client, "POST", "/staff/admin/shop/settings", data=_settings(shop.id)).status_code == 302
    db.session.refresh(shop)
    assert (shop.name, shop.default_language, shop.claims_email) == (
        "Fjord Sko AS",
        "nb",
        "claims@fjord.test",
    )
    assert shop.sender_address["country"] == "NO"
    settings = shop_settings(shop.id)
    assert (settings.survey_url, settings.survey_delay_hours) == ("https://fjord.test/survey", 12)


# --- carrier credentials ---------------------------------------------------------------------------------


def test_carrier_credentials_need_the_key_and_are_stored_encrypted(app, client) -> None:
    _as_admin(client)
    app.config["CREDENTIALS_KEY"] = ""
    data = {"carrier": "ups", "client_id": "ups-id", "client_secret": "ups-very-secret"}
    refused = _open(client, "POST", "/staff/admin/carriers", data=data)
    assert refused.status_code == 400 and "LEVERANSE_CREDENTIALS_KEY is not set" in refused.get_data(
        as_text=True
    )
    assert db.session.get(CarrierCredential, "ups") is None

    app.config["CREDENTIALS_KEY"] = Fernet.generate_key().decode()
    app.config["CARRIER_MODE"] = "live"
    app.config["CARRIERS"] = {
        **app.config["CARRIERS"],
        "ups": {"client_id": "env-id", "client_secret": "env"},
    }
    assert carrier_settings(app, "ups").credentials == {"client_id": "env-id", "client_secret": "env"}
    assert _open(client, "POST", "/staff/admin/carriers", data=data).status_code == 302
    row = db.session.get(CarrierCredential, "ups")
    assert "ups-very-secret" not in row.ciphertext and "ups-id" not in row.ciphertext
    assert carrier_settings(app, "ups").credentials == {
        "client_id": "ups-id",
        "client_secret": "ups-very-secret",
    }
    page = _open(client, "GET", "/staff/admin/carriers").get_data(as_text=True)
    assert "ups-very-secret" not in page and "database" in page

    app.config["CREDENTIALS_KEY"] = ""
    with pytest.raises(CredentialsKeyError, match="LEVERANSE_CREDENTIALS_KEY is not set"):
        carrier_settings(app, "ups")
    app.config["CREDENTIALS_KEY"] = Fernet.generate_key().decode()
    with pytest.raises(CredentialsKeyError, match="do not decrypt"):
        carrier_settings(app, "ups")

    assert _open(client, "POST", "/staff/admin/carriers/clear", data={"carrier": "ups"}).status_code == 302
    assert carrier_settings(app, "ups").credentials == {"client_id": "env-id", "client_secret": "env"}


# --- message texts ---------------------------------------------------------------------------------------

OWN_SHIPPED = """{% set subject %}{{ shop_name }} har sendt pakken din{% endset %}
{% set body %}Hei{% if customer_name %} {{ customer_name }}{% endif %}! Pakken {{ tracking_number }} er på vei.{% endset %}
{% set sms %}{{ shop_name }}: pakken er på vei:{% endset %}"""


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("{% set subject %}Hi{% endset %", "line 1"),
        ("{% set subject %}{{ ''.__class__ }}{% endset %}", "unsafe"),
        ("{% set subject %}{{ no_such_value }}{% endset %}", "is undefined"),
        ("{% set subject %}Hi{% endset %}{% set body %}Text{% endset %}", "must set sms"),
        # fine with every detail, but a shipped parcel need not have been delivered: refused too
        (
            "{% set subject %}{{ delivered_at|time }}{% endset %}{% set body %}x{% endset %}{% set sms %}x{% endset %}",
            "needs a datetime",
        ),
    ],
)
def test_an_invalid_template_gets_a_friendly_error_and_nothing_is_stored(client, source, reason) -> None:
    shop, _ = make_shop("Fjord Sko")
    _as_admin(client)
    data = {"shop_id": shop.id, "trigger": "shipped", "language": "nb", "source": source, "action": "save"}
    response = _open(client, "POST", "/staff/admin/templates", data=data)
    text = response.get_data(as_text=True)
    assert response.status_code == 400 and "The template cannot be used" in text and reason in text
    assert db.session.scalar(select(func.count()).select_from(MessageTemplate)) == 0


def test_a_shops_own_text_is_previewed_saved_and_sent_instead_of_the_file(client) -> None:
    shop, _ = make_shop("Fjord Sko")
    _as_admin(client)
    data = {"shop_id": shop.id, "trigger": "shipped", "language": "nb", "source": OWN_SHIPPED}
    preview = _open(client, "POST", "/staff/admin/templates", data={**data, "action": "preview"})
    assert preview.status_code == 200
    assert "Fjord Sko har sendt pakken din" in preview.get_data(as_text=True)
    assert (
        db.session.scalar(select(func.count()).select_from(MessageTemplate)) == 0
    )  # a preview stores nothing

    assert _open(client, "POST", "/staff/admin/templates", data={**data, "action": "save"}).status_code == 302
    norwegian = make_shipment(
        shop, tracking_number="NO1", customer_email="kari@example.no", customer_language="nb"
    )
    english = make_shipment(
        shop, tracking_number="EN1", customer_email="ann@example.com", customer_language="en"
    )
    for shipment in (norwegian, english):
        queue_change(shipment, Change(Trigger.SHIPPED, "1", {}))
    db.session.commit()
    subjects = dict(db.session.execute(select(Notification.shipment_id, Notification.subject)).all())
    assert subjects[norwegian.id] == "Fjord Sko har sendt pakken din"
    assert subjects[english.id] == "Your order from Fjord Sko is on its way"  # no English text of its own

    revert = {**data, "action": "revert"}
    assert _open(client, "POST", "/staff/admin/templates", data=revert).status_code == 302
    assert db.session.scalar(select(func.count()).select_from(MessageTemplate)) == 0


# --- TOTP ------------------------------------------------------------------------------------------------


def test_an_admin_turns_on_totp_and_login_then_needs_a_fresh_code(app, client) -> None:
    admin = _as_admin(client)
    started = _open(client, "POST", "/staff/admin/account/totp/start")
    page = started.get_data(as_text=True)
    secret = re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>', page).group(1)
    assert "otpauth://totp/Leveranse:admin-all%40leveranse.test?secret=" in page
    assert started.headers["Cache-Control"] == "no-store"
    totp = pyotp.TOTP(secret)
    assert (
        _open(client, "POST", "/staff/admin/account/totp/confirm", data={"code": "000000"}).status_code == 302
    )
    db.session.refresh(admin)
    assert admin.totp_enabled_at is None  # a wrong code does not turn it on
    confirmed = _open(client, "POST", "/staff/admin/account/totp/confirm", data={"code": totp.now()})
    assert confirmed.status_code == 302
    db.session.refresh(admin)
    assert admin.totp_enabled_at is not None

    fresh = app.test_client()
    step = _login(fresh, admin.email)
    assert step.status_code == 302 and step.headers["Location"].endswith("/staff/login/code")
    assert _open(fresh, "GET", "/staff/").status_code == 302  # not logged in yet
    assert _open(fresh, "POST", "/staff/login/code", data={"code": "123456"}).status_code == 401
    used = totp.now()  # the code that confirmed the enrolment, or the next one: used up either way
    admin.totp_last_step = int(time.time() // 30)
    db.session.commit()
    assert _open(fresh, "POST", "/staff/login/code", data={"code": used}).status_code == 401
    admin.totp_last_step -= 2
    db.session.commit()
    assert _open(fresh, "POST", "/staff/login/code", data={"code": totp.now()}).status_code == 302
    assert _open(fresh, "GET", "/staff/").status_code == 200

    without = app.test_client()
    assert _open(without, "POST", "/staff/login/code", data={"code": totp.now()}).status_code == 302
    assert _open(without, "GET", "/staff/").status_code == 302  # no code step without the password step
