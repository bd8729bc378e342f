"""Inbound EasyPost and AfterShip webhooks: verified on the raw body, fed to the same ingest path."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path

import pytest

from app.extensions import db
from carriers.aliases import carrier_code_for
from tests.factories import make_shipment, make_shop

FIXTURES = Path(__file__).parent / "fixtures" / "carriers"
EASYPOST = (FIXTURES / "easypost" / "webhook_delivered_out_of_order.json").read_bytes()
AFTERSHIP = (FIXTURES / "aftership" / "webhook_returned.json").read_bytes()


def _easypost_headers(body: bytes, secret: str) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hmac-Signature": f"hmac-sha256-hex={digest}", "Content-Type": "application/json"}


def _aftership_headers(body: bytes, secret: str) -> dict[str, str]:
    digest = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    return {"Aftership-Hmac-Sha256": digest, "Content-Type": "application/json"}


def _number(body: bytes, provider: str) -> str:
    payload = json.loads(body)
    return payload["result"]["tracking_code"] if provider == "easypost" else payload["msg"]["tracking_number"]


@pytest.mark.parametrize(
    ("provider", "body", "sign", "carrier"),
    [("easypost", EASYPOST, _easypost_headers, "ups"), ("aftership", AFTERSHIP, _aftership_headers, None)],
)
def test_signed_webhook_updates_the_watched_shipment_once(client, app, provider, body, sign, carrier) -> None:
    shop, _ = make_shop()
    number = _number(body, provider)
    payload_carrier = carrier or carrier_code_for(json.loads(body)["msg"]["slug"]) or "ups"
    shipment = make_shipment(shop, carrier=payload_carrier, tracking_number=number)
    secret = app.config[f"{provider.upper()}_WEBHOOK_SECRET"]
    first = client.post(f"/webhooks/carriers/{provider}", data=body, headers=sign(body, secret))
    again = client.post(f"/webhooks/carriers/{provider}", data=body, headers=sign(body, secret))
    assert first.status_code == 200, first.json
    assert first.json["matched"] == 1 and first.json["new_events"] > 0
    assert again.json["new_events"] == 0
    db.session.refresh(shipment)
    assert shipment.last_checked_at is not None
    assert shipment.status != "pending"


@pytest.mark.parametrize("provider", ["easypost", "aftership"])
def test_bad_signature_is_refused_and_changes_nothing(client, provider) -> None:
    shop, _ = make_shop()
    body = EASYPOST if provider == "easypost" else AFTERSHIP
    shipment = make_shipment(shop, carrier="ups", tracking_number=_number(body, provider))
    sign = _easypost_headers if provider == "easypost" else _aftership_headers
    for headers in (sign(body, "wrong-secret"), {"Content-Type": "application/json"}):
        response = client.post(f"/webhooks/carriers/{provider}", data=body, headers=headers)
        assert response.status_code == 401
        assert response.mimetype == "application/problem+json"
    db.session.refresh(shipment)
    assert shipment.status == "pending"


def test_signed_but_malformed_payload_is_a_422(client, app) -> None:
    body = b"[1, 2]"
    response = client.post(
        "/webhooks/carriers/easypost",
        data=body,
        headers=_easypost_headers(body, app.config["EASYPOST_WEBHOOK_SECRET"]),
    )
    assert response.status_code == 422
    assert response.json["type"].endswith("malformed")


def test_unknown_provider_is_404(client) -> None:
    assert client.post("/webhooks/carriers/nope", data=b"{}").status_code == 404


def test_aggregator_names_map_to_our_carrier_codes() -> None:
    assert [
        carrier_code_for(n)
        for n in ("UPS", "FedEx", "thailand-post", "DHLExpress", "posten-norge", "TNT", None)
    ] == [
        "ups",
        "fedex",
        "thailandpost",
        "dhl",
        "bring",
        None,
        None,
    ]
