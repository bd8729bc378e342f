"""Staff TOTP secrets are stored encrypted with the carrier credentials' key; login with a code still works,
and without the key a secret is neither stored nor read."""

from __future__ import annotations

import re

import pyotp
from cryptography.fernet import Fernet
from flask import g

from app.admin import totp
from app.admin.encryption import decrypt, is_encrypted
from app.extensions import db
from app.models import Role, StaffUser
from tests.factories import PASSWORD, make_staff


def _open(client, method: str, url: str, **kwargs):
    g.pop("_login_user", None)  # the test's app context outlives requests; Flask-Login caches the user in g
    return client.open(url, method=method, **kwargs)


def _login(client, email: str):
    return _open(client, "POST", "/staff/login", data={"email": email, "password": PASSWORD})


def _enrol(client) -> str:
    page = _open(client, "POST", "/staff/admin/account/totp/start").get_data(as_text=True)
    found = re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>', page)
    assert found, page
    return found.group(1)


def test_the_stored_secret_is_encrypted_and_login_with_a_code_works(app, client) -> None:
    admin = make_staff("admin@leveranse.test", Role.ADMIN)
    assert _login(client, admin.email).status_code == 302
    secret = _enrol(client)
    db.session.refresh(admin)
    assert admin.totp_secret != secret and secret not in admin.totp_secret
    assert is_encrypted(admin.totp_secret)
    assert decrypt(admin.totp_secret, app.config["CREDENTIALS_KEY"], "TOTP secret") == secret
    code = pyotp.TOTP(secret).now()
    assert _open(client, "POST", "/staff/admin/account/totp/confirm", data={"code": code}).status_code == 302
    db.session.refresh(admin)
    assert totp.required(admin)

    fresh = app.test_client()
    step = _login(fresh, admin.email)
    assert step.headers["Location"].endswith("/staff/login/code")
    admin.totp_last_step -= 2  # the code that confirmed the enrolment is used up; allow the next one
    db.session.commit()
    assert _open(fresh, "POST", "/staff/login/code", data={"code": code}).status_code == 302
    assert _open(fresh, "GET", "/staff/").status_code == 200


def test_without_the_key_no_secret_is_stored_and_another_key_reads_none(app, client) -> None:
    admin = make_staff("admin@leveranse.test", Role.ADMIN)
    assert _login(client, admin.email).status_code == 302
    app.config["CREDENTIALS_KEY"] = ""
    refused = _open(client, "POST", "/staff/admin/account/totp/start", follow_redirects=True)
    assert "LEVERANSE_CREDENTIALS_KEY is not set" in refused.get_data(as_text=True)
    assert db.session.get(StaffUser, admin.id).totp_secret is None

    app.config["CREDENTIALS_KEY"] = Fernet.generate_key().decode()
    secret = _enrol(client)
    user = db.session.get(StaffUser, admin.id)
    app.config["CREDENTIALS_KEY"] = Fernet.generate_key().decode()
    assert not totp.check_code(user, pyotp.TOTP(secret).now())  # a changed key: no code is right
