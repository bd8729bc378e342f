from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from notifications.errors import RenderError
from notifications.model import Trigger
from notifications.render import LANGUAGES, SMS_MAX_SEGMENTS, render, resolve_language
from notifications.sms_text import SmsEncoding, measure_sms

TRACKING_URL = "https://track.example.no/t/AB12CD"
UNSUBSCRIBE_URL = "https://track.example.no/u/XYZ"
SURVEY_URL = "https://track.example.no/s/Q1"
CONTEXT = {
    "shop_name": "Fjellsport",
    "customer_name": "Kari",
    "tracking_number": "70712345678",
    "carrier": "Bring",
    "order_reference": "A-1001",
    "tracking_url": TRACKING_URL,
    "unsubscribe_url": UNSUBSCRIBE_URL,
    "survey_url": SURVEY_URL,
    "timezone": "Europe/Oslo",
    "eta_start": datetime(2025, 3, 4, 13, 0, tzinfo=UTC),
    "eta_end": datetime(2025, 3, 6, 15, 0, tzinfo=UTC),
    "previous_eta": date(2025, 3, 3),
    "delivered_at": datetime(2025, 3, 4, 13, 12, tzinfo=UTC),
    "delivery_location": "Postkasse",
    "pickup_point": "Coop Extra Storo",
    "pickup_address": "Vitaminveien 7, 0485 Oslo",
    "pickup_deadline": date(2025, 3, 18),
    "attempted_at": datetime(2025, 3, 4, 13, 12, tzinfo=UTC),
    "reason": "customs",
    "last_event_at": datetime(2025, 3, 1, 8, 0, tzinfo=UTC),
    "claim_reference": "CL-1042",
    "claim_reason": "damaged",
    "claim_state": "submitted",
    "claim_resolution": "refund",
    "claim_amount": Decimal("499.50"),
    "currency": "NOK",
    "case_reply": "Bring har pakken, den kommer i morgen.",
}
# Words a Norwegian or Danish reader would spot as untranslated English.
ENGLISH_WORDS = {
    "your", "the", "parcel", "package", "order", "delivered", "been", "will", "tracking", "track",
    "unsubscribe", "hello", "thanks", "thank", "you", "we", "between", "pickup", "claim", "please",
    "today", "our", "with", "from", "case", "sorry", "delivery", "expected", "details",
}  # fmt: skip
CONTEXT_VALUES = [v for v in CONTEXT.values() if isinstance(v, str)]


def strip_known(text: str) -> str:
    """Remove context values, URLs and Babel's month/day names can't be English in nb/da/th."""
    text = re.sub(r"https?://\S+", " ", text)
    for value in sorted(CONTEXT_VALUES, key=len, reverse=True):
        text = text.replace(value, " ")
    return text


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("trigger", list(Trigger))
def test_every_template_renders_in_every_language(trigger: Trigger, language: str) -> None:
    message = render(trigger, language, CONTEXT)
    assert (message.language, message.fallback) == (language, False)
    assert message.subject and "\n" not in message.subject
    for body in (message.text, message.html):
        assert TRACKING_URL in body
        assert UNSUBSCRIBE_URL in body
    assert f'href="{UNSUBSCRIBE_URL}"' in message.html
    assert f'<html lang="{language}">' in message.html
    link = SURVEY_URL if trigger is Trigger.DELIVERY_SURVEY else TRACKING_URL
    assert message.sms.endswith(" " + link)
    length = measure_sms(message.sms)
    assert length.segments <= SMS_MAX_SEGMENTS
    expected_encoding = SmsEncoding.UCS2 if language == "th" else SmsEncoding.GSM7
    assert length.encoding is expected_encoding
    if language != "en":
        for part in (message.subject, message.text, message.sms):
            words = set(re.findall(r"[a-z]+", strip_known(part).lower()))
            assert words.isdisjoint(ENGLISH_WORDS), (part, words & ENGLISH_WORDS)
    if language == "th":
        leftover = strip_known(message.text + message.subject + message.sms)
        assert not re.search(r"[A-Za-z]{2,}", leftover), leftover


