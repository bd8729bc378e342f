"""The tracking page shows the questions that fit the parcel's status and reasons, in the page's language,
as native <details> (no JavaScript, nothing inline), before the postcode check and without personal data."""

from __future__ import annotations

import re

import pytest

from app.extensions import db, limiter
from app.faq.editing import save_entry, set_hidden
from app.models import Shipment
from tests.factories import make_shipment, make_shop

PERSONAL = ("Kari Nordmann", "kari@example.no", "ORDER-77", "0150")
CUSTOMS_FIRST = {
    "en": "What does “customs” mean?",
    "nb": "Hva betyr «toll»?",
    "da": "Hvad betyder »told«?",
    "th": "“ศุลกากร” หมายความว่าอะไร",
}
PICKUP_FIRST = {
    "en": "How long will the pickup point keep my parcel?",
    "nb": "Hvor lenge tar hentestedet vare på pakken min?",
    "da": "Hvor længe opbevarer udleveringsstedet min pakke?",
    "th": "จุดรับพัสดุจะเก็บพัสดุของฉันไว้นานเท่าไร",
}
HEADING = {
    "en": "Questions and answers",
    "nb": "Spørsmål og svar",
    "da": "Spørgsmål og svar",
    "th": "คำถามที่พบบ่อย",
}


@pytest.fixture(autouse=True)
def _fresh_limits(app):
    limiter.reset()
    yield
    limiter.reset()


def _parcel(shop=None, **overrides) -> Shipment:
    shop = shop or make_shop("Fjord Sko")[0]
    values = {
        "tracking_number": "TRACK123NO",
        "status": "in_transit",
        "customer_name": "Kari Nordmann",
        "customer_email": "kari@example.no",
        "order_ref": "ORDER-77",
        "destination_postcode": "0150",
        "destination_country": "NO",
    }
    return make_shipment(shop, **{**values, **overrides})


def _summaries(html: str) -> list[str]:
    return re.findall(r"<summary>(.*?)</summary>", html, re.S)


def _faq(client, shipment: Shipment, language: str) -> str:
    response = client.get(f"/t/{shipment.link_token}", query_string={"lang": language})
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.mark.parametrize("language", ["en", "nb", "da", "th"])
def test_a_parcel_in_customs_shows_the_customs_questions_first(app, client, language) -> None:
    shipment = _parcel(
        reason="customs", risk_reasons=[{"key": "past_promised_day", "text": "", "params": {}}]
    )
    html = _faq(client, shipment, language)
    section = html[html.index('<section class="card faq" id="faq"') :]
    assert f'<h2 id="faq-heading">{HEADING[language]}</h2>' in section
    questions = _summaries(section)
    assert questions[0] == CUSTOMS_FIRST[language]
    topics = re.findall(r'data-topic="(\w+)"', section)
    assert topics == sorted(topics, key=["customs", "delayed", "in_transit"].index) and set(topics) == {
        "customs",
        "delayed",
        "in_transit",
    }
    assert PICKUP_FIRST[language] not in html
    for personal in PERSONAL:  # not verified: the questions, but nothing about the recipient
        assert personal not in html
    assert "<script" not in html and "style=" not in html


@pytest.mark.parametrize("language", ["en", "nb", "da", "th"])
def test_a_parcel_at_the_pickup_point_answers_how_long_it_waits(app, client, language) -> None:
    shipment = _parcel(status="available_for_pickup", risk_reasons=[{"key": "awaiting_collection"}])
    questions = _summaries(_faq(client, shipment, language))
    assert questions[0] == PICKUP_FIRST[language]
    assert CUSTOMS_FIRST[language] not in questions and len(questions) == 3


def test_delivered_points_to_report_a_problem(app, client) -> None:
    shipment = _parcel(status="delivered")
    html = _faq(client, shipment, "nb")
    assert _summaries(html)[0] == "Det står at pakken er levert, men jeg finner den ikke."
    link = f'<a href="/t/{shipment.link_token}/report?lang=nb">Meld fra om et problem</a>'
    assert link not in html  # the form is only for a verified visitor
    assert client.post(f"/t/{shipment.link_token}/verify", data={"postcode": "0150"}).status_code == 302
    assert link in _faq(client, shipment, "nb")


def test_the_shops_own_questions_show_in_their_language_only(app, client) -> None:
    shop, _ = make_shop("Fjord Sko")
    save_entry(
        shop,
        "in_transit",
        "da",
        "Kan jeg hente i butikken?",
        "Ja, i Aarhus.\n\nSe https://fjord.example/.",
        "1",
        "a@x",
    )
    set_hidden(shop, "in_transit", "da", "updates", True, "a@x")
    db.session.commit()
    shipment = _parcel(shop)
    danish = _faq(client, shipment, "da")
    assert _summaries(danish)[0] == "Kan jeg hente i butikken?"
    assert (
        '<p>Ja, i Aarhus.</p><p>Se <a href="https://fjord.example/" rel="nofollow noopener noreferrer">'
        in danish
    )
    assert "Hvorfor har sporingen ikke ændret sig i et stykke tid?" not in danish
    english = _summaries(_faq(client, shipment, "en"))
    assert (
        "Kan jeg hente i butikken?" not in english
        and "Why has the tracking not changed for a while?" in english
    )
    other = _parcel(make_shop("Other")[0], tracking_number="OTHER1")
    assert "Kan jeg hente i butikken?" not in _faq(client, other, "da")


def test_a_parcel_with_every_question_hidden_shows_no_section(app, client) -> None:
    shop, _ = make_shop()
    for key in ("how_long", "bring", "someone_else"):
        set_hidden(shop, "available_for_pickup", "en", key, True, "a@x")
    db.session.commit()
    html = _faq(client, _parcel(shop, status="available_for_pickup"), "en")
    assert 'id="faq"' not in html and "<details" not in html
