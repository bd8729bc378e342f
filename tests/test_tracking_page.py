"""The customer tracking page: signed links, postcode verification, enumeration-safe lookup, rate limits,
preferences through the API's validation, and the page language."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db, limiter
from app.models import CustomerPreference, Shipment, TrackingEvent
from app.models.types import utcnow
from app.notify.links import tracking_url, unsubscribe_url
from tests.factories import make_shipment, make_shop

HTML = {"Accept": "text/html"}
PERSONAL = ("Kari Nordmann", "kari@example.no", "+4791234567", "ORDER-77", "0150")


@pytest.fixture(autouse=True)
def _fresh_limits(app):
    limiter.reset()
    yield
    limiter.reset()


def _parcel(**overrides) -> Shipment:
    shop, _ = make_shop("Fjord Sko")
    values = {
        "tracking_number": "TRACK123NO",
        "status": "in_transit",
        "customer_name": "Kari Nordmann",
        "customer_email": "kari@example.no",
        "customer_phone": "+4791234567",
        "customer_timezone": "Europe/Oslo",
        "order_ref": "ORDER-77",
        "destination_postcode": "0150",
        "destination_country": "NO",
        "last_checked_at": utcnow() - timedelta(minutes=12),
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
            description="Sorted at the terminal",
            location="Oslo",
            source="poll",
            content_hash="h1",
        )
    )
    db.session.commit()
    return shipment


def _path(app, shipment: Shipment) -> str:
    return tracking_url(app.config, shipment.id).removeprefix(app.config["PUBLIC_BASE_URL"])


def _counts() -> tuple[int, int]:
    return (
        db.session.scalar(select(func.count()).select_from(Shipment)),
        db.session.scalar(select(func.count()).select_from(CustomerPreference)),
    )


def test_the_link_in_messages_shows_the_parcel_without_personal_data(app, client) -> None:
    shipment = _parcel()
    page = client.get(_path(app, shipment), headers=HTML)
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<html lang="en">' in text
    assert "Your parcel is on its way" in text
    assert "Bring" in text and "TRACK123NO" in text
    # the predicted window (25 November) has passed without a delivery: the page says so, not a stale date
    assert "Your parcel is taking longer than we expected." in text
    assert "Last checked 12 minutes ago." in text
    assert '<time datetime="2026-11-24T07:05:00+00:00">24 Nov 2026 08:05</time>' in text
    assert "Times are shown in Europe/Oslo time." in text
    assert '<li class="current" aria-current="step">' in text
    assert [value for value in PERSONAL if value in text] == []


@pytest.mark.parametrize("kind", ["tampered", "unsubscribe-token", "deleted"])
def test_bad_links_get_a_friendly_404(app, client, kind: str) -> None:
    shipment = _parcel()
    path = _path(app, shipment)
    if kind == "tampered":
        path = path[:-2] + ("AA" if not path.endswith("AA") else "BB")
    elif kind == "unsubscribe-token":
        path = "/t/" + unsubscribe_url(app.config, shipment.id, "email").rsplit("/", 1)[1]
    else:
        shipment.deleted_at = utcnow()
        db.session.commit()
    page = client.get(path, headers=HTML)
    assert page.status_code == 404
    assert "<h1>Parcel not found</h1>" in page.get_data(as_text=True)


def test_the_destination_postcode_unlocks_the_details(app, client) -> None:
    shipment = _parcel(destination_postcode="SW1A 1AA", destination_country="GB")
    path = _path(app, shipment)
    wrong = client.post(f"{path}/verify", data={"postcode": "SW1A 2AA"}, headers=HTML)
    assert wrong.status_code == 400
    assert "That postcode does not match this parcel." in wrong.get_data(as_text=True)
    assert "Kari Nordmann" not in client.get(path, headers=HTML).get_data(as_text=True)

    right = client.post(f"{path}/verify", data={"postcode": " sw1a-1aa "}, headers=HTML)
    assert (right.status_code, right.headers["Location"]) == (302, path)
    text = client.get(path, headers=HTML).get_data(as_text=True)
    assert "<dd>Kari Nordmann</dd>" in text
    assert "<dd>SW1A 1AA, United Kingdom</dd>" in text
    assert "<dd>ORDER-77</dd>" in text
    assert "Your notification choices" in text
    assert "Kari Nordmann" not in app.test_client().get(path, headers=HTML).get_data(as_text=True)


def test_a_shipment_without_a_postcode_cannot_be_verified(app, client) -> None:
    shipment = _parcel(destination_postcode=None)
    response = client.post(f"{_path(app, shipment)}/verify", data={"postcode": ""}, headers=HTML)
    assert response.status_code == 400
    assert "Kari Nordmann" not in response.get_data(as_text=True)


def test_lookup_does_not_tell_unknown_numbers_from_wrong_postcodes(app, client) -> None:
    shipment = _parcel()
    before = _counts()
    unknown = client.post("/track", data={"tracking_number": "NOPE00000X", "postcode": "0151"}, headers=HTML)
    wrong = client.post("/track", data={"tracking_number": "TRACK123NO", "postcode": "0151"}, headers=HTML)
    assert unknown.status_code == wrong.status_code == 404
    assert unknown.get_data().replace(b"NOPE00000X", b"TRACK123NO") == wrong.get_data()
    assert "We could not find a parcel with that tracking number and postcode." in wrong.get_data(
        as_text=True
    )
    assert "Kari" not in wrong.get_data(as_text=True)
    assert _counts() == before

    found = client.post("/track", data={"tracking_number": " track123no ", "postcode": "0150"}, headers=HTML)
    assert (found.status_code, found.headers["Location"]) == (302, _path(app, shipment))
    assert "<dd>Kari Nordmann</dd>" in client.get(_path(app, shipment), headers=HTML).get_data(as_text=True)
    assert _counts() == before


def test_lookups_and_verifications_are_rate_limited(app, client) -> None:
    app.config.update(TRACKING_LOOKUP_RATE_LIMIT="3 per minute", TRACKING_VERIFY_RATE_LIMIT="2 per minute")
    shipment = _parcel()
    codes = [
        client.post("/track", data={"tracking_number": "X", "postcode": "1"}, headers=HTML).status_code
        for _ in range(4)
    ]
    assert codes == [404, 404, 404, 429]
    blocked = client.post("/track", data={"tracking_number": "TRACK123NO", "postcode": "0150"}, headers=HTML)
    assert blocked.status_code == 429
    assert "<h1>Too many attempts</h1>" in blocked.get_data(as_text=True)
    assert client.get("/track", headers=HTML).status_code == 200  # the form itself is not limited

    path = _path(app, shipment)
    codes = [client.post(f"{path}/verify", data={"postcode": "1"}).status_code for _ in range(2)]
    assert codes == [400, 400]
    assert client.post(f"{path}/verify", data={"postcode": "0150"}).status_code == 429
    assert "Kari Nordmann" not in client.get(path, headers=HTML).get_data(as_text=True)


def _verified(app, client, **overrides) -> tuple[Shipment, str]:
    shipment = _parcel(**overrides)
    path = _path(app, shipment)
    assert client.post(f"{path}/verify", data={"postcode": "0150"}).status_code == 302
    return shipment, path


def test_preferences_need_verification(app, client) -> None:
    shipment = _parcel()
    form = {"channels": "none", "language": "en", "quiet_start": "", "quiet_end": ""}
    assert client.post(f"{_path(app, shipment)}/preferences", data=form, headers=HTML).status_code == 403
    assert db.session.get(CustomerPreference, shipment.id) is None


def test_preferences_are_saved_like_the_api_saves_them(app, client) -> None:
    shipment, path = _verified(app, client)
    form = {"channels": "email+sms", "language": "da", "quiet_start": "22:00", "quiet_end": "07:30"}
    saved = client.post(f"{path}/preferences", data=form, headers=HTML)
    assert (saved.status_code, saved.headers["Location"]) == (302, path)
    preference = db.session.get(CustomerPreference, shipment.id)
    assert (preference.channels, preference.language, preference.quiet_start, preference.quiet_end) == (
        ["email", "sms"],
        "da",
        time(22, 0),
        time(7, 30),
    )
    text = client.get(path, headers=HTML).get_data(as_text=True)
    assert '<html lang="da">' in text
    assert 'checked id="channels-2" name="channels" type="radio" value="email+sms"' in text
    assert '<option lang="da" selected value="da">Dansk</option>' in text
    assert 'value="22:00"' in text and 'value="07:30"' in text

    cleared = {"channels": "none", "language": "en", "quiet_start": "", "quiet_end": ""}
    assert client.post(f"{path}/preferences", data=cleared).status_code == 302
    db.session.refresh(preference)
    assert (preference.channels, preference.language, preference.quiet_start, preference.quiet_end) == (
        [],
        "en",
        None,
        None,
    )


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"channels": "fax", "language": "en"}, "Choose one of the options."),
        ({"channels": "email", "language": "xx"}, "Choose one of the languages."),
        ({"channels": "email", "language": "en", "quiet_start": "25:00", "quiet_end": "07:00"}, "Use a time"),
        (
            {"channels": "email", "language": "en", "quiet_start": "22:00", "quiet_end": ""},
            "Give both the start and the end of the quiet hours, or neither.",
        ),
    ],
)
def test_bad_preferences_are_explained_and_change_nothing(app, client, form: dict, message: str) -> None:
    shipment, path = _verified(app, client)
    response = client.post(f"{path}/preferences", data={"quiet_start": "", "quiet_end": "", **form})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.get(CustomerPreference, shipment.id) is None


@pytest.mark.parametrize(
    ("overrides", "query", "accept", "expected"),
    [
        ({}, "?lang=th", "da", ("th", "พัสดุของคุณกำลังเดินทาง")),
        ({"customer_language": "nb"}, "", "da", ("nb", "Pakken din er på vei")),
        ({}, "", "da-DK,da;q=0.9,en;q=0.5", ("da", "Din pakke er på vej")),
        ({}, "", "fr-FR", ("en", "Your parcel is on its way")),
    ],
)
def test_the_page_language(app, client, overrides: dict, query: str, accept: str, expected: tuple) -> None:
    shipment = _parcel(**overrides)
    text = client.get(_path(app, shipment) + query, headers={**HTML, "Accept-Language": accept}).get_data(
        as_text=True
    )
    lang, words = expected
    assert f'<html lang="{lang}">' in text
    assert f'<h1 id="status-heading">{words}</h1>' in text
