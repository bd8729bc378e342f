"""Every page in a real headless Chromium (Debian's), against the app on a loopback port with CSRF on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from app import create_app
from app.config import TestConfig
from app.extensions import db, limiter
from app.models import Claim, TrackingEvent
from app.models.types import utcnow
from tests.browser import serve
from tests.factories import PASSWORD, make_shipment, make_shop, make_staff

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("Debian's chromium is not installed at /usr/bin/chromium", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The app on an ephemeral port, seeded with one parcel and one staff user: (app, base URL, data)."""
    database = tmp_path_factory.mktemp("browser") / "browser.db"
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{database}", WTF_CSRF_ENABLED=True)
    with app.app_context():
        db.create_all()
        shop, _ = make_shop("Fjord Sko")
        shipment = make_shipment(
            shop,
            tracking_number="TRACK123NO",
            status="in_transit",
            customer_name="Kari Nordmann",
            customer_email="kari@example.no",
            customer_timezone="Europe/Oslo",
            destination_postcode="0150",
            destination_country="NO",
            last_checked_at=utcnow() - timedelta(minutes=12),
            eta_p10=datetime(2026, 11, 25, 9, tzinfo=UTC),
            eta_p90=datetime(2026, 11, 25, 13, tzinfo=UTC),
            risk_state="at_risk",
            p_late=0.7,
            declared_value=Decimal("2500"),
            currency="NOK",
        )
        db.session.add(
            TrackingEvent(
                shipment_id=shipment.id,
                occurred_at=datetime(2026, 11, 24, 7, 5, tzinfo=UTC),
                status="in_transit",
                carrier_code="TRM",
                description="Sorted at the terminal",
                location="Oslo",
                source="poll",
                content_hash="h1",
            )
        )
        make_staff()
        data = {"shipment_id": shipment.id, "token": shipment.link_token}
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
def page(browser, site):
    """A fresh browser context (own cookies) without JavaScript: the customer pages must work without it."""
    limiter.reset()
    context = browser.new_context(java_script_enabled=False, locale="en-GB")
    context.set_default_timeout(5000)
    yield context.new_page()
    context.close()


def test_tracking_page_verification_and_preferences(page, site) -> None:
    app, base, data = site
    url = f"{base}/t/{data['token']}"
    page.goto(url)
    assert page.inner_text("h1") == "Your parcel is on its way"
    assert page.inner_text(".eta").startswith("Your parcel is taking longer than we expected.")
    assert page.inner_text(".freshness") == "Last checked 12 minutes ago."
    assert "Kari Nordmann" not in page.content()

    page.fill("#postcode", "9999")
    page.click("text=Show details")
    assert page.inner_text("[role=alert]") == "That postcode does not match this parcel."
    assert "Kari Nordmann" not in page.content()

    page.fill("#postcode", "0150")
    page.click("text=Show details")
    assert page.url == url
    assert page.inner_text(".details") == "Recipient\nKari Nordmann\nDelivery postcode\n0150, Norway"
    page.set_viewport_size({"width": 390, "height": 1400})
    page.screenshot(path="/tmp/tracking_page.png", full_page=True)

    page.check("input[value='sms']")
    page.select_option("#language", "nb")
    page.fill("#quiet_start", "22:00")
    page.fill("#quiet_end", "07:30")
    page.click("button:has-text('Save choices')")
    assert page.inner_text(".flash") == "Valgene dine er lagret."
    page.reload()
    assert page.get_attribute("html", "lang") == "nb"
    assert page.inner_text("h1") == "Pakken din er på vei"
    assert page.is_checked("input[value='sms']")
    assert page.input_value("#language") == "nb"
    assert (page.input_value("#quiet_start"), page.input_value("#quiet_end")) == ("22:00", "07:30")


def test_language_switch(page, site) -> None:
    _, base, data = site
    page.goto(f"{base}/t/{data['token']}?lang=th")
    assert page.get_attribute("html", "lang") == "th"
    assert page.inner_text("h1") == "พัสดุของคุณกำลังเดินทาง"
    page.click("a[hreflang=nb]")
    assert page.get_attribute("html", "lang") == "nb"
    assert page.inner_text("h2#verify-heading") == "Er dette din pakke?"


