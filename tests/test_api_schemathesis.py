"""Schemathesis against the served OpenAPI document: every operation gets generated requests (valid and
invalid ones) with a valid API key, against a shop that has a fleet, a shipment, a claim, a reservation
and a webhook endpoint. Every answer must be no server error and have a documented status code, content
type and body shape.

Bounded for `make test`: few examples per operation, no shrinking beyond Hypothesis' defaults, and
derandomized, so a failure reproduces on every run and on both databases."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.config import SchemathesisConfig
from sqlalchemy import select

from app import create_app
from app.config import TestConfig
from app.demo.fleet import create_fleet
from app.extensions import db
from app.models import CarrierService, Shop
from planning.calendar import holiday_name
from planning.geo_sandbox import GeocoderSandbox
from tests.factories import make_shipment

OPENAPI_PATH = "/api/v1/openapi.json"
EXAMPLES = 25
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
CONFIG = SchemathesisConfig.from_dict(
    {
        "generation": {"mode": "all", "max-examples": EXAMPLES, "deterministic": True},
        "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
    }
)
# The document only; each test sends its requests to the `app` fixture and its freshly emptied database.
schema = schemathesis.openapi.from_wsgi(
    OPENAPI_PATH, create_app(TestConfig, SQLALCHEMY_DATABASE_URI="sqlite://"), config=CONFIG
)
# A fleet's child resources, by the path segment before `{item_id}`.
CHILDREN = ("vehicles", "zones", "slot-templates", "closures")


@pytest.fixture(scope="module")
def gazetteer():
    with GeocoderSandbox() as server:
        yield server


def delivery_day():
    """A day two or more days ahead that is no Norwegian public holiday."""
    day = datetime.now(ZoneInfo("Europe/Oslo")).date() + timedelta(days=2)
    while holiday_name(day, "NO"):
        day += timedelta(days=1)
    return day


@pytest.fixture
def seeded(app, shop_key, auth, gazetteer, webhook_receiver) -> dict:
    """One of everything the API names in its paths; returns the path parameters naming them."""
    app.config["GEOCODER_URL"] = gazetteer.url
    client = app.test_client()
    shop = db.session.get(Shop, shop_key[0].id)
    depot = create_fleet(shop, vans=2, slot_capacity=5)
    db.session.commit()
    shipment = make_shipment(
        shop,
        carrier="ups",
        tracking_number="1Z999AA10123456784",
        declared_value=Decimal("249.90"),
        currency="NOK",
        weight_kg=Decimal("1.250"),
        order_ref="A-1",
    )

    def post(path: str, body: dict) -> dict:
        response = client.post(f"/api/v1{path}", json=body, headers=auth)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    endpoint = post("/webhook-endpoints", {"url": f"{webhook_receiver.url}/webhooks"})
    claim = post("/claims", {"shipment_id": shipment.id, "kind": "lost"})
    hold = {"template_id": depot.templates[1].id, "date": delivery_day().isoformat()}
    reservation = post(
        "/reservations", {**hold, "coordinates": {"lat": 59.92, "lon": 10.76}, "parcel": {"weight_kg": 4.2}}
    )
    closure = post(f"/depots/{depot.id}/closures", {"day": (delivery_day() + timedelta(days=30)).isoformat()})
    return {
        "shipment_id": shipment.id,
        "depot_id": depot.id,
        "service_id": db.session.scalar(select(CarrierService.id).where(CarrierService.depot_id == depot.id)),
        "endpoint_id": endpoint["id"],
        "reference": claim["reference"],
        "public_id": reservation["id"],
        "vehicles": depot.vehicles[0].id,
        "zones": depot.zones[0].id,
        "slot-templates": depot.templates[0].id,
        "closures": closure["id"],
    }


def aim(case, seeded: dict) -> None:
    """Point about half the generated path parameters at seeded rows, so that operations on existing
    things run too (random ids almost never name one)."""
    for name, value in case.path_parameters.items():
        key = next((c for c in CHILDREN if f"/{c}/" in case.path), name) if name == "item_id" else name
        if seeded.get(key) is not None and len(str(value)) % 2 == 0:
            case.path_parameters[name] = seeded[key]


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_document(case, app, auth, seeded) -> None:
    aim(case, seeded)
    case.call_and_validate(app=app, headers=auth, checks=CHECKS)
