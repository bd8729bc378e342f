"""WCAG 2.1 AA: axe-core (the pinned npm release) audits every customer page, in every language, in Debian's
headless Chromium against the app on a loopback port with CSRF on. One browser serves the whole audit."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from app import create_app
from app.admin.branding import BrandingChanges, update_branding
from app.config import TestConfig
from app.customer_care.cases import contact
from app.customer_care.survey import SurveyAnswer, record_answer
from app.extensions import db, limiter
from app.models import TrackingEvent
from app.models.types import utcnow
from app.notify.links import survey_token, unsubscribe_url
from app.web.branding import public_shop_key
from tests.axe import axe_source, run_axe
from tests.browser import serve
from tests.factories import make_shipment, make_shop

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("Debian's chromium is not installed at /usr/bin/chromium", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
LANGUAGES = ("en", "nb", "da", "th")
CUSTOMER = {
    "customer_name": "Kari Nordmann",
    "customer_email": "kari@example.no",
    "customer_phone": "+4791234567",
    "customer_timezone": "Europe/Oslo",
    "destination_postcode": "0150",
    "destination_country": "NO",
}


@pytest.fixture(scope="module")
def axe() -> str:
    """axe.min.js; a failed download fails the audit (it is never skipped)."""
    return axe_source()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The app on an ephemeral port with a branded shop: a parcel on its way, a delivered one (with a conversation), an
    answered survey and an expired link: (base URL, the pages' tokens)."""
    database = tmp_path_factory.mktemp("browser-a11y") / "browser.db"
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{database}", WTF_CSRF_ENABLED=True)
    with app.app_context():
        db.create_all()
        shop, _ = make_shop("Fjord Sko")
        logo = io.BytesIO()
        Image.new("RGB", (120, 40), (139, 30, 63)).save(logo, "PNG")
        update_branding(shop, BrandingChanges("#8b1e3f", "#f4e9d8", logo.getvalue()))
        moving = make_shipment(
            shop,
            tracking_number="TRACK123NO",
            status="in_transit",
            last_checked_at=utcnow() - timedelta(minutes=12),
            eta_p10=datetime(2026, 11, 25, 9, tzinfo=UTC),
            eta_p90=datetime(2026, 11, 25, 13, tzinfo=UTC),
            **CUSTOMER,
        )
        for hours, status, what in ((30, "info_received", "Label printed"), (20, "in_transit", "Sorted")):
            db.session.add(
                TrackingEvent(
                    shipment_id=moving.id,
                    occurred_at=utcnow() - timedelta(hours=hours),
                    status=status,
                    carrier_code=status.upper(),
                    description=what,
                    location="Oslo",
                    source="poll",
                    content_hash=f"a11y-{hours}",
                )
            )
        delivered = make_shipment(
            shop,
            tracking_number="TRACK456NO",
            status="delivered",
            delivered_at=utcnow() - timedelta(hours=30),
            **CUSTOMER,
        )
        contact(delivered, "Where exactly was it left?", "email", language="en")
        answered = make_shipment(
            shop, tracking_number="TRACK789NO", status="delivered", delivered_at=utcnow(), **CUSTOMER
        )
        record_answer(answered, SurveyAnswer(5, 9, 6, None), language="en")
        old = make_shipment(
            shop,
            tracking_number="TRACK000NO",
            status="delivered",
            delivered_at=utcnow() - timedelta(days=400),
            updated_at=utcnow() - timedelta(days=400),
            **CUSTOMER,
        )
        db.session.commit()
        tokens = {
            "shop": public_shop_key(shop.id),
            "moving": moving.link_token,
            "delivered": delivered.link_token,
            "old": old.link_token,
            "survey": survey_token(app.config, delivered.id),
            "answered": survey_token(app.config, answered.id),
            "unsubscribe": unsubscribe_url(app.config, delivered.id, "email").rsplit("/", 1)[1],
        }
        db.session.remove()
    with serve(app) as base:
        yield base, tokens


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


def _audit_language(browser, base: str, tokens: dict[str, str], lang: str, axe: str) -> dict[str, list]:
    """Visit every customer page (and its error states) in `lang`, each checked to be the page meant (its
    status, language and branding); the violations found on each page that has any."""
    context = browser.new_context(locale="en-GB")
    context.set_default_timeout(5000)
    page = context.new_page()
    found: dict[str, list] = {}

    def audit(
        name: str, url: str | None = None, action=None, status: int = 200, branded: bool = True
    ) -> None:
        if url is not None:
            response = page.goto(f"{base}{url}{'&' if '?' in url else '?'}lang={lang}")
        else:
            with page.expect_navigation() as navigation:
                action()
            response = navigation.value
        assert response.status == status, name
        # the service-wide error page (not a customer page of a shop) is English
        assert page.get_attribute("html", "lang") == (lang if name != "unknown page" else "en"), name
        header = page.evaluate("() => getComputedStyle(document.querySelector('header.top')).backgroundColor")
        assert (header == "rgb(244, 233, 216)") == branded, name
        found[name] = run_axe(page, axe)

    t = tokens
    submit = "main form button[type=submit]"
    audit("front door", "/", branded=False)
    audit("front door of the shop", f"/?shop={t['shop']}")
    audit("lookup", "/track", branded=False)
    page.fill("#tracking_number", "NOPE")
    page.fill("#postcode", "0000")
    audit("lookup not found", action=lambda: page.click(submit), status=404, branded=False)
    audit("parcel, before the postcode", f"/t/{t['moving']}")
    page.fill("#postcode", "9999")
    audit("parcel, wrong postcode", action=lambda: page.click(submit), status=400)
    page.fill("#postcode", "0150")
    audit("parcel, verified", action=lambda: page.click(submit))
    page.goto(f"{base}/t/{t['delivered']}?lang={lang}")
    page.fill("#postcode", "0150")
    audit("delivered parcel, verified", action=lambda: page.click(submit))
    audit("report a problem", f"/t/{t['delivered']}/report")
    audit("report a problem, errors", action=lambda: page.click(submit), status=400)
    audit("contact", f"/t/{t['delivered']}/contact")
    audit("contact, errors", action=lambda: page.click(submit), status=400)
    audit("survey", f"/survey/{t['survey']}")
    audit("survey, errors", action=lambda: page.click(submit), status=400)
    audit("survey thanks", f"/survey/{t['answered']}")
    audit("unsubscribe", f"/u/{t['unsubscribe']}")
    audit("unsubscribed", action=lambda: page.click(submit))
    audit("expired link", f"/t/{t['old']}", status=410, branded=False)
    audit("unknown link", "/t/not-a-token", status=404, branded=False)
    audit("unknown survey", "/survey/not-a-token", status=404, branded=False)
    audit("unknown page", "/no-such-page", status=404, branded=False)
    context.close()
    assert len(found) == 21
    return {name: violations for name, violations in found.items() if violations}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_customer_page_passes_axe(browser, site, axe, lang) -> None:
    base, tokens = site
    limiter.reset()  # every language verifies postcodes again
    violations = _audit_language(browser, base, tokens, lang, axe)
    report = "\n".join(
        f"{page} — {v['id']} ({v['impact']}): {v['help']}\n    "
        + "\n    ".join(f"{n['target']}: {n['summary']}" for n in v["nodes"])
        for page, page_violations in violations.items()
        for v in page_violations
    )
    assert not violations, report
