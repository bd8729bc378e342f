"""An admin manages a shop's API key in a real headless Chromium without JavaScript, with CSRF on: the key
is shown once, works against the shop API, and stops working when revoked."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from app import create_app
from app.config import TestConfig
from app.extensions import db
from app.models import Role
from tests.browser import serve
from tests.factories import PASSWORD, make_shop, make_staff

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("Debian's chromium is not installed at /usr/bin/chromium", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The app on an ephemeral port with one shop and an admin: (base URL, shop id)."""
    database = tmp_path_factory.mktemp("browser-admin") / "browser.db"
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{database}", WTF_CSRF_ENABLED=True)
    with app.app_context():
        db.create_all()
        shop, _ = make_shop("Fjord Sko")
        make_staff("admin@shop.test", Role.ADMIN)
        shop_id = shop.id
        db.session.remove()
    with serve(app) as base:
        yield base, shop_id


@pytest.fixture(scope="module")
def page():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = chromium.new_context(java_script_enabled=False, locale="en-GB")
        context.set_default_timeout(5000)
        yield context.new_page()
        context.close()
        chromium.close()


def _shipments(base: str, key: str) -> int:
    response = requests.get(
        f"{base}/api/v1/shipments", headers={"Authorization": f"Bearer {key}"}, timeout=10
    )
    return response.status_code


def test_an_admin_creates_uses_and_revokes_an_api_key(page, site) -> None:
    base, shop_id = site
    page.goto(f"{base}/staff/login")
    page.fill("input[name=email]", "admin@shop.test")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.click("nav >> text=Admin")
    page.click("#shops-heading ~ table >> text=Fjord Sko")
    assert page.inner_text("h1") == "Fjord Sko"

    page.fill("#label", "webshop production")
    page.click("text=Create API key")
    key = page.inner_text("#new-key")
    assert key.startswith("lv_")
    assert "shown only this once" in page.inner_text("#new-key-card")
    assert _shipments(base, key) == 200

    page.goto(f"{base}/staff/admin/shop?shop={shop_id}")
    assert page.locator("#new-key").count() == 0
    assert key not in page.content()
    row = page.locator("#api-keys tr[data-label='webshop production']")
    assert row.locator(".last-used").inner_text() != "–"  # the call above was recorded

    row.locator("text=Revoke").click()
    assert "Key “webshop production” revoked." in page.inner_text(".flash")
    assert "revoked" in page.locator("#api-keys tr[data-label='webshop production']").inner_text()
    assert _shipments(base, key) == 401