def test_lookup_form_and_its_rate_limit(page, site) -> None:
    app, base, data = site
    page.goto(f"{base}/track")
    page.fill("#tracking_number", "TRACK123NO")
    page.fill("#postcode", "9999")
    page.click("button:has-text('Find parcel')")
    assert "We could not find a parcel with that tracking number and postcode." in page.inner_text("main")

    page.fill("#postcode", "0150")
    page.click("button:has-text('Find parcel')")
    assert page.url == f"{base}/t/{data['token']}"
    assert "Kari Nordmann" in page.inner_text(".details")

    app.config["TRACKING_LOOKUP_RATE_LIMIT"] = "2 per minute"
    try:
        page.goto(f"{base}/track")
        page.fill("#tracking_number", "NOPE")
        page.fill("#postcode", "1")
        statuses = []
        for _ in range(3):
            with page.expect_navigation() as navigation:
                page.click("button:has-text('Find parcel')")
            statuses.append(navigation.value.status)
        assert statuses == [404, 404, 429]
        assert page.inner_text("h1") == "Too many attempts"
    finally:
        app.config["TRACKING_LOOKUP_RATE_LIMIT"] = TestConfig.TRACKING_LOOKUP_RATE_LIMIT


def test_staff_login_dashboard_timeline_and_outbox(browser, site) -> None:
    _, base, _ = site
    context = browser.new_context()
    context.set_default_timeout(5000)
    page = context.new_page()
    try:
        page.goto(f"{base}/staff/")
        assert page.inner_text("h1") == "Staff login"
        page.fill("#email", "ops@shop.test")
        page.fill("#password", PASSWORD)
        page.click("button:has-text('Log in')")
        assert page.inner_text("h1") == "At-risk shipments"
        page.click("text=bring TRACK123NO")
        assert page.inner_text("h1") == "bring TRACK123NO"
        assert "Sorted at the terminal" in page.inner_text("main")
        page.click("header >> text=Outbox")
        assert page.url == f"{base}/staff/outbox/"
        assert page.inner_text("h1") == "Outbox"
    finally:
        context.close()


def test_bad_urls_get_friendly_pages(page, site) -> None:
    _, base, _ = site
    response = page.goto(f"{base}/no/such/page")
    assert response.status == 404
    assert page.inner_text("main p") == "We could not find that page."
    response = page.goto(f"{base}/t/not-a-real-token")
    assert response.status == 404
    assert page.inner_text("h1") == "Parcel not found"


def test_customer_reports_a_parcel_not_received(page, site, tmp_path) -> None:
    app, base, _ = site
    with app.app_context():
        shop, _ = make_shop("Fjord Sko")
        delivered = utcnow() - timedelta(days=3)
        shipment = make_shipment(
            shop,
            tracking_number="DELIVERED9NO",
            status="delivered",
            delivered_at=delivered,
            shipped_at=delivered - timedelta(days=2),
            customer_email="kari@example.no",
            customer_timezone="Europe/Oslo",
            destination_postcode="0150",
            destination_country="NO",
        )
        shipment_id, token = shipment.id, shipment.link_token
        db.session.remove()
    photo = tmp_path / "doorstep.png"
    Image.new("RGB", (16, 16), "white").save(photo)
    app.config["CLAIM_FILES_DIR"] = tmp_path / "claims"
    try:
        page.goto(f"{base}/t/{token}")
        page.fill("#postcode", "0150")
        page.click("text=Show details")
        page.click("#claims >> text=Report a problem")  # the FAQ links to it too
        assert page.inner_text("h1") == "Report a problem"
        page.check("input[value='not_received']")
        page.fill(
            "#statement",
            "The parcel is marked as delivered, but it was not at my door or with the neighbours.",
        )
        page.set_input_files("#photos", str(photo))
        page.click("button:has-text('Send report')")

        with app.app_context():
            claim = db.session.scalars(select(Claim).where(Claim.shipment_id == shipment_id)).one()
            reference, kind, files = claim.reference, claim.kind, [a.filename for a in claim.attachments]
            db.session.remove()
        assert (kind, files) == ("not_received", ["doorstep.png"])
        assert page.url == f"{base}/t/{token}#claims"
        assert (
            page.inner_text(".flash")
            == f"Thank you. We have opened case {reference} and will keep you updated."
        )
        assert page.inner_text(f"#claim-{reference} h3") == f"{reference} · Delivered, but not received"
        assert page.inner_text(f"#claim-{reference} .claim-state") == f"We have opened case {reference}."
    finally:
        app.config["CLAIM_FILES_DIR"] = TestConfig.CLAIM_FILES_DIR
