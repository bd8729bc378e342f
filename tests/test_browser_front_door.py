"""The front door and the API documentation in a real headless Chromium (Debian's), against the app on a
loopback port with CSRF on and the real content security policy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from app import create_app
from app.config import TestConfig
from app.extensions import db, limiter
from app.models.types import utcnow
from tests.browser import serve
from tests.factories import make_shipment, make_shop

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("Debian's chromium is not installed at /usr/bin/chromium", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
OSLO = ZoneInfo("Europe/Oslo")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The app on an ephemeral port with one parcel due the day after tomorrow: (base URL, parcel id)."""
    database = tmp_path_factory.mktemp("front") / "front.db"
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{database}", WTF_CSRF_ENABLED=True)
    with app.app_context():
        db.create_all()
        shop, _ = make_shop("Fjord Sko")
        day = utcnow().astimezone(OSLO).date() + timedelta(days=2)
        morning = datetime.combine(day, datetime.min.time(), OSLO) + timedelta(hours=9)
        shipment = make_shipment(
            shop,
            tracking_number="TRACK123NO",
            status="in_transit",
            customer_name="Kari Nordmann",
            customer_timezone="Europe/Oslo",
            destination_postcode="0150",
            destination_country="NO",
            eta_p10=morning.astimezone(UTC),
            eta_p50=(morning + timedelta(hours=3)).astimezone(UTC),
            eta_p90=(morning + timedelta(hours=6)).astimezone(UTC),
            p_lost=0.0,
        )
        shipment_id = shipment.id
        db.session.remove()
    with serve(app) as base:
        yield base, shipment_id


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


def _context(browser, **options):
    limiter.reset()
    context = browser.new_context(**options)
    context.set_default_timeout(10000)
    return context


def test_front_door_track_and_see_the_details(browser, site) -> None:
    base, _ = site
    context = _context(browser, java_script_enabled=False, locale="nb-NO")
    try:
        page = context.new_page()
        page.goto(f"{base}/")
        assert page.get_attribute("html", "lang") == "nb"
        assert page.inner_text("h1") == "Spor pakken din"
        assert page.get_attribute("a:has-text('Innlogging for ansatte')", "href") == "/staff/login"
        page.set_viewport_size({"width": 390, "height": 900})
        page.screenshot(path="/tmp/front_door_nb.png", full_page=True)

        page.get_by_label("Sporingsnummer").fill("TRACK123NO")
        page.get_by_label("Postnummer for levering").fill("0150")
        page.click("button:has-text('Finn pakken')")
        assert "/t/" in page.url
        assert page.inner_text("h1") == "Pakken din er på vei"
        assert page.inner_text(".eta").startswith("Pakken din kommer nesten helt sikkert ")
        assert "Kari Nordmann" in page.inner_text(".details")  # the lookup proved the postcode

        # the questions that fit a parcel on its way, closed until tapped (native <details>, no JavaScript)
        faq = page.locator("#faq")
        assert faq.locator("h2").inner_text() == "Spørsmål og svar"
        question = faq.locator("details", has_text="Når kommer pakken min?")
        assert question.get_attribute("data-topic") == "in_transit"
        answer = question.locator(".faq-answer")
        assert not answer.is_visible()
        question.locator("summary").click()
        assert answer.is_visible() and "Forventet leveringstid står øverst" in answer.inner_text()
        assert faq.locator("summary", has_text="Hva betyr «toll»?").count() == 0
        page.screenshot(path="/tmp/front_door_parcel_nb.png", full_page=True)

        page.click("a[hreflang=th]")
        assert page.get_attribute("html", "lang") == "th"
        assert page.inner_text(".eta").startswith("มีโอกาสสูงมากที่พัสดุของคุณจะถึง")
    finally:
        context.close()


def test_the_api_documentation_renders_under_the_page_policy(browser, site) -> None:
    base, _ = site
    context = _context(browser, locale="en-GB")
    problems: list[str] = []
    try:
        page = context.new_page()
        page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.goto(f"{base}/")
        page.click("text=API documentation for shops")
        assert page.url == f"{base}/api/v1/docs/"
        page.wait_for_selector(".opblock-summary-path")
        paths = page.locator(".opblock-summary-path").all_inner_texts()
        assert "/api/v1/shipments" in {path.replace("\u200b", "") for path in paths}
        assert page.locator(".info .title").inner_text().startswith("Leveranse API")
        page.locator(".opblock-summary").first.click()
        page.wait_for_selector(".opblock-body")
        page.set_viewport_size({"width": 1280, "height": 1000})
        page.screenshot(path="/tmp/api_docs.png")
        assert problems == []
    finally:
        context.close()
