"""The survey and "Contact us" in a real headless Chromium without JavaScript, with CSRF on."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app import create_app
from app.config import TestConfig
from app.extensions import db, limiter
from app.models import Role, SupportCase, SurveyResponse
from app.models.types import utcnow
from app.notify.links import survey_token
from tests.browser import serve
from tests.factories import PASSWORD, make_shipment, make_shop, make_staff

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("Debian's chromium is not installed at /usr/bin/chromium", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The app on an ephemeral port with one delivered parcel and an agent: (app, base URL, data)."""
    database = tmp_path_factory.mktemp("browser-care") / "browser.db"
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{database}", WTF_CSRF_ENABLED=True)
    with app.app_context():
        db.create_all()
        shop, _ = make_shop("Fjord Sko")
        shipment = make_shipment(
            shop,
            tracking_number="TRACK123NO",
            status="delivered",
            delivered_at=utcnow() - timedelta(hours=30),
            customer_name="Kari Nordmann",
            customer_email="kari@example.no",
            customer_language="en",
            customer_timezone="Europe/Oslo",
            destination_postcode="0150",
            destination_country="NO",
        )
        make_staff("agent@shop.test", Role.AGENT)
        data = {
            "shipment_id": shipment.id,
            "link": shipment.link_token,
            "survey": survey_token(app.config, shipment.id),
        }
        db.session.remove()
    with serve(app) as base:
        yield app, base, data


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser):
    """Fresh browser contexts (own cookies) without JavaScript."""
    contexts = []

    def make():
        context = browser.new_context(java_script_enabled=False, locale="en-GB")
        context.set_default_timeout(5000)
        contexts.append(context)
        return context.new_page()

    limiter.reset()
    yield make
    for context in contexts:
        context.close()


def test_survey_in_the_browser(new_page, site) -> None:
    app, base, data = site
    page = new_page()
    page.goto(f"{base}/survey/{data['survey']}")
    assert page.inner_text("h1") == "How did your delivery go?"
    page.click("text=Send answers")  # nothing chosen: the form comes back with errors
    assert page.inner_text("#csat-error") == "Please choose one of the numbers."
    page.check("input[name=csat][value='5']")
    page.check("input[name=nps][value='10']")
    page.check("input[name=ces][value='6']")
    page.fill("#comment", "Smooth, thanks")
    page.click("text=Send answers")
    assert page.inner_text(".flash") == "Thank you for your answers!"
    page.goto(f"{base}/survey/{data['survey']}?lang=da")
    assert page.inner_text("h1") == "Tak"
    with app.app_context():
        answers = db.session.execute(
            select(SurveyResponse.csat, SurveyResponse.nps, SurveyResponse.ces)
        ).all()
        assert [tuple(a) for a in answers] == [(5, 10, 6)]


def test_contact_and_reply_in_the_browser(new_page, site) -> None:
    app, base, data = site
    customer = new_page()
    customer.goto(f"{base}/t/{data['link']}")
    assert customer.locator("#contact").count() == 0  # not before the postcode
    customer.fill("#postcode", "0150")
    customer.click("text=Show details")
    customer.fill("#message", "Where exactly was it left?")
    customer.check("input[name=reply_channel][value='email']")
    customer.click("text=Send message")
    assert customer.inner_text(".flash") == "Thank you. We have your message and will answer you soon."
    assert "Where exactly was it left?" in customer.inner_text("#contact")

    staff = new_page()
    staff.goto(f"{base}/staff/login")
    staff.fill("input[name=email]", "agent@shop.test")
    staff.fill("input[name=password]", PASSWORD)
    staff.click("button[type=submit]")
    staff.goto(f"{base}/staff/cases")
    staff.click("#cases a")
    staff.fill("#body", "In your mailbox, behind the blue door.")
    staff.click("text=Send reply")
    assert "Reply queued by email to kari@example.no." in staff.inner_text(".flash")

    customer.reload()
    conversation = customer.inner_text("#contact")
    assert conversation.index("Where exactly was it left?") < conversation.index("behind the blue door")
    assert "We have answered." in conversation
    with app.app_context():
        assert db.session.scalar(select(SupportCase.status)) == "answered"