def test_dates_and_times_are_local_and_localised() -> None:
    context = {
        **CONTEXT,
        "eta_start": datetime(2025, 3, 4, 13, 0, tzinfo=UTC),
        "eta_end": datetime(2025, 3, 4, 15, 0, tzinfo=UTC),
    }
    assert "between 14:00 and 16:00" in render("arriving_soon", "en", context).text
    assert "mellom kl. 14:00 og 16:00" in render("arriving_soon", "nb", context).text
    assert "mellem kl. 14.00 og 16.00" in render("arriving_soon", "da", context).text
    assert "ระหว่างเวลา 14:00 ถึง 16:00 น." in render("arriving_soon", "th", context).text
    bangkok = {**context, "timezone": "Asia/Bangkok"}
    assert "between 20:00 and 22:00" in render("arriving_soon", "en", bangkok).text
    assert "tirsdag 4. mars kl. 14:12" in render("delivered", "nb", CONTEXT).text
    assert "tirsdag den 4. marts kl. 14.12" in render("delivered", "da", CONTEXT).text
    assert "วันอังคารที่ 4 มีนาคม เวลา 14:12 น." in render("delivered", "th", CONTEXT).text
    assert "arrives on Tuesday 4 March." in render("predicted_delay", "en", context).text
    assert "between Tuesday 4 March and Thursday 6 March" in render("predicted_delay", "en", CONTEXT).text
    assert "arrive on Tuesday 4 March." in render("shipped", "en", {**context, "eta_end": None}).text
    assert "499,50\xa0kr" in render("claim_resolved", "nb", CONTEXT).text


def test_html_escapes_context_but_text_does_not() -> None:
    message = render("shipped", "en", {**CONTEXT, "shop_name": "Fisk & <b>Vilt</b>"})
    assert "Fisk &amp; &lt;b&gt;Vilt&lt;/b&gt;" in message.html
    assert "<b>Vilt" not in message.html
    assert message.subject == "Your order from Fisk & <b>Vilt</b> is on its way"
    assert "Fisk & <b>Vilt</b>" in message.text


def test_unknown_language_falls_back_to_english() -> None:
    message = render("delivered", "sv-SE", CONTEXT)
    assert (message.language, message.locale, message.fallback) == ("en", "en_GB", True)
    assert message.subject == "Your parcel from Fjellsport has been delivered"
    assert resolve_language("nb-NO") == ("nb", False)
    assert resolve_language("no") == ("nb", False)
    assert resolve_language("da_DK") == ("da", False)
    assert resolve_language("") == ("en", True)


def test_long_sms_is_shortened_gracefully() -> None:
    context = {**CONTEXT, "pickup_point": "Coop Extra Storo Storsenter, inngang C ved parkeringshuset " * 5}
    for language in LANGUAGES:
        sms = render("pickup_reminder", language, context).sms
        assert measure_sms(sms).segments <= SMS_MAX_SEGMENTS
        assert sms.endswith(" " + TRACKING_URL)
    assert render("pickup_reminder", "nb", context).sms == (
        f"Fjellsport: Husk å hente pakken din innen tirsdag 18. mars. Detaljer: {TRACKING_URL}"
    )


@pytest.mark.parametrize(
    ("trigger", "context", "message"),
    [
        ("teleported", CONTEXT, "unknown trigger 'teleported'"),
        ("delivered", {**CONTEXT, "delivered_at": None}, "missing: delivered_at"),
        ("shipped", {k: v for k, v in CONTEXT.items() if k != "unsubscribe_url"}, "missing: unsubscribe_url"),
        ("delivered", {**CONTEXT, "delivered_at": datetime(2025, 3, 4, 13, 12)}, "timezone-aware"),
        ("delivered", {**CONTEXT, "timezone": "Mars/Olympus"}, "unknown timezone"),
        ("delivered", {**CONTEXT, "tracking_url": "javascript:alert(1)"}, "http\\(s\\) URL"),
        ("arriving_soon", {**CONTEXT, "eta_start": date(2025, 3, 4)}, "needs a datetime"),
    ],
)
def test_bad_context_is_a_clear_error(trigger: str, context: dict, message: str) -> None:
    with pytest.raises(RenderError, match=message):
        render(trigger, "nb", context)
