"""Pickup points: parsed from each carrier that describes one, kept on the shipment, served by the sandbox
carriers in their own formats, and shown on the tracking page (address and map after the postcode check
when the point is in the customer's own postcode)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.extensions import db, limiter
from app.models import Notification, Shipment
from app.notify.links import tracking_url
from app.tracking.updates import process_updates
from carriers.base import CarrierSettings
from carriers.model import PickupPoint, Status
from carriers.numbers import make_tracking_number
from carriers.registry import CARRIERS, PARSERS
from carriers.sandbox.places import ROUTES
from carriers.serialize import pickup_to_dict
from tests.factories import add_event, make_shipment, make_shop

FIXTURES = Path(__file__).parent / "fixtures" / "carriers"
HTML = {"Accept": "text/html"}
SOLSIDEN = PickupPoint(
    name="Coop Extra Solsiden",
    point_id="122608",
    postcode="7014",
    city="TRONDHEIM",
    country="NO",
    info_url="https://www.posten.no/kundeservice/postkontor-info?enhetsnr=122608",
    last_day=date(2025, 11, 24),
)


@pytest.mark.parametrize(
    ("carrier", "fixture", "expected"),
    [
        ("bring", "ready_for_pickup_at_expected_unit", SOLSIDEN),
        (
            "postnord",
            "available_at_service_point",
            PickupPoint(
                name="ICA KVANTUM HÖGSBO",
                point_id="571233",
                street="Ostindiegatan 2",
                postcode="42132",
                city="GÖTEBORG",
                country="SE",
            ),
        ),
        (
            "fedex",
            "held_at_location",
            PickupPoint(
                name="FedEx Office Print & Ship Center",
                point_id="BNAOF",
                street="401 Church St, Suite 100",
                postcode="37219",
                city="NASHVILLE",
                country="US",
            ),
        ),
        (
            "ups",
            "access_point",
            PickupPoint(
                name="",
                street="350 5th Ave",
                postcode="10118",
                city="NEW YORK",
                country="US",
                last_day=date(2025, 11, 21),
            ),
        ),
    ],
)
def test_each_carrier_s_pickup_point(carrier: str, fixture: str, expected: PickupPoint) -> None:
    (update,) = PARSERS[carrier]((FIXTURES / carrier / f"{fixture}.json").read_bytes())
    assert update.status is Status.AVAILABLE_FOR_PICKUP
    assert update.pickup_point == expected


def test_bring_names_no_point_when_the_parcel_waits_at_another_unit() -> None:
    payload = json.loads((FIXTURES / "bring" / "ready_for_pickup_at_expected_unit.json").read_text())
    payload["consignmentSet"][0]["packageSet"][0]["eventSet"][0]["unitId"] = "122999"
    (update,) = PARSERS["bring"](json.dumps(payload))
    assert update.pickup_point == PickupPoint(
        name="",
        point_id="122999",
        postcode="7014",
        city="TRONDHEIM",
        country="NO",
        last_day=date(2025, 11, 24),
    )


def test_a_home_delivery_has_no_pickup_point() -> None:
    (update,) = PARSERS["bring"]((FIXTURES / "bring" / "in_transit_customs.json").read_bytes())
    assert update.pickup_point is None


sandbox = pytest.importorskip("carriers.sandbox.server")
CREDENTIALS = {
    "api_uid": "sandbox@leveranse.test",
    "api_key": "sandbox-key",
    "client_id": "sandbox",
    "client_secret": "sandbox-secret",
}


@pytest.fixture(scope="module")
def server():
    with sandbox.SandboxServer() as running:
        yield running


@pytest.mark.parametrize("code", ["bring", "postnord", "fedex", "ups"])
def test_sandbox_carriers_serve_the_pickup_point_in_their_own_format(server, code: str) -> None:
    number = make_tracking_number(code, 7)
    # failed attempt at 43 h, at the pickup point from 52 h, collected at 75 h
    shipment = server.register(code, number, "failed_attempt_then_pickup", server.now() - timedelta(hours=60))
    settings = CarrierSettings(base_url=server.base_url(code), credentials=CREDENTIALS, rate_per_second=100.0)
    (update,) = CARRIERS[code](settings).track([number])
    place = shipment.route.pickup_point
    assert place in [route.pickup_point for route in ROUTES[code]]
    point = update.pickup_point
    assert update.status is Status.AVAILABLE_FOR_PICKUP
    assert (point.street, point.postcode, point.city) == (
        place.street if code != "bring" else "",
        place.postcode,
        place.city,
    )
    assert point.name == ("" if code == "ups" else place.name)
    assert (point.last_day is not None) == (code in ("bring", "ups"))
    assert point.info_url.startswith("https://www.posten.no/") == (code == "bring")


@pytest.fixture(autouse=True)
def _fresh_limits(app):
    limiter.reset()
    yield
    limiter.reset()


def _waiting(postcode: str) -> Shipment:
    shop, _ = make_shop("Fjord Sko")
    shipment = make_shipment(
        shop,
        status="available_for_pickup",
        customer_name="Kari Nordmann",
        customer_email="kari@example.no",
        customer_timezone="Europe/Oslo",
        destination_postcode=postcode,
        destination_country="NO",
        status_changed_at=datetime(2025, 11, 10, 9, 5, tzinfo=UTC),
        pickup_point=pickup_to_dict(SOLSIDEN),
    )
    add_event(shipment, datetime(2025, 11, 10, 9, 5, tzinfo=UTC), "available_for_pickup")
    return shipment


def _path(app, shipment: Shipment) -> str:
    return tracking_url(app.config, shipment.id).removeprefix(app.config["PUBLIC_BASE_URL"])


def test_the_page_shows_the_pickup_point_with_its_page_last_day_and_map(app, client) -> None:
    shipment = _waiting(postcode="7030")
    text = client.get(f"{_path(app, shipment)}?lang=en", headers=HTML).get_data(as_text=True)
    assert "<dt>Pickup point</dt><dd>Coop Extra Solsiden</dd>" in text
    assert "<dt>Address</dt><dd>7014 TRONDHEIM, Norway</dd>" in text
    assert "<dt>Collect it by</dt><dd>Monday 24 November</dd>" in text
    assert 'href="https://www.posten.no/kundeservice/postkontor-info?enhetsnr=122608"' in text
    assert (
        'href="https://www.openstreetmap.org/search?query=Coop+Extra+Solsiden%2C+7014+TRONDHEIM%2C+Norway"'
        in text
    )
    assert "<script" not in text and "<iframe" not in text and "<img" not in text
    nb = client.get(f"{_path(app, shipment)}?lang=nb", headers=HTML).get_data(as_text=True)
    assert "<dt>Adresse</dt><dd>7014 TRONDHEIM, Norge</dd>" in nb
    assert "Åpningstider og mer om hentestedet" in nb


def test_a_point_in_the_customer_s_postcode_shows_its_address_after_verification(app, client) -> None:
    shipment = _waiting(postcode="7014")
    path = _path(app, shipment)
    before = client.get(path, headers=HTML).get_data(as_text=True)
    assert "<dd>Coop Extra Solsiden</dd>" in before
    assert "7014" not in before and "openstreetmap" not in before
    assert "Enter the delivery postcode below to see the address and a map." in before
    client.post(f"{path}/verify", data={"postcode": "7014"}, headers=HTML)
    after = client.get(path, headers=HTML).get_data(as_text=True)
    assert "<dt>Address</dt><dd>7014 TRONDHEIM, Norway</dd>" in after and "openstreetmap.org/search" in after


def test_a_parcel_on_its_way_to_a_pickup_point_shows_where_it_goes(app, client) -> None:
    shop, _ = make_shop()
    expected = PickupPoint(name="Spar Dokka", point_id="122950", country="NO")
    shipment = make_shipment(shop, status="in_transit", pickup_point=pickup_to_dict(expected))
    text = client.get(_path(app, shipment), headers=HTML).get_data(as_text=True)
    assert "Your parcel goes to a pickup point" in text and "<dd>Spar Dokka</dd>" in text
    assert "Collect it by" not in text


def test_ingest_keeps_the_point_and_the_message_names_its_address_and_last_day(app) -> None:
    app.config["EXPIRE_AFTER_DAYS"] = 100_000  # the fixture's scans are from 2025
    shop, _ = make_shop()
    shipment = make_shipment(
        shop, status="in_transit", customer_email="kari@example.no", customer_language="en"
    )
    (update,) = PARSERS["bring"]((FIXTURES / "bring" / "ready_for_pickup_at_expected_unit.json").read_bytes())
    process_updates([(shipment, update)], source="poll")
    db.session.commit()
    assert shipment.pickup_point == pickup_to_dict(SOLSIDEN)
    (message,) = db.session.scalars(
        select(Notification).where(
            Notification.trigger == "available_for_pickup", Notification.channel == "email"
        )
    )
    assert "waiting for you at Coop Extra Solsiden, 7014 TRONDHEIM." in message.body_text
    assert "Please collect it by Monday 24 November" in message.body_text
