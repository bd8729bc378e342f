"""The notification API: webhook endpoints, test events, deliveries and replay, settings, preferences."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import Notification, WebhookEndpoint
from app.notify.enqueue import Change, queue_change
from notifications.model import Trigger
from notifications.webhook_sandbox import Scripted
from tests.factories import make_shipment


def _create(client, auth, url: str, **extra):
    return client.post("/api/v1/webhook-endpoints", json={"url": url, **extra}, headers=auth)


def test_endpoint_lifecycle_with_test_event_and_rotation(client, auth, webhook_receiver) -> None:
    created = _create(
        client, auth, webhook_receiver.endpoint, description="orders", event_types=["shipment.delivered"]
    )
    assert created.status_code == 201
    body = created.get_json()
    assert body["secret"].startswith("whsec_") and len(body["secret"]) == 49
    assert (body["url"], body["event_types"], body["enabled"]) == (
        webhook_receiver.endpoint,
        ["shipment.delivered"],
        True,
    )
    webhook_receiver.secrets = (body["secret"],)
    endpoint_id = body["id"]

    listed = client.get("/api/v1/webhook-endpoints", headers=auth).get_json()
    assert [e["id"] for e in listed] == [endpoint_id] and "secret" not in listed[0]

    tested = client.post(f"/api/v1/webhook-endpoints/{endpoint_id}/test", headers=auth).get_json()
    assert tested["delivered"] is True
    assert webhook_receiver.events[0].payload["type"] == "webhook.test"
    assert webhook_receiver.events[0].event_id == tested["delivery"]["event_id"]

    rotated = client.post(f"/api/v1/webhook-endpoints/{endpoint_id}/rotate-secret", json={}, headers=auth)
    new_secret = rotated.get_json()["secret"]
    assert new_secret != body["secret"]
    expires = datetime.fromisoformat(rotated.get_json()["previous_secret_expires_at"])
    assert timedelta(hours=23, minutes=59) < expires - datetime.now(UTC) <= timedelta(hours=24)
    # The shop has not switched yet: the old secret still verifies during the overlap.
    assert client.post(f"/api/v1/webhook-endpoints/{endpoint_id}/test", headers=auth).get_json()["delivered"]

    patched = client.patch(
        f"/api/v1/webhook-endpoints/{endpoint_id}",
        json={"enabled": False, "description": "off"},
        headers=auth,
    )
    assert (patched.get_json()["enabled"], patched.get_json()["description"]) == (False, "off")
    assert client.delete(f"/api/v1/webhook-endpoints/{endpoint_id}", headers=auth).status_code == 204
    assert client.get(f"/api/v1/webhook-endpoints/{endpoint_id}", headers=auth).status_code == 404


def test_ssrf_guard_refuses_private_urls_in_production(app, client, auth) -> None:
    app.config["WEBHOOKS_ALLOW_PRIVATE"] = False
    for url in ("http://127.0.0.1:8080/hook", "http://169.254.169.254/latest", "http://10.0.0.7/x"):
        response = _create(client, auth, url)
        assert response.status_code == 422
        assert list(response.get_json()["errors"]) == ["url"]
        assert "is not a public address" in response.get_json()["errors"]["url"][0]
    bad = _create(client, auth, "ftp://example.com/x", event_types=["no.such"])
    assert bad.status_code == 422
    assert sorted(bad.get_json()["errors"]) == ["event_types", "url"]
    assert db.session.scalar(select(WebhookEndpoint)) is None


def test_deliveries_list_and_replay_of_a_dead_letter(client, auth, shop_key, webhook_receiver) -> None:
    endpoint_id = _create(client, auth, webhook_receiver.endpoint).get_json()["id"]
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    webhook_receiver.secrets = (endpoint.secret,)
    shipment = make_shipment(shop_key[0])
    webhook_receiver.fail_next(Scripted(400))
    queue_change(shipment, Change(Trigger.SHIPPED, "1", {}))
    db.session.commit()
    from app.notify.dispatch import dispatch_due

    assert dispatch_due().dead == 1
    page = client.get(
        f"/api/v1/webhook-endpoints/{endpoint_id}/deliveries?state=dead", headers=auth
    ).get_json()
    assert page["total"] == 1
    [delivery] = page["items"]
    assert (delivery["event_type"], delivery["state"], delivery["attempts"]) == (
        "shipment.shipped",
        "dead",
        1,
    )
    assert [(a["number"], a["outcome"], a["error_kind"]) for a in delivery["attempt_history"]] == [
        (1, "dead", "rejected")
    ]
    replayed = client.post(
        f"/api/v1/webhook-endpoints/{endpoint_id}/deliveries/{delivery['id']}/replay", headers=auth
    )
    assert (replayed.status_code, replayed.get_json()["state"], replayed.get_json()["attempts"]) == (
        202,
        "pending",
        0,
    )
    again = client.post(
        f"/api/v1/webhook-endpoints/{endpoint_id}/deliveries/{delivery['id']}/replay", headers=auth
    )
    assert again.status_code == 409
    assert dispatch_due().sent == 1
    assert [e.event_id for e in webhook_receiver.events] == [delivery["event_id"]]


def test_shop_settings_and_customer_preferences(client, auth, shop_key) -> None:
    defaults = client.get("/api/v1/notification-settings", headers=auth).get_json()
    assert (defaults["channels"], defaults["quiet_start"], defaults["quiet_end"]) == (
        ["email"],
        "21:00",
        "08:00",
    )
    assert defaults["urgent_triggers"] == ["arriving_soon", "out_for_delivery"]
    changed = client.put(
        "/api/v1/notification-settings",
        json={"channels": ["email", "sms"], "triggers": ["delivered"], "quiet_start": "22:30"},
        headers=auth,
    ).get_json()
    assert (changed["channels"], changed["triggers"], changed["quiet_start"]) == (
        ["email", "sms"],
        ["delivered"],
        "22:30",
    )
    bad = client.put(
        "/api/v1/notification-settings", json={"quiet_end": "25:00", "channels": ["fax"]}, headers=auth
    )
    assert bad.status_code == 422 and sorted(bad.get_json()["errors"]) == ["channels", "quiet_end"]

    shipment = make_shipment(shop_key[0], customer_email="kari@example.no")
    url = f"/api/v1/shipments/{shipment.id}/notification-preferences"
    assert client.get(url, headers=auth).get_json() == {
        "channels": None,
        "language": None,
        "quiet_start": None,
        "quiet_end": None,
        "unsubscribed": [],
    }
    saved = client.put(url, json={"channels": [], "language": "th"}, headers=auth).get_json()
    assert (saved["channels"], saved["language"]) == ([], "th")
    assert client.put(url, json={"quiet_start": "20:00"}, headers=auth).status_code == 422
    assert client.put(url, json={"language": "xx"}, headers=auth).status_code == 422
    queue_change(shipment, Change(Trigger.DELIVERED, "1", {"delivered_at": datetime.now(UTC)}))
    db.session.commit()
    assert db.session.scalar(select(Notification)) is None  # the customer chose no messages
    assert client.get("/api/v1/shipments/999999/notification-preferences", headers=auth).status_code == 404
