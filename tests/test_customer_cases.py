""" "Contact us about this parcel": only after postcode verification; the message becomes a case in the staff
inbox with the shipment's context; an agent's reply goes through the outbox on the customer's channel, in
their language, to a real SMTP server, and shows on the tracking page; viewers read but cannot reply; bad
input, missing CSRF tokens and too many messages store nothing; response times are measured per week."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from app.customer_care.stats import response_times, week_start, weekly_response_times, weeks_until
from app.extensions import db, limiter
from app.models import (
    CaseMessage,
    CaseStatus,
    Notification,
    Role,
    ShopNotificationSettings,
    SupportCase,
    TrackingEvent,
)
from app.models.types import utcnow
from app.notify.dispatch import dispatch_due
from app.notify.links import tracking_url
from app.web.staff_cases import duration_words
from tests.factories import PASSWORD, make_shipment, make_shop, make_staff

HTML = {"Accept": "text/html"}
QUESTION = "Hei! Pakken har stått stille i Oslo i tre dager.\r\nKan dere sjekke?"


@pytest.fixture(autouse=True)
def _limits():
    limiter.reset()
    yield
    limiter.reset()


@pytest.fixture
def inbox(app, smtp_server):
    """The SMTP server, configured as the app's mail server."""
    app.config.update(
        SMTP_HOST=smtp_server.host, SMTP_PORT=smtp_server.port, SMTP_FROM_ADDRESS="kundeservice@fjordsko.no"
    )
    return smtp_server


def _parcel(**overrides):
    shop, _ = make_shop("Fjord Sko")
    # no quiet hours, so the reply is due at once whatever time the test runs
    db.session.add(
        ShopNotificationSettings(
            shop_id=shop.id,
            triggers=["shipped"],  # a reply the customer asked for goes out whatever the shop's triggers say
            channels=["email"],
            quiet_start=time(0),
            quiet_end=time(0),
            urgent_triggers=[],
            survey_url=None,
            survey_delay_hours=24,
            pickup_reminder_hours=48,
        )
    )
    values = {
        "tracking_number": "TRACK123NO",
        "status": "in_transit",
        "customer_name": "Kari Nordmann",
        "customer_email": "kari@example.no",
        "customer_phone": "+4791234567",
        "customer_language": "nb",
        "customer_timezone": "Europe/Oslo",
        "destination_postcode": "0150",
        "destination_country": "NO",
        "eta_p10": datetime(2026, 11, 25, 9, tzinfo=UTC),
        "eta_p90": datetime(2026, 11, 25, 13, tzinfo=UTC),
    }
    values.update(overrides)
    shipment = make_shipment(shop, **values)
    db.session.add(
        TrackingEvent(
            shipment_id=shipment.id,
            occurred_at=datetime(2026, 11, 24, 7, 5, tzinfo=UTC),
            status="in_transit",
            carrier_code="TRM",
            description="Sortert på terminal",
            location="Oslo",
            source="poll",
            content_hash="h1",
        )
    )
    db.session.commit()
    return shipment


def _path(app, shipment) -> str:
    return tracking_url(app.config, shipment.id).removeprefix(app.config["PUBLIC_BASE_URL"])


def _verify(client, path: str) -> None:
    assert client.post(f"{path}/verify", data={"postcode": "0150"}).status_code == 302


def _login(client, role: Role) -> None:
    email_address = f"{role}@shop.test"
    make_staff(email_address, role)
    assert client.post("/staff/login", data={"email": email_address, "password": PASSWORD}).status_code == 302


def _counts() -> tuple[int, int, int]:
    return (
        db.session.scalar(select(func.count(SupportCase.id))),
        db.session.scalar(select(func.count(CaseMessage.id))),
        db.session.scalar(select(func.count(Notification.id))),
    )


