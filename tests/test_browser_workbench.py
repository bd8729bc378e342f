"""The staff workbench in a real headless Chromium (Debian's), without JavaScript and with CSRF on: filter the
queue, snooze one shipment, tell two customers at once (preview, then send)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from app import create_app
from app.config import TestConfig
from app.extensions import db, limiter
from app.models import Notification, ShipmentTriage
from app.models.staff import Role
from app.models.types import utcnow
from tests.browser import serve
from tests.factories import PASSWORD, make_shipment, make_shop, make_staff

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("Debian's chromium is not installed at /usr/bin/chromium", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The app on an ephemeral port with four at-risk parcels (three by PostNord) and an agent."""
    database = tmp_path_factory.mktemp("workbench") / "workbench.db"
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{database}", WTF_CSRF_ENABLED=True)
    now = utcnow()
    with app.app_context():
        db.create_all()
        shop, _ = make_shop("Fjord Sko")
        for number, carrier, value in (
            ("PN1", "postnord", "3000"),
            ("PN2", "postnord", "2000"),
            ("PN3", "postnord", "1000"),
            ("BR1", "bring", "5000"),
        ):
            make_shipment(
                shop,
                carrier=carrier,
                tracking_number=number,
                status="in_transit",
                risk_state="at_risk",
                p_late=0.8,
                declared_value=Decimal(value),
                currency="NOK",
                customer_email=f"{number.lower()}@kunde.example",
                customer_language="nb",
                customer_timezone="Europe/Oslo",
                eta_p10=now + timedelta(days=2),
                eta_p50=now + timedelta(days=3),
                eta_p90=now + timedelta(days=4),
                promised_date=(now + timedelta(days=1)).date(),
            )
        make_staff("agent@shop.test", Role.AGENT)
        db.session.remove()
    with serve(app) as base:
        yield app, base


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


def test_filter_snooze_one_and_tell_two_customers(browser, site) -> None:
    app, base = site
    limiter.reset()
    context = browser.new_context(java_script_enabled=False, locale="en-GB")
    context.set_default_timeout(5000)
    page = context.new_page()
    try:
        page.goto(f"{base}/staff/")
        page.fill("#email", "agent@shop.test")
        page.fill("#password", PASSWORD)
        page.click("button:has-text('Log in')")
        assert page.inner_text("h1") == "At-risk shipments"

        page.select_option("select[name=carrier]", "postnord")
        page.click("#queue-filters button")
        assert "carrier=postnord" in page.url
        table = page.inner_text("table")
        assert all(n in table for n in ("PN1", "PN2", "PN3")) and "BR1" not in table

        page.check("input[aria-label='Select PN3']")
        page.select_option("select[name=action]", "snooze")
        page.fill("input[name=until]", (utcnow() + timedelta(days=3)).date().isoformat())
        page.click("#bulk button:has-text('Apply')")
        assert "Snoozed 1 shipment until" in page.inner_text("[role=alert]")
        assert "carrier=postnord" in page.url  # back to the same filtered queue
        assert "PN3" not in page.inner_text("table")

        page.check("input[aria-label='Select PN1']")
        page.check("input[aria-label='Select PN2']")
        page.select_option("select[name=action]", "notify")
        page.select_option("select[name=trigger]", "predicted_delay")
        page.click("#bulk button:has-text('Apply')")
        assert page.inner_text("h1") == "Tell 2 customers: Running late (new estimate)"
        assert page.locator("section.preview").count() == 2
        page.click("button:has-text('Send 2 messages now')")
        assert "2 messages queued for 2 shipments." in page.inner_text("[role=alert]")
    finally:
        context.close()
    with app.app_context():
        rows = db.session.execute(select(Notification.recipient, Notification.language)).all()
        assert sorted(rows) == [("pn1@kunde.example", "nb"), ("pn2@kunde.example", "nb")]
        assert db.session.scalar(select(ShipmentTriage.snoozed_until)) > utcnow()
        db.session.remove()
