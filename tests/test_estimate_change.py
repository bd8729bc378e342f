"""What changed since the last visit: one wording (notifications.change) for the tracking page, which
remembers per browser what it showed, and for the delay / back-on-track messages, which read the stored
prediction history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db, limiter
from app.models import Notification, PredictionChange, Shipment
from app.models.types import utcnow
from app.notify.links import tracking_url
from app.notify.triggers import queue_tracking_changes
from app.web.tracking_changes import COOKIE
from notifications.change import Cause, describe_change, place_name
from tests.factories import add_event, make_shipment, make_shop

HTML = {"Accept": "text/html"}


@pytest.mark.parametrize(
    ("language", "days", "cause", "place", "expected"),
    [
        ("en_GB", 1, Cause.DELAY, "Trondheim", "Our estimate has moved one day later: the carrier reported a delay in Trondheim."),
        ("en_GB", -2, None, "", "Our estimate has moved two days earlier."),
        ("en_GB", 9, Cause.CUSTOMS, "", "Our estimate has moved 9 days later: it is being held at customs."),
        ("en_GB", 1, Cause.FAILED_ATTEMPT, "", "Our estimate has moved one day later: a delivery attempt failed."),
        ("nb_NO", 1, Cause.DELAY, "Trondheim", "Anslaget vårt er flyttet én dag senere: transportøren meldte om forsinkelse i Trondheim."),
        ("nb_NO", -2, None, "", "Anslaget vårt er flyttet to dager tidligere."),
        ("nb_NO", 3, Cause.WEATHER, "Bodø", "Anslaget vårt er flyttet tre dager senere: dårlig vær holdt den igjen i Bodø."),
        ("da_DK", 1, Cause.DELAY, "Trondheim", "Vores skøn er rykket én dag senere: fragtfirmaet meldte om forsinkelse i Trondheim."),
        ("da_DK", -2, None, "", "Vores skøn er rykket to dage tidligere."),
        ("da_DK", 2, Cause.NO_SCAN, "", "Vores skøn er rykket to dage senere: fragtfirmaet har ikke scannet den i længere tid end normalt."),
        ("th_TH", 1, Cause.DELAY, "Trondheim", "เวลาที่เราคาดว่าพัสดุจะถึงเลื่อนออกไป 1 วัน เนื่องจากบริษัทขนส่งแจ้งว่าเกิดความล่าช้าที่ Trondheim"),
        ("th_TH", -2, None, "", "เวลาที่เราคาดว่าพัสดุจะถึงเร็วขึ้น 2 วัน"),
        ("th_TH", 2, Cause.CUSTOMS, "", "เวลาที่เราคาดว่าพัสดุจะถึงเลื่อนออกไป 2 วัน เนื่องจากพัสดุอยู่ระหว่างการตรวจของศุลกากร"),
    ],
)  # fmt: skip
def test_the_change_in_words(
    language: str, days: int, cause: Cause | None, place: str, expected: str
) -> None:
    assert describe_change(days, locale=language, cause=cause, place=place) == expected


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en_GB", "Your parcel is now expected today."),
        ("nb_NO", "Nå venter vi pakken din i dag."),
        ("da_DK", "Nu forventer vi din pakke i dag."),
        ("th_TH", "ตอนนี้เราคาดว่าพัสดุของคุณจะถึงวันนี้"),
    ],
)
def test_now_today_and_no_move(language: str, expected: str) -> None:
    assert describe_change(-1, locale=language, now_today=True) == expected
    assert describe_change(0, locale=language) is None


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("7010 TRONDHEIM, NO", "Trondheim"),
        ("SEGELTORP PAKETTERMINAL, 14105 Segeltorp, SWE", "Segeltorp Paketterminal"),
        ("NASHVILLE, TN, 37207, US", "Nashville"),
        ("Leipzig Hub", "Leipzig Hub"),
        ("", ""),
    ],
)
def test_place_names_from_carrier_locations(location: str, expected: str) -> None:
    assert place_name(location) == expected


@pytest.fixture(autouse=True)
def _fresh_limits(app):
    limiter.reset()
    yield
    limiter.reset()


def _parcel(**overrides) -> Shipment:
    shop, _ = make_shop("Fjord Sko")
    tomorrow = utcnow() + timedelta(days=1)
    values = {
        "tracking_number": "TRACK123NO",
        "status": "in_transit",
        "customer_email": "kari@example.no",
        "customer_language": "nb",
        "customer_timezone": "UTC",
        "destination_postcode": "0150",
        "destination_country": "NO",
        "eta_p10": tomorrow.replace(hour=9, minute=0, second=0, microsecond=0),
        "eta_p90": tomorrow.replace(hour=15, minute=0, second=0, microsecond=0),
    }
    return make_shipment(shop, **(values | overrides))


def _path(app, shipment: Shipment) -> str:
    return tracking_url(app.config, shipment.id).removeprefix(app.config["PUBLIC_BASE_URL"])


def test_the_page_says_what_changed_on_the_second_visit_not_the_first(app, client) -> None:
    shipment = _parcel()
    path = _path(app, shipment)
    first = client.get(f"{path}?lang=en", headers=HTML).get_data(as_text=True)
    assert "Since your last visit" not in first
    assert "Our estimate has moved" not in first

    add_event(shipment, utcnow() + timedelta(seconds=1), "in_transit", reason="carrier_delay")
    event = shipment.events[-1]
    event.location = "7010 TRONDHEIM, NO"
    shipment.eta_p10 += timedelta(days=1)
    shipment.eta_p90 += timedelta(days=1)
    db.session.commit()
    second = client.get(f"{path}?lang=en", headers=HTML).get_data(as_text=True)
    expected = "Our estimate has moved one day later: the carrier reported a delay in Trondheim."
    assert f"<strong>Since your last visit:</strong> {expected}" in second

    third = client.get(f"{path}?lang=nb", headers=HTML).get_data(as_text=True)
    assert "Siden sist du var innom" not in third  # this visit already saw the new estimate

    now = utcnow()
    shipment.eta_p10, shipment.eta_p90 = now, now.replace(hour=23, minute=59, second=59)
    db.session.commit()
    fourth = client.get(f"{path}?lang=nb", headers=HTML).get_data(as_text=True)
    assert "<strong>Siden sist du var innom:</strong> Nå venter vi pakken din i dag." in fourth
    assert "Since your last visit" not in app.test_client().get(path, headers=HTML).get_data(as_text=True)


def test_the_memory_is_a_signed_cookie_without_personal_data(app, client) -> None:
    shipment = _parcel()
    path = _path(app, shipment)
    client.get(path, headers=HTML)
    cookie = client.get_cookie(COOKIE, path="/t/")
    assert cookie is not None and cookie.http_only and cookie.path == "/t/"
    assert "kari" not in cookie.value and shipment.link_token not in cookie.value

    client.set_cookie(COOKIE, cookie.value[:-3] + "abc", path="/t/")  # tampered: treated as a first visit
    shipment.eta_p90 += timedelta(days=2)
    db.session.commit()
    assert "Since your last visit" not in client.get(path, headers=HTML).get_data(as_text=True)


def test_delay_and_back_on_track_messages_use_the_same_words(app) -> None:
    shipment = _parcel(customer_timezone="Europe/Oslo", promised_date=None)
    before = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
    db.session.add(
        PredictionChange(
            shipment_id=shipment.id,
            recorded_at=datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
            p_late=0.2,
            risk_state="on_track",
            eta_p90=before,
        )
    )
    add_event(shipment, datetime(2026, 11, 24, 6, 0, tzinfo=UTC), "in_transit", reason="carrier_delay")
    shipment.events[-1].location = "7093 TILLER, NO"
    shipment.eta_p10 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    shipment.eta_p90 = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
    shipment.last_checked_at = utcnow()
    shipment.p_late, shipment.risk_state = 0.9, "at_risk"
    db.session.add(
        PredictionChange(
            shipment_id=shipment.id,
            recorded_at=datetime(2026, 11, 24, 7, 0, tzinfo=UTC),
            p_late=0.9,
            risk_state="at_risk",
            eta_p90=shipment.eta_p90,
        )
    )
    queue_tracking_changes(shipment, previous_status=None, previous_risk_state="on_track", now=utcnow())
    db.session.commit()
    (delay,) = db.session.scalars(select(Notification).where(Notification.trigger == "predicted_delay"))
    words = describe_change(2, locale="nb_NO", cause=Cause.DELAY, place="Tiller")
    assert words == "Anslaget vårt er flyttet to dager senere: transportøren meldte om forsinkelse i Tiller."
    assert words in delay.body_text and words in delay.body_html

    delay.state = "sent"
    shipment.eta_p10, shipment.eta_p90 = before - timedelta(hours=5), before
    shipment.p_late, shipment.risk_state = 0.05, "on_track"
    db.session.add(
        PredictionChange(
            shipment_id=shipment.id,
            recorded_at=datetime(2026, 11, 24, 12, 0, tzinfo=UTC),
            p_late=0.05,
            risk_state="on_track",
            eta_p90=before,
        )
    )
    queue_tracking_changes(shipment, previous_status=None, previous_risk_state="at_risk", now=utcnow())
    db.session.commit()
    (back,) = db.session.scalars(select(Notification).where(Notification.trigger == "back_on_track"))
    assert "Anslaget vårt er flyttet to dager tidligere." in back.body_text
