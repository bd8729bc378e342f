"""An analytics page in a real headless Chromium: the charts render as SVG with the stylesheet applied and the
page policy is not violated."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from app import create_app
from app.config import TestConfig
from app.extensions import db
from app.models import Role
from tests.browser import serve
from tests.factories import PASSWORD, make_shipment, make_shop, make_staff

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("Debian's chromium is not installed at /usr/bin/chromium", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
MONDAY = date(2026, 3, 2)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The app on an ephemeral port with two weeks of deliveries of two carriers and a viewer."""
    database = tmp_path_factory.mktemp("browser-analytics") / "browser.db"
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{database}", WTF_CSRF_ENABLED=True)
    with app.app_context():
        db.create_all()
        shop, _ = make_shop("Fjord Sko")
        start = datetime.combine(MONDAY, datetime.min.time(), UTC)
        for n in range(20):
            carrier = "bring" if n % 2 else "postnord"
            shipped = start + timedelta(days=n % 10, hours=9)
            make_shipment(
                shop,
                carrier=carrier,
                tracking_number=f"A{n:04d}",
                shipped_at=shipped,
                promised_date=(shipped + timedelta(days=2)).date(),
                delivered_at=shipped + timedelta(days=1 + n % 3, hours=3),  # a third a day late
                status="delivered",
            )
        make_staff("viewer@shop.test", Role.VIEWER)
        db.session.remove()
    with serve(app) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


def test_on_time_chart_renders_with_real_numbers_and_no_policy_violation(browser, site) -> None:
    context = browser.new_context(locale="en-GB", viewport={"width": 1200, "height": 900})
    context.set_default_timeout(5000)
    problems: list[str] = []
    try:
        page = context.new_page()
        # the browser's own favicon request is the one 404 to expect (the pages link none)
        page.on(
            "console",
            lambda m: problems.append(m.text) if m.type == "error" and "404" not in m.text else None,
        )
        page.on(
            "response",
            lambda r: (
                problems.append(f"{r.status} {r.url}")
                if r.status >= 400 and not r.url.endswith("/favicon.ico")
                else None
            ),
        )
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.goto(f"{site}/staff/analytics/delivery?since=2026-03-02&until=2026-03-15")
        page.fill("#email", "viewer@shop.test")
        page.fill("#password", PASSWORD)
        page.click("button:has-text('Log in')")
        assert page.inner_text("h1") == "Analytics"
        chart = page.locator("svg#chart-on-time-carrier")
        box = chart.bounding_box()
        assert box is not None and box["width"] > 600 and box["height"] > 150
        assert chart.get_attribute("role") == "img"
        assert (
            page.locator("#chart-on-time-carrier-title").text_content() == "On-time rate per week by carrier"
        )
        assert chart.locator("polyline.line").count() == 2  # one line per carrier over the two weeks
        assert chart.locator("circle.dot").count() == 4
        # bring's week 10: n = 1, 3, 5, 7, 9 → 1 + n % 3 days = 2, 1, 3, 2, 1 → on time but for n = 5
        assert chart.locator("circle.dot title").all_text_contents()[0] == "bring, 2026-W10: 80.0 %"
        colour = chart.locator("polyline.line").first.evaluate("line => getComputedStyle(line).stroke")
        assert colour == "rgb(36, 86, 214)"  # from static/analytics.css, not from an attribute
        page.click("#on-time-carrier summary")
        assert page.locator("#on-time-carrier-table tbody tr").count() == 4
        page.screenshot(path="/tmp/staff_analytics.png", full_page=True)
        page.goto(f"{site}/staff/analytics/transit?since=2026-03-02&until=2026-03-15&carrier=bring")
        assert page.locator("svg#chart-transit rect.bar").count() == 2
        page.goto(f"{site}/staff/operations/")
        assert page.inner_text("h1") == "Operations"
    finally:
        context.close()
    assert problems == []