def test_message_case_reply_outbox_smtp_and_tracking_page(app, client, inbox) -> None:
    shipment = _parcel()
    path = _path(app, shipment)
    _verify(client, path)
    page = client.get(path, headers=HTML).get_data(as_text=True)
    assert "Kontakt oss om denne pakken" in page
    assert 'value="email"' in page and 'value="sms"' in page

    response = client.post(
        f"{path}/contact", data={"message": QUESTION, "reply_channel": "email"}, headers=HTML
    )
    assert response.status_code == 302
    case = db.session.scalar(select(SupportCase))
    assert (case.status, case.reply_channel, case.language, case.first_response_at) == (
        "open",
        "email",
        "nb",
        None,
    )
    assert [m.body for m in case.messages] == [QUESTION.replace("\r\n", "\n")]
    page = client.get(path, headers=HTML).get_data(as_text=True)
    assert "Vi har fått meldingen din og svarer snart." in page and "stått stille i Oslo" in page

    staff = app.test_client()
    _login(staff, Role.AGENT)
    inbox_page = staff.get("/staff/cases").get_data(as_text=True)
    assert f"#{case.id}" in inbox_page and "TRACK123NO" in inbox_page and "stått stille" in inbox_page
    detail = staff.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert re.search(r'id="shipment-status">in transit', detail)
    assert "Bring" in detail and "2026-11-25 09:00 – 2026-11-25 13:00 UTC" in detail
    assert "Sortert på terminal" in detail and "waiting" in detail

    answer = "Hei Kari! Bring har funnet pakken, den kommer i morgen."
    reply = staff.post(f"/staff/cases/{case.id}/reply", data={"body": answer}, follow_redirects=True)
    assert "Reply queued by email to kari@example.no." in reply.get_data(as_text=True)
    db.session.refresh(case)
    assert case.status is CaseStatus.ANSWERED and case.first_response_at is not None
    [row] = db.session.scalars(select(Notification)).all()
    assert (row.trigger, row.channel, row.recipient, row.language) == (
        "case_reply",
        "email",
        "kari@example.no",
        "nb",
    )
    assert row.subject == "Fjord Sko har svart på meldingen din"
    assert answer in row.body_text

    assert dispatch_due().sent == 1
    [(_, recipients, raw)] = inbox.messages
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert recipients == ["kari@example.no"]
    assert answer in parsed.get_body(("plain",)).get_content()

    page = client.get(path, headers=HTML).get_data(as_text=True)
    assert "Vi har svart." in page
    assert page.index("stått stille i Oslo") < page.index(answer)  # under the customer's message

    closed = staff.post(f"/staff/cases/{case.id}/close", follow_redirects=True).get_data(as_text=True)
    assert f"Case {case.id} closed." in closed
    db.session.refresh(case)
    assert case.status is CaseStatus.CLOSED and case.resolved_at >= case.first_response_at
    refused = staff.post(f"/staff/cases/{case.id}/reply", data={"body": "Mer?"}, follow_redirects=True)
    assert "Nothing was sent: The case is closed." in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Notification.id))) == 1

    # writing again after the case was closed opens a new one
    client.post(f"{path}/contact", data={"message": "Takk!", "reply_channel": "sms"}, headers=HTML)
    assert db.session.scalars(select(SupportCase.status).order_by(SupportCase.id)).all() == ["closed", "open"]


def test_a_follow_up_joins_the_open_case_and_an_sms_reply_goes_by_sms(app, client) -> None:
    shipment = _parcel()
    path = _path(app, shipment)
    _verify(client, path)
    client.post(f"{path}/contact?lang=th", data={"message": "สวัสดีค่ะ", "reply_channel": "email"})
    client.post(f"{path}/contact?lang=th", data={"message": "ขอบคุณค่ะ", "reply_channel": "sms"})
    [case] = db.session.scalars(select(SupportCase)).all()
    assert (len(case.messages), case.reply_channel, case.language) == (2, "sms", "th")
    staff = app.test_client()
    _login(staff, Role.ADMIN)
    staff.post(f"/staff/cases/{case.id}/reply", data={"body": "Parcel arrives tomorrow."})
    [row] = db.session.scalars(select(Notification)).all()
    assert (row.channel, row.recipient, row.language, row.subject) == ("sms", "+4791234567", "th", None)
    assert row.body_text.startswith("คำตอบจาก Fjord Sko: Parcel arrives tomorrow.")


