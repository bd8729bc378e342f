"""Customers' links are opaque and expire: tracking links some time after the parcel (and its claims)
finished, unsubscribe links a year after sending; links of the old kind keep working under the same rules."""

from __future__ import annotations

import base64
import binascii
import contextlib
from datetime import UTC, datetime, timedelta

import pytest
from itsdangerous import URLSafeSerializer

from app.claims.service import ClaimCandidate, open_claim
from app.extensions import db, limiter
from app.models import ClaimKind, ClaimState, Shipment, Shop, Unsubscribe
from app.models.types import use_clock, utcnow
from app.notify.links import tracking_url, unsubscribe_url
from tests.factories import make_shipment, make_shop

HTML = {"Accept": "text/html"}
SHIPMENT_ID = 987654321


@pytest.fixture(autouse=True)
def _fresh_limits(app):
    limiter.reset()
    yield
    limiter.reset()
    use_clock(None)


def _parcel(delivered_days_ago: float | None = None, **overrides) -> Shipment:
    shop, _ = make_shop("Fjord Sko")
    values = {
        "id": SHIPMENT_ID,
        "tracking_number": "TRACK123NO",
        "status": "in_transit",
        "customer_email": "kari@example.no",
        "customer_language": "nb",
        "destination_postcode": "0150",
    }
    if delivered_days_ago is not None:
        delivered = utcnow() - timedelta(days=delivered_days_ago)
        values.update(status="delivered", delivered_at=delivered, last_event_at=delivered)
    values.update(overrides)
    return make_shipment(shop, **values)


def _path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def _decodings(token: str) -> list[bytes]:
    """Every way a part of the token could be read: as it is, and each dot-separated segment base64-decoded."""
    found = [token.encode()]
    for segment in token.split("."):
        with contextlib.suppress(binascii.Error, ValueError):
            found.append(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    return found


def test_links_do_not_carry_the_shipment_id_in_any_readable_form(app) -> None:
    shipment = _parcel()
    for url in (tracking_url(app.config, shipment.id), unsubscribe_url(app.config, shipment.id, "email")):
        token = url.rsplit("/", 1)[1]
        assert [d for d in _decodings(token) if str(SHIPMENT_ID).encode() in d] == [], url
    other = make_shipment(db.session.get(Shop, shipment.shop_id), tracking_number="OTHER1")
    assert tracking_url(app.config, other.id) != tracking_url(app.config, shipment.id)


@pytest.mark.parametrize(("days", "expired"), [(None, False), (89, False), (91, True)])
def test_a_tracking_link_expires_some_time_after_delivery(app, client, days, expired) -> None:
    shipment = _parcel(delivered_days_ago=days)
    page = client.get(_path(tracking_url(app.config, shipment.id)), headers=HTML)
    text = page.get_data(as_text=True)
    if not expired:
        assert page.status_code == 200 and "TRACK123NO" in text
        return
    assert page.status_code == 410
    assert "<h1>Denne sporingslenken er utløpt</h1>" in text  # in the customer's language
    assert 'action="/track' in text and 'name="tracking_number"' in text and 'name="postcode"' in text
    assert "TRACK123NO" not in text and "Fjord Sko" not in text
    # verifying the postcode on the expired link does not bring it back; the number + postcode lookup does
    assert (
        client.post(
            f"{_path(tracking_url(app.config, shipment.id))}/verify", data={"postcode": "0150"}
        ).status_code
        == 410
    )
    found = client.post("/track", data={"tracking_number": "TRACK123NO", "postcode": "0150"})
    assert found.status_code == 302
    assert "TRACK123NO" in client.get(found.headers["Location"], headers=HTML).get_data(as_text=True)


def test_the_expiry_is_configurable_and_an_open_claim_keeps_the_link(app, client) -> None:
    shipment = _parcel(delivered_days_ago=30)
    path = _path(tracking_url(app.config, shipment.id))
    app.config["TRACKING_LINK_DAYS"] = 20
    assert client.get(path, headers=HTML).status_code == 410
    claim = open_claim(ClaimCandidate(shipment, ClaimKind.DAMAGED, "customer", {}), actor="customer")
    db.session.commit()
    assert client.get(path, headers=HTML).status_code == 200
    claim.state, claim.closed_at = ClaimState.CLOSED, utcnow() - timedelta(days=21)
    db.session.commit()
    assert client.get(path, headers=HTML).status_code == 410


def test_a_new_link_token_revokes_the_links_sent(app, client) -> None:
    shipment = _parcel()
    tracking, unsubscribe = (
        tracking_url(app.config, shipment.id),
        unsubscribe_url(app.config, shipment.id, "email"),
    )
    shipment.link_token = "revoked-and-replaced-token"
    db.session.commit()
    assert client.get(_path(tracking), headers=HTML).status_code == 404
    assert client.get(_path(unsubscribe)).status_code == 404


def test_an_unsubscribe_link_works_for_a_year_after_sending(app, client) -> None:
    shipment = _parcel(delivered_days_ago=200)
    path = _path(unsubscribe_url(app.config, shipment.id, "email"))
    assert client.get(path).status_code == 200  # long after the tracking link expired
    later = utcnow() + timedelta(days=366)
    use_clock(lambda: later)
    assert client.get(path).status_code == 404
    assert client.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 404
    use_clock(None)
    assert client.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert db.session.query(Unsubscribe).count() == 1


def test_links_of_the_old_kind_keep_working_until_they_expire(app, client) -> None:
    shipment = _parcel(delivered_days_ago=10)
    secret = app.config["SECRET_KEY"]
    tracking = "/t/" + URLSafeSerializer(secret, salt="leveranse.tracking").dumps(shipment.id)
    unsubscribe = "/u/" + URLSafeSerializer(secret, salt="leveranse.unsubscribe").dumps(
        [shipment.id, "email"]
    )
    assert client.get(tracking, headers=HTML).status_code == 200
    assert client.get(unsubscribe).status_code == 200
    shipment.delivered_at = shipment.last_event_at = datetime.now(UTC) - timedelta(days=100)
    db.session.commit()
    assert client.get(tracking, headers=HTML).status_code == 410
    assert client.get(unsubscribe).status_code == 200
    shipment.delivered_at = shipment.last_event_at = datetime.now(UTC) - timedelta(days=400)
    db.session.commit()
    assert client.get(unsubscribe).status_code == 404
    forged = "/t/" + URLSafeSerializer("another key", salt="leveranse.tracking").dumps(shipment.id)
    assert client.get(forged, headers=HTML).status_code == 404
