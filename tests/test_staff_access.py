"""Every /staff URL, taken from the app's URL map with all its methods, is held to the role its view
declares (`staff_required(Role.…)` records it as `required_role`; `staff_auth.public` declares none):
anonymous visitors go to the login page, too low a role gets 403, a high enough one gets through, and
every POST without a CSRF token is refused. Pages added later are covered without touching this test."""

from __future__ import annotations

import re

import pytest
from flask import g

from app.extensions import db, limiter
from app.models import Role, StaffUser
from tests.factories import PASSWORD

UNDECLARED = object()
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
# Ending one's own session is the one action every signed-in user may take.
VIEWER_ACTIONS = {"staff_auth.logout"}


def _staff_rules(app) -> list:
    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/staff")]
    # logout last: it ends the session the other visits use
    return sorted(rules, key=lambda r: (r.endpoint in VIEWER_ACTIONS, r.rule))


def _methods(rule) -> list[str]:
    return sorted(rule.methods - {"HEAD", "OPTIONS"})


def _declared(app, rule) -> Role | None:
    role = getattr(app.view_functions[rule.endpoint], "required_role", UNDECLARED)
    assert role is not UNDECLARED, (
        f"{rule.rule} ({rule.endpoint}) declares no role: decorate its view with "
        "@staff_required(Role.VIEWER / AGENT / ADMIN) or, for a login step, @public (app/web/staff_auth.py)"
    )
    return role


def _path(rule) -> str:
    """The rule with made-up values: permission is checked before anything is looked up."""
    path = re.sub(r"<int:[^>]+>", "999999", rule.rule)
    return re.sub(r"<[^>]+>", "x", path)


def _login(client, role: Role) -> None:
    email = f"{role.value}@access.test"
    user = StaffUser(email=email, role=role.value)
    user.set_password(PASSWORD)
    db.session.add(user)
    db.session.commit()
    g.pop("_login_user", None)
    assert client.post("/staff/login", data={"email": email, "password": PASSWORD}).status_code == 302


def _visit(client, method: str, path: str):
    g.pop("_login_user", None)  # the test's app context outlives requests; Flask-Login caches the user in g
    return client.open(path, method=method, data={})


def _to_login(response) -> bool:
    return response.status_code == 302 and "/staff/login" in response.headers["Location"]


@pytest.fixture(autouse=True)
def _fresh_limits(app):
    limiter.reset()
    yield
    limiter.reset()


def test_every_staff_url_declares_its_role(app) -> None:
    rules = _staff_rules(app)
    assert len(rules) > 10
    for rule in rules:
        _declared(app, rule)


def test_no_viewer_may_change_anything(app) -> None:
    for rule in _staff_rules(app):
        role = _declared(app, rule)
        if set(_methods(rule)) & STATE_CHANGING and role is Role.VIEWER:
            assert rule.endpoint in VIEWER_ACTIONS, (
                f"{rule.rule} ({rule.endpoint}) changes things but lets viewers in: "
                "declare @staff_required(Role.AGENT) (or ADMIN)"
            )


def test_anonymous_visitors_are_sent_to_the_login_page(app, client) -> None:
    for rule in _staff_rules(app):
        if _declared(app, rule) is None:
            continue
        for method in _methods(rule):
            response = _visit(client, method, _path(rule))
            allowed = _to_login(response) or (method != "GET" and response.status_code in (401, 403))
            assert allowed, f"anonymous {method} {rule.rule} → {response.status_code}"


@pytest.mark.parametrize("role", list(Role))
def test_each_role_gets_exactly_what_the_views_declare(app, client, role) -> None:
    _login(client, role)
    for rule in _staff_rules(app):
        needed = _declared(app, rule)
        if needed is None:
            continue
        for method in _methods(rule):
            response = _visit(client, method, _path(rule))
            where = f"{role.value} {method} {rule.rule} (needs {needed.value}) → {response.status_code}"
            assert response.status_code < 500, where
            if rule.endpoint == "staff_auth.logout":  # it works when it ends the session
                assert _to_login(response) and _to_login(_visit(client, "GET", "/staff/")), where
            elif StaffUser(role=role.value).has_role(needed):
                assert response.status_code not in (401, 403) and not _to_login(response), where
            else:
                assert response.status_code == 403, where


def test_every_post_without_a_csrf_token_is_refused(app, client) -> None:
    _login(client, Role.ADMIN)
    app.config["WTF_CSRF_ENABLED"] = True
    posts = [rule for rule in _staff_rules(app) if set(_methods(rule)) & STATE_CHANGING]
    assert posts
    for rule in posts:
        for method in set(_methods(rule)) & STATE_CHANGING:
            response = _visit(client, method, _path(rule))
            assert response.status_code == 400, f"{method} {rule.rule} without a CSRF token"
            assert "CSRF token" in response.get_data(as_text=True), f"{method} {rule.rule}"
    g.pop("_login_user", None)
    assert client.get("/staff/").status_code == 200  # not even logout went through
