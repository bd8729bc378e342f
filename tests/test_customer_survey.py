"""Our own post-delivery survey: the message links to it (unless the shop set its own survey), one answer per
shipment, localised, CSRF-protected, bad input stores nothing; the staff page's figures are checked against
values computed by hand."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from app.customer_care.stats import (
    Durations,
    durations,
    nearest_rank,
    survey_scores,
    week_start,
    weekly_survey_scores,
    weeks_until,
)
from app.extensions import db, limiter
from app.models import Notification, Role, SurveyResponse
from app.models.types import utcnow
from app.notify.links import survey_token, survey_url
from app.notify.settings import default_settings
from app.notify.time_triggers import scan_time_triggers
from tests.factories import PASSWORD, make_shipment, make_shop, make_staff

HTML = {"Accept": "text/html"}
ANSWER = {"csat": "4", "nps": "9", "ces": "6", "comment": "Kom fram før tiden, takk!"}


@pytest.fixture(autouse=True)
def _limits():
    limiter.reset()


def _delivered(shop=None, number: str = "TRACK123NO", **overrides):
    shop = shop or make_shop("Fjord Sko")[0]
    now = utcnow()
    values = {
        "tracking_number": number,
        "status": "delivered",
        "delivered_at": now - timedelta(hours=30),
        "created_at": now - timedelta(days=4),
        "customer_name": "Kari Nordmann",
        "customer_email": "kari@example.no",
        "customer_language": "nb",
        "customer_timezone": "Europe/Oslo",
        "destination_postcode": "0150",
        "destination_country": "NO",
    }
    values.update(overrides)
    return make_shipment(shop, **values)


def _path(app, shipment) -> str:
    return f"/survey/{survey_token(app.config, shipment.id)}"


def _answers() -> list[tuple]:
    return db.session.execute(
        select(SurveyResponse.shipment_id, SurveyResponse.csat, SurveyResponse.nps, SurveyResponse.ces)
    ).all()


def test_the_survey_message_links_to_our_page_unless_the_shop_set_its_own(app) -> None:
    ours = _delivered()
    external_shop, _ = make_shop("Fjellsport")
    settings = default_settings(external_shop.id)
    settings.survey_url = "https://survey.example/{tracking_number}?o={order_ref}"
    db.session.add(settings)
    theirs = _delivered(external_shop, number="OTHER1", order_ref="A-7")
    assert scan_time_triggers() == 2
    rows = {r.shipment_id: r for r in db.session.scalars(select(Notification))}
    assert survey_url(app.config, ours.id) in rows[ours.id].body_text
    assert survey_url(app.config, ours.id).startswith("https://track.example.test/survey/")
    assert "https://survey.example/OTHER1?o=A-7" in rows[theirs.id].body_text
    assert "/survey/" not in rows[theirs.id].body_text
    assert scan_time_triggers() == 0


def test_a_customer_answers_once_and_a_second_answer_changes_nothing(app, client) -> None:
    shipment = _delivered()
    path = _path(app, shipment)
    page = client.get(path, headers=HTML)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert '<html lang="nb">' in text
    assert "Hvor fornøyd er du med leveringen?" in text
    assert 'name="nps" type="radio" value="10"' in text

    response = client.post(path, data=ANSWER, headers=HTML)
    assert response.status_code == 302
    assert _answers() == [(shipment.id, 4, 9, 6)]
    stored = db.session.scalar(select(SurveyResponse))
    assert (stored.comment, stored.language, stored.shop_id) == (ANSWER["comment"], "nb", shipment.shop_id)
    thanks = client.get(response.headers["Location"], headers=HTML).get_data(as_text=True)
    assert "Takk for svarene dine!" in thanks
    assert 'name="csat"' not in thanks

    again = client.post(path, data={**ANSWER, "csat": "1", "nps": "0"}, headers=HTML)
    assert again.status_code == 409
    assert "Vi har svarene dine om denne leveringen" in again.get_data(as_text=True)
    assert _answers() == [(shipment.id, 4, 9, 6)]
    assert (
        client.get(f"{path}?lang=en", headers=HTML).get_data(as_text=True).count("We have your answers") == 1
    )


@pytest.mark.parametrize(
    "change, field",
    [
        ({"csat": "6"}, "csat"),
        ({"nps": "11"}, "nps"),
        ({"ces": "0"}, "ces"),
        ({"ces": "x"}, "ces"),
        ({"csat": None}, "csat"),
        ({"comment": "bell \x07 here"}, "comment"),
        ({"comment": "x" * 2001}, "comment"),
    ],
)
def test_bad_answers_get_the_form_back_and_store_nothing(app, client, change, field) -> None:
    shipment = _delivered(customer_language="en")
    data = {k: v for k, v in {**ANSWER, **change}.items() if v is not None}
    response = client.post(_path(app, shipment), data=data, headers=HTML)
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert f'id="{field}-error"' in text
    assert _answers() == []


def test_nul_and_forged_links_get_friendly_pages(app, client) -> None:
    shipment = _delivered(customer_language="en")
    response = client.post(_path(app, shipment), data={**ANSWER, "comment": "a\x00b"}, headers=HTML)
    assert response.status_code == 422 and "cannot be used" in response.get_data(as_text=True)
    forged = client.get(
        "/survey/" + survey_token({**app.config, "SECRET_KEY": "other"}, shipment.id), headers=HTML
    )
    assert forged.status_code == 404 and "survey link is not valid" in forged.get_data(as_text=True)
    # a tracking link's token is signed for another purpose
    assert client.get(f"/survey/{shipment.link_token}", headers=HTML).status_code == 404
    assert _answers() == []


def test_the_survey_form_needs_its_csrf_token(app, client) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    shipment = _delivered()
    path = _path(app, shipment)
    assert client.post(path, data=ANSWER, headers=HTML).status_code == 400
    assert _answers() == []
    token = re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"', client.get(path).get_data(as_text=True)
    )
    assert client.post(path, data={**ANSWER, "csrf_token": token.group(1)}, headers=HTML).status_code == 302
    assert _answers() == [(shipment.id, 4, 9, 6)]


def test_scores_match_hand_computed_values() -> None:
    # CSAT (5+4+3+1)/4 = 3.25; NPS: promoters 10, 9 and detractor 0 of 4 → (2 − 1)/4 = 25; CES (7+6+4+1)/4 = 4.5
    scores = survey_scores([(5, 10, 7), (4, 9, 6), (3, 7, 4), (1, 0, 1)])
    assert (scores.count, scores.csat, scores.nps, scores.ces) == (4, 3.25, 25.0, 4.5)
    assert (scores.promoters, scores.passives, scores.detractors) == (2, 1, 1)
    # 6 is a detractor, 7 and 8 are passives: (0 − 1)/3 = −33.3…
    assert survey_scores([(3, 6, 4), (3, 7, 4), (3, 8, 4)]).nps == pytest.approx(-100 / 3)
    empty = survey_scores([])
    assert (empty.count, empty.csat, empty.nps, empty.ces) == (0, None, None, None)

    hours = [timedelta(hours=h) for h in (10, 1, 4, 2, 3)]
    assert durations(hours) == Durations(5, timedelta(hours=3), timedelta(hours=10))  # p90: ⌈4.5⌉ = 5th
    even = [timedelta(hours=h) for h in (1, 2, 3, 5)]
    assert durations(even) == Durations(4, timedelta(hours=2, minutes=30), timedelta(hours=5))  # ⌈3.6⌉ = 4th
    assert nearest_rank([timedelta(minutes=m) for m in range(1, 21)], 0.9) == timedelta(minutes=18)
    assert durations([]) == Durations(0, None, None)


def test_weekly_scores_put_each_answer_in_its_iso_week() -> None:
    weeks = weeks_until(datetime(2026, 11, 25).date(), 2)  # a Wednesday
    assert [str(w) for w in weeks] == ["2026-11-16", "2026-11-23"]
    answers = [
        (datetime(2026, 11, 22, 23, 59, tzinfo=UTC), 5, 10, 7),  # Sunday: the first week
        (datetime(2026, 11, 23, 0, 0, tzinfo=UTC), 2, 3, 2),  # Monday: the second
        (datetime(2026, 11, 24, 12, 0, tzinfo=UTC), 4, 9, 5),
        (datetime(2026, 11, 1, 12, 0, tzinfo=UTC), 1, 0, 1),  # before the period
    ]
    (first, a), (second, b) = weekly_survey_scores(answers, weeks)
    assert (first, a.count, a.csat, a.nps, a.ces) == (weeks[0], 1, 5.0, 100.0, 7.0)
    assert (second, b.count, b.csat, b.nps, b.ces) == (weeks[1], 2, 3.0, 0.0, 3.5)
    assert week_start(datetime(2026, 11, 29, 23, 0, tzinfo=UTC)) == weeks[1]


def _login(client, role: Role = Role.VIEWER, shop=None) -> None:
    email = f"{role}@shop.test"
    user = make_staff(email, role)
    if shop is not None:
        user.shop_id = shop.id
        db.session.commit()
    assert client.post("/staff/login", data={"email": email, "password": PASSWORD}).status_code == 302


def _answer(shipment, csat: int, nps: int, ces: int, comment: str | None, when: datetime) -> None:
    db.session.add(
        SurveyResponse(
            shipment_id=shipment.id,
            shop_id=shipment.shop_id,
            csat=csat,
            nps=nps,
            ces=ces,
            comment=comment,
            language="nb",
            answered_at=when,
        )
    )


def test_the_staff_page_shows_hand_computed_figures_chart_comments_and_csv(app, client) -> None:
    shop, _ = make_shop("Fjord Sko")
    now = utcnow()
    monday = datetime.combine(week_start(now), time(0), tzinfo=UTC)
    this_week, last_week = monday + timedelta(minutes=1), monday - timedelta(days=3)
    answers = [
        (5, 10, 7, "Perfekt", this_week),
        (4, 9, 6, None, this_week),
        (3, 7, 4, '=HYPERLINK("http://evil")', last_week),
        (1, 0, 1, "Kom aldri\npå døra", last_week),
    ]
    for i, (csat, nps, ces, comment, when) in enumerate(answers):
        _answer(_delivered(shop, number=f"N{i}"), csat, nps, ces, comment, when)
    db.session.commit()

    assert client.get("/staff/survey").status_code == 302  # login first
    _login(client)
    page = client.get("/staff/survey")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    totals = dict(re.findall(r'<dd id="([a-z-]+)">([^<]*)</dd>', text))
    assert totals == {"answers": "4", "csat": "3.25", "nps": "25.0", "nps-split": "2 · 1 · 1", "ces": "4.50"}
    rows = re.findall(r"<tr><td>(\d{4}-W\d\d)</td><td>(\d+)</td><td>([^<]*)</td><td>([^<]*)</td>", text)
    # newest week first: this week (5,10,7)+(4,9,6): CSAT 4.5, NPS 100; last week (3,7,4)+(1,0,1): 2.0, −50
    assert rows[:2] == [
        (rows[0][0], "2", "4.50", "100.0"),
        (rows[1][0], "2", "2.00", "-50.0"),
    ]
    assert len(rows) == 12
    assert text.count("<svg") == 2 and "<script" not in text
    assert "Kom aldri\npå døra" in text and text.index("Perfekt") < text.index("Kom aldri")

    export = client.get("/staff/survey.csv?weeks=2")
    assert export.mimetype == "text/csv"
    records = list(csv.DictReader(io.StringIO(export.get_data(as_text=True))))
    assert [(r["csat"], r["nps"], r["ces"]) for r in records] == [
        ("3", "7", "4"),
        ("1", "0", "1"),
        ("5", "10", "7"),
        ("4", "9", "6"),
    ]
    assert records[0]["comment"] == '\'=HYPERLINK("http://evil")'  # never a formula in a spreadsheet
    assert records[1]["comment"] == "Kom aldri\npå døra"


def test_shop_staff_see_only_their_shops_answers(app, client) -> None:
    mine, _ = make_shop("Fjord Sko")
    other, _ = make_shop("Fjellsport")
    _answer(_delivered(mine, number="M1"), 5, 10, 7, "Mitt", utcnow())
    _answer(_delivered(other, number="O1"), 1, 0, 1, "Andres", utcnow())
    db.session.commit()
    _login(client, shop=mine)
    text = client.get("/staff/survey").get_data(as_text=True)
    assert '<dd id="answers">1</dd>' in text and "Mitt" in text and "Andres" not in text
    assert "Andres" not in client.get("/staff/survey.csv").get_data(as_text=True)
    assert db.session.scalar(select(func.count(SurveyResponse.id))) == 2