def test_an_unverified_visitor_can_neither_see_nor_write(app, client) -> None:
    shipment = _parcel()
    path = _path(app, shipment)
    client.post(f"{path}/contact", data={"message": "Hei"})
    _verify(client, path)
    client.post(f"{path}/contact", data={"message": "Hemmelig spørsmål", "reply_channel": "email"})
    stranger = app.test_client()
    page = stranger.get(path, headers=HTML).get_data(as_text=True)
    assert "Hemmelig spørsmål" not in page and "/contact" not in page
    refused = stranger.post(
        f"{path}/contact", data={"message": "Hei", "reply_channel": "email"}, headers=HTML
    )
    assert refused.status_code == 403 and "Bekreft postnummeret først" in refused.get_data(as_text=True)
    assert stranger.get(f"{path}/contact", headers=HTML).status_code == 302
    assert _counts() == (1, 1, 0)


@pytest.mark.parametrize(
    "data, error",
    [
        ({"message": "   ", "reply_channel": "email"}, "Skriv meldingen din."),
        ({"message": "x" * 2001, "reply_channel": "email"}, "Bruk høyst 2000 tegn."),
        ({"message": "Hei \x1b[31m", "reply_channel": "email"}, "inneholder tegn vi ikke kan lagre"),
        ({"message": "Hei", "reply_channel": "pigeon"}, "Velg ett av alternativene."),
    ],
)
def test_bad_messages_get_a_friendly_page_and_store_nothing(app, client, data, error) -> None:
    shipment = _parcel()
    path = _path(app, shipment)
    _verify(client, path)
    response = client.post(f"{path}/contact", data=data, headers=HTML)
    assert response.status_code == 400
    assert error in response.get_data(as_text=True)
    assert _counts() == (0, 0, 0)


def test_nul_and_a_channel_without_an_address_are_refused(app, client) -> None:
    shipment = _parcel(customer_phone=None)
    path = _path(app, shipment)
    _verify(client, path)
    nul = client.post(f"{path}/contact", data={"message": "a\x00b", "reply_channel": "email"}, headers=HTML)
    assert nul.status_code == 422 and "cannot be used" in nul.get_data(as_text=True)
    sms = client.post(f"{path}/contact", data={"message": "Hei", "reply_channel": "sms"}, headers=HTML)
    assert sms.status_code == 400
    assert _counts() == (0, 0, 0)


def test_csrf_is_enforced_for_customers_and_staff(app, client) -> None:
    shipment = _parcel()
    path = _path(app, shipment)
    _verify(client, path)
    client.post(f"{path}/contact", data={"message": "Hei", "reply_channel": "email"})
    case = db.session.scalar(select(SupportCase))
    staff = app.test_client()
    _login(staff, Role.AGENT)
    app.config["WTF_CSRF_ENABLED"] = True
    assert (
        client.post(f"{path}/contact", data={"message": "Igjen", "reply_channel": "email"}).status_code == 400
    )
    assert staff.post(f"/staff/cases/{case.id}/reply", data={"body": "Svar"}).status_code == 400
    assert staff.post(f"/staff/cases/{case.id}/close").status_code == 400
    assert _counts() == (1, 1, 0)
    page = client.get(path).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    data = {"message": "Igjen", "reply_channel": "email", "csrf_token": token}
    assert client.post(f"{path}/contact", data=data).status_code == 302
    assert _counts() == (1, 2, 0)


