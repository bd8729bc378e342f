"""The front door (`/`), the API documentation page under the page policy, the 404 page's way back, and
the tracking page's arrival sentence and pickup point."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date

from app.extensions import db, limiter
from app.models import TrackingEvent
from app.models.types import utcnow
from app.notify.links import tracking_url
from tests.factories import make_shipment, make_shop

HTML = {"Accept": "text/html"}
OSLO = ZoneInfo("Europe/Oslo")


@pytest.fixture(autouse=True)
def _fresh_limits(app):
    limiter.reset()
    yield
    limiter.reset()


def _path(app, shipment) -> str:
    return tracking_url(app.config, shipment.id).removeprefix(app.config["PUBLIC_BASE_URL"])


@pytest.mark.parametrize(
    ("accept", "lang", "heading", "docs", "staff"),
    [
        ("en-GB,en;q=0.8", "en", "Track your parcel", "API documentation for shops", "Staff sign-in"),
        (
            "nb-NO,nb;q=0.9",
            "nb",
            "Spor pakken din",
            "API-dokumentasjon for nettbutikker",
            "Innlogging for ansatte",
        ),
        (
            "da-DK,da;q=0.9",
            "da",
            "Følg din pakke",
            "API-dokumentation for webshops",
            "Log ind for medarbejdere",
        ),
        ("th-TH,th;q=0.9", "th", "ติดตามพัสดุของคุณ", "เอกสาร API สำหรับร้านค้า", "เข้าสู่ระบบสำหรับพนักงาน"),
    ],
)
def test_the_front_door_speaks_the_visitors_language(client, accept, lang, heading, docs, staff) -> None:
    page = client.get("/", headers={**HTML, "Accept-Language": accept})
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'<html lang="{lang}">' in text
    assert f'<h1 id="track-heading">{heading}</h1>' in text
    assert '<form method="post" action="/track"' in text
    assert '<label for="tracking_number">' in text and '<label for="postcode">' in text
    assert '<main id="content">' in text and "<footer" in text and '<nav class="languages"' in text
    assert f'<a href="/api/v1/docs/">{docs}</a>' in text
    assert f'<a href="/staff/login">{staff}</a>' in text


def test_the_chosen_language_wins_over_the_browsers_and_the_form_keeps_it(client) -> None:
    text = client.get("/?lang=th", headers={**HTML, "Accept-Language": "da"}).get_data(as_text=True)
    assert '<html lang="th">' in text
    assert 'action="/track?lang=th"' in text
    assert '<a href="/?lang=nb" lang="nb" hreflang="nb">Norsk bokmål</a>' in text


def test_the_front_door_form_finds_the_parcel(app, client) -> None:
    shop, _ = make_shop("Fjord Sko")
    shipment = make_shipment(shop, tracking_number="TRACK123NO", destination_postcode="0150")
    found = client.post("/track", data={"tracking_number": "TRACK123NO", "postcode": "0150"}, headers=HTML)
    assert found.status_code == 302
    assert found.headers["Location"] == _path(app, shipment)


def test_the_404_page_leads_to_the_front_door(client) -> None:
    missing = client.get("/no/such/page", headers=HTML)
    assert missing.status_code == 404
    assert '<a href="/">Go to the start page</a>' in missing.get_data(as_text=True)
    assert client.get("/", headers=HTML).status_code == 200


def test_the_api_documentation_is_served_from_here_without_inline_script(client) -> None:
    page = client.get("/api/v1/docs/", headers=HTML)
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    directives = dict(d.strip().split(" ", 1) for d in page.headers["Content-Security-Policy"].split(";"))
    assert directives["script-src"] == "'self'"
    assert 'data-spec-url="/api/v1/openapi.json"' in text
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", text, re.S)
    assert [src for src, body in scripts if body.strip() or "src=" not in src] == []
    assert [re.search(r'src="([^"]+)"', src)[1] for src, _ in scripts] == [
        "/api/v1/docs/swagger-ui/swagger-ui-bundle.js",
        "/static/api-docs.js",
    ]
    assert "https://" not in text.replace("https://www.w3.org", "")
    with client.get("/api/v1/docs/swagger-ui/swagger-ui-bundle.js") as bundle:
        assert bundle.status_code == 200 and "SwaggerUIBundle" in bundle.get_data(as_text=True)
    with client.get("/api/v1/docs/swagger-ui/swagger-ui.css") as styles:
        assert styles.mimetype == "text/css"
    assert client.get("/api/v1/docs/swagger-ui/../../config.py").status_code == 404


def test_the_tracking_page_words_the_window_in_days_and_sureness(app, client) -> None:
    today = utcnow().astimezone(OSLO).date()
    first, second = today + timedelta(days=2), today + timedelta(days=3)
    noon = datetime.combine(first, datetime.min.time(), OSLO) + timedelta(hours=12)
    shop, _ = make_shop("Fjord Sko")
    shipment = make_shipment(
        shop,
        status="in_transit",
        customer_timezone="Europe/Oslo",
        eta_p10=noon.astimezone(UTC),
        eta_p50=(noon + timedelta(hours=12)).astimezone(UTC),
        eta_p90=(noon + timedelta(hours=24)).astimezone(UTC),
        p_lost=0.2,
    )
    for lang, sentence in [
        ("en", "Your parcel is likely to arrive on {a} or {b}."),
        ("nb", "Pakken din kommer trolig {a} eller {b}."),
        ("th", "พัสดุของคุณน่าจะถึง{a} หรือ{b}"),
    ]:
        locale = {"en": "en_GB", "nb": "nb_NO", "th": "th_TH"}[lang]
        a, b = (format_date(day, "EEEE", locale=locale) for day in (first, second))
        text = client.get(_path(app, shipment) + f"?lang={lang}", headers=HTML).get_data(as_text=True)
        # the whole-day window holds every predicted arrival, but a 20 % chance of loss leaves 80 %
        assert f'<p class="eta">{sentence.format(a=a, b=b)}</p>' in text


def test_a_parcel_at_a_pickup_point_shows_where_and_until_when(app, client) -> None:
    shop, _ = make_shop("Fjord Sko")
    ready = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
    shipment = make_shipment(
        shop,
        status="available_for_pickup",
        status_changed_at=ready,
        customer_timezone="Europe/Oslo",
        destination_country="NO",
        eta_p10=ready,
        eta_p90=ready + timedelta(hours=2),
    )
    db.session.add(
        TrackingEvent(
            shipment_id=shipment.id,
            occurred_at=ready,
            status="available_for_pickup",
            carrier_code="READY_FOR_PICKUP",
            location="Coop Extra Storo",
            source="poll",
            content_hash="pickup",
        )
    )
    db.session.commit()
    text = client.get(_path(app, shipment) + "?lang=nb", headers=HTML).get_data(as_text=True)
    assert '<h2 id="pickup-heading">Her henter du pakken</h2>' in text
    assert "<dt>Hentested</dt><dd>Coop Extra Storo</dd>" in text
    assert "<dt>Hent den innen</dt><dd>onsdag 16. desember</dd>" in text  # 14 days' hold
    assert 'href="https://www.openstreetmap.org/search?query=Coop+Extra+Storo%2C+Norway"' in text
    assert 'class="eta"' not in text  # it has arrived where it waits


def test_thai_dates_count_years_in_the_buddhist_era(app, client) -> None:
    shop, _ = make_shop("Fjord Sko")
    shipment = make_shipment(shop, status="in_transit", customer_timezone="Asia/Bangkok")
    db.session.add(
        TrackingEvent(
            shipment_id=shipment.id,
            occurred_at=datetime(2026, 11, 24, 7, 5, tzinfo=UTC),
            status="in_transit",
            carrier_code="TRM",
            location="Bangkok",
            source="poll",
            content_hash="h1",
        )
    )
    db.session.commit()
    text = client.get(_path(app, shipment) + "?lang=th", headers=HTML).get_data(as_text=True)
    assert '<time datetime="2026-11-24T07:05:00+00:00">24 พ.ย. 2569 14:05</time>' in text
