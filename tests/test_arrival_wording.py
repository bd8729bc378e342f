"""The arrival window in words (notifications/arrival.py), shared by the tracking page and the messages:
days for windows that span days, whole hours only on the day itself, sureness from the prediction, in
each language and the reader's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from notifications.arrival import Sureness, arrival_cdf, describe_arrival, sureness_of
from notifications.render import LOCALES, render
from tests.test_notifications_render import CONTEXT

OSLO = ZoneInfo("Europe/Oslo")
BANGKOK = ZoneInfo("Asia/Bangkok")
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)  # Wednesday 2 December, 10:00 in Oslo


def local(day: int, hour: int, minute: int = 0, zone: ZoneInfo = OSLO) -> datetime:
    """A December 2026 moment on the reader's clock."""
    return datetime(2026, 12, day, hour, minute, tzinfo=zone)


def when(start, end, language: str, zone: ZoneInfo = OSLO, now: datetime | None = NOW) -> str | None:
    return describe_arrival(start, end, locale=LOCALES[language], zone=zone, now=now).when


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "today between 14:00 and 16:00"),
        ("nb", "i dag mellom kl. 14 og 16"),
        ("da", "i dag mellem kl. 14 og 16"),
        ("th", "วันนี้ ระหว่างเวลา 14.00–16.00 น."),
    ],
)
def test_a_window_inside_today_shows_whole_hours(language: str, expected: str) -> None:
    assert when(local(2, 14, 10), local(2, 15, 30), language) == expected


@pytest.mark.parametrize(
    ("language", "tomorrow", "friday"),
    [
        ("en", "tomorrow", "on Friday"),
        ("nb", "i morgen", "fredag"),
        ("da", "i morgen", "fredag"),
        ("th", "พรุ่งนี้", "วันศุกร์"),
    ],
)
def test_one_day_that_is_not_today_shows_no_hours(language: str, tomorrow: str, friday: str) -> None:
    assert when(local(3, 9), local(3, 17), language) == tomorrow
    assert when(local(4, 9), local(4, 11), language) == friday


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "on Friday or Saturday"),
        ("nb", "fredag eller lørdag"),
        ("da", "fredag eller lørdag"),
        ("th", "วันศุกร์ หรือวันเสาร์"),
    ],
)
def test_two_days(language: str, expected: str) -> None:
    assert when(local(4, 17, 54), local(5, 1, 38), language) == expected


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "between Friday and Sunday"),
        ("nb", "mellom fredag og søndag"),
        ("da", "mellem fredag og søndag"),
        ("th", "ระหว่างวันศุกร์ ถึงวันอาทิตย์"),
    ],
)
def test_three_days_or_more(language: str, expected: str) -> None:
    assert when(local(4, 8), local(6, 20), language) == expected


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "on Thursday 10 December or Friday 11 December"),
        ("nb", "torsdag 10. desember eller fredag 11. desember"),
        ("da", "torsdag den 10. december eller fredag den 11. december"),
        ("th", "วันพฤหัสบดีที่ 10 ธันวาคม หรือวันศุกร์ที่ 11 ธันวาคม"),
    ],
)
def test_days_beyond_the_coming_week_carry_their_date(language: str, expected: str) -> None:
    assert when(local(10, 12), local(11, 12), language) == expected


def test_relative_days_and_the_window_around_now() -> None:
    assert when(local(2, 16), local(3, 12), "en") == "today or tomorrow"
    assert when(local(3, 16), local(4, 12), "en") == "tomorrow or Friday"
    assert when(local(3, 16), local(5, 12), "nb") == "mellom i morgen og lørdag"
    # a window that opened before now starts now; one ending at midnight says so
    assert when(local(2, 8), local(2, 11, 15), "en") == "today between 10:00 and 12:00"
    assert when(local(2, 21, 30), local(2, 23, 30), "en") == "today between 21:00 and midnight"
    assert when(local(2, 21, 30), local(2, 23, 30), "nb") == "i dag mellom kl. 21 og 24"


def test_the_readers_time_zone_decides_the_day() -> None:
    start, end = datetime(2026, 12, 2, 17, 30, tzinfo=UTC), datetime(2026, 12, 2, 19, 45, tzinfo=UTC)
    assert when(start, end, "en") == "today between 18:00 and 21:00"  # Oslo, UTC+1
    assert when(start, end, "th", zone=BANGKOK) == "พรุ่งนี้"  # 00:30–02:45 on Thursday in Bangkok


def test_a_carriers_day_without_a_prediction_has_no_sureness() -> None:
    arrival = describe_arrival(date(2026, 12, 4), date(2026, 12, 4), locale="en_GB", zone=OSLO, now=NOW)
    assert (arrival.sureness, arrival.probability) == (None, None)
    assert arrival.sentence == "The carrier expects to deliver your parcel on Friday."
    thai = describe_arrival(date(2026, 12, 4), date(2026, 12, 4), locale="th_TH", zone=OSLO, now=NOW)
    assert thai.sentence == "บริษัทขนส่งคาดว่าจะนำส่งพัสดุของคุณวันศุกร์"