def test_a_viewer_reads_the_inbox_but_cannot_reply_or_close(app, client) -> None:
    shipment = _parcel()
    path = _path(app, shipment)
    _verify(client, path)
    client.post(f"{path}/contact", data={"message": "Hei", "reply_channel": "email"})
    case = db.session.scalar(select(SupportCase))
    assert client.get("/staff/cases").status_code == 302  # the customer is not staff
    viewer = app.test_client()
    _login(viewer, Role.VIEWER)
    assert viewer.get("/staff/cases").status_code == 200
    detail = viewer.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert "Send reply" not in detail
    assert viewer.post(f"/staff/cases/{case.id}/reply", data={"body": "Svar"}).status_code == 403
    assert viewer.post(f"/staff/cases/{case.id}/close").status_code == 403
    db.session.refresh(case)
    assert (case.status, case.first_response_at) == ("open", None)
    assert _counts() == (1, 1, 0)


def test_contact_messages_are_rate_limited(app, client) -> None:
    app.config["CONTACT_RATE_LIMIT"] = "2 per hour"
    shipment = _parcel()
    path = _path(app, shipment)
    _verify(client, path)
    for _ in range(2):
        assert (
            client.post(f"{path}/contact", data={"message": "Hei", "reply_channel": "email"}).status_code
            == 302
        )
    third = client.post(f"{path}/contact", data={"message": "Hei", "reply_channel": "email"}, headers=HTML)
    assert third.status_code == 429
    assert "Please wait a minute and try again." in third.get_data(as_text=True)
    assert _counts()[1] == 2


def test_response_times_match_hand_computed_values(app, client) -> None:
    t0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # a Monday
    cases = [
        (t0, t0 + timedelta(hours=1), t0 + timedelta(hours=5)),
        (t0, t0 + timedelta(hours=2), None),
        (t0, t0 + timedelta(hours=4), t0 + timedelta(hours=30)),
        (t0, None, None),
        (t0 - timedelta(days=7), t0 - timedelta(days=7) + timedelta(minutes=30), t0),
    ]
    weeks = weeks_until(t0.date(), 2)
    (_, before), (_, this) = weekly_response_times(cases, weeks)
    # this week: first responses 1, 2, 4 h → median 2 h, p90 ⌈2.7⌉ = 3rd = 4 h; resolutions 5, 30 h → 17.5 h, 30 h
    assert this.opened == 4
    assert (this.first_response.median, this.first_response.p90) == (timedelta(hours=2), timedelta(hours=4))
    assert (this.resolution.median, this.resolution.p90) == (timedelta(hours=17.5), timedelta(hours=30))
    assert (before.opened, before.first_response.median, before.resolution.p90) == (
        1,
        timedelta(minutes=30),
        timedelta(days=7),
    )
    total = response_times(cases)
    # 0.5, 1, 2, 4 h → median 1.5 h, p90 ⌈3.6⌉ = 4th = 4 h
    assert (total.first_response.median, total.first_response.p90) == (
        timedelta(hours=1.5),
        timedelta(hours=4),
    )

    # the same figures on the staff page, for cases opened this week
    shipment = _parcel()
    monday = datetime.combine(week_start(utcnow()), time(0), tzinfo=UTC)
    for created, first, resolved in cases[:4]:
        shift = monday - t0
        db.session.add(
            SupportCase(
                shop_id=shipment.shop_id,
                shipment_id=shipment.id,
                status=CaseStatus.CLOSED if resolved else CaseStatus.OPEN,
                reply_channel="email",
                language="nb",
                created_at=created + shift,
                first_response_at=first + shift if first else None,
                resolved_at=resolved + shift if resolved else None,
            )
        )
    db.session.commit()
    _login(client, Role.VIEWER)
    page = client.get("/staff/cases?show=closed").get_data(as_text=True)
    assert '<dd id="opened">4</dd>' in page
    assert "median 2 h 0 min · p90 4 h 0 min (3 answered)" in page
    assert "median 17 h 30 min · p90 1 d 6 h (2 closed)" in page
    assert page.count("<svg") == 1 and "<script" not in page
    assert (duration_words(timedelta(seconds=20)), duration_words(timedelta(minutes=125))) == (
        "<1 min",
        "2 h 5 min",
    )