@pytest.mark.parametrize("language", ["en", "nb", "da", "th"])
def test_a_window_that_has_passed_is_not_shown_as_a_date(language: str) -> None:
    arrival = describe_arrival(
        local(1, 10), local(2, 9), locale=LOCALES[language], zone=OSLO, now=NOW, cdf=lambda t: 0.5
    )
    assert arrival.when is None and arrival.sureness is None
    expected = {
        "en": "Your parcel is taking longer than we expected.",
        "nb": "Pakken din bruker lengre tid enn vi regnet med.",
        "da": "Din pakke er længere undervejs, end vi regnede med.",
        "th": "พัสดุของคุณใช้เวลานานกว่าที่เราคาดไว้",
    }[language]
    assert arrival.sentence.startswith(expected)
    late_day = describe_arrival(date(2026, 12, 1), date(2026, 12, 1), locale="en_GB", zone=OSLO, now=NOW)
    assert late_day.when is None


def test_the_distribution_passes_through_the_predicted_quantiles() -> None:
    p10, p50, p90 = local(4, 8), local(4, 14), local(5, 8)
    cdf = arrival_cdf(p10, p50, p90)
    assert [round(cdf(t), 6) for t in (p10, p50, p90)] == [0.1, 0.5, 0.9]
    assert cdf(local(1, 0)) == 0.0 and cdf(local(9, 0)) == 1.0
    assert round(arrival_cdf(p10, p50, p90, p_lost=0.2)(p90), 6) == 0.72
    assert round(arrival_cdf(p10, None, p90)(local(4, 20)), 6) == 0.5  # no median: the middle


@pytest.mark.parametrize(
    ("p_lost", "sureness", "sentence"),
    [
        (0.0, Sureness.VERY_LIKELY, "Your parcel is very likely to arrive on Friday or Saturday."),
        (0.25, Sureness.LIKELY, "Your parcel is likely to arrive on Friday or Saturday."),
        (0.5, Sureness.UNCERTAIN, "Your parcel may arrive on Friday or Saturday, but this is uncertain."),
    ],
)
def test_sureness_is_the_chance_of_arriving_inside_the_window_as_shown(p_lost, sureness, sentence) -> None:
    # p10..p90 is an 80 % window; shown as whole days it holds nearly all of the predicted arrivals
    cdf = arrival_cdf(local(4, 12), local(5, 0), local(5, 12), p_lost=p_lost)
    arrival = describe_arrival(local(4, 12), local(5, 12), locale="en_GB", zone=OSLO, now=NOW, cdf=cdf)
    assert arrival.probability == pytest.approx(1.0 - p_lost)
    assert (arrival.sureness, arrival.sentence) == (sureness, sentence)


def test_sureness_counts_only_what_can_still_happen() -> None:
    # at 10:00 the window 08:00–12:00 has half its mass in the past; the parcel has not come yet
    cdf = arrival_cdf(local(2, 8), local(2, 10), local(2, 12))
    arrival = describe_arrival(local(2, 8), local(2, 12), locale="en_GB", zone=OSLO, now=NOW, cdf=cdf)
    assert arrival.probability == pytest.approx(0.4 / 0.5)
    assert arrival.sureness is Sureness.LIKELY


@pytest.mark.parametrize(
    ("language", "sentence"),
    [
        ("en", "Your parcel is very likely to arrive today between 14:00 and 16:00."),
        ("nb", "Pakken din kommer nesten helt sikkert i dag mellom kl. 14 og 16."),
        ("da", "Din pakke er næsten helt sikkert fremme i dag mellem kl. 14 og 16."),
        ("th", "มีโอกาสสูงมากที่พัสดุของคุณจะถึงวันนี้ ระหว่างเวลา 14.00–16.00 น."),
    ],
)
def test_sentences_in_every_language(language: str, sentence: str) -> None:
    start, end = local(2, 14, 10), local(2, 15, 30)
    cdf = arrival_cdf(start, start + (end - start) / 2, end)
    arrival = describe_arrival(start, end, locale=LOCALES[language], zone=OSLO, now=NOW, cdf=cdf)
    assert arrival.sentence == sentence


def test_sureness_thresholds() -> None:
    assert [sureness_of(p) for p in (0.95, 0.9, 0.89, 0.6, 0.59, 0.0)] == [
        Sureness.VERY_LIKELY,
        Sureness.VERY_LIKELY,
        Sureness.LIKELY,
        Sureness.LIKELY,
        Sureness.UNCERTAIN,
        Sureness.UNCERTAIN,
    ]


def test_messages_name_dated_days_and_never_today() -> None:
    # messages may be read days later: no "today", no hours, every day with its date
    assert when(local(2, 14), local(2, 16), "en", now=None) == "on Wednesday 2 December"
    assert when(local(2, 14), local(3, 16), "th", now=None) == "วันพุธที่ 2 ธันวาคม หรือวันพฤหัสบดีที่ 3 ธันวาคม"


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "We expect it to arrive on Tuesday 4 March or Wednesday 5 March."),
        ("nb", "Vi regner med at den kommer tirsdag 4. mars eller onsdag 5. mars."),
        ("da", "Vi forventer, at den er fremme tirsdag den 4. marts eller onsdag den 5. marts."),
        ("th", "คาดว่าพัสดุจะถึงมือคุณวันอังคารที่ 4 มีนาคม หรือวันพุธที่ 5 มีนาคมค่ะ"),
    ],
)
def test_messages_word_the_window_with_the_same_function(language: str, expected: str) -> None:
    context = {**CONTEXT, "eta_end": datetime(2025, 3, 5, 15, 0, tzinfo=UTC)}
    assert expected in render("shipped", language, context).text


def test_the_window_and_the_clock_move_together() -> None:
    later = NOW + timedelta(days=1)  # Thursday: Friday is now "tomorrow"
    assert when(local(4, 9), local(4, 11), "en", now=later) == "tomorrow"
