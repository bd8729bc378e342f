"""The staff outbox viewer and the customer's one-click unsubscribe."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from app.extensions import db
from app.models import Notification, Role, Unsubscribe
from app.notify.enqueue import Change, queue_change
from notifications.model import Trigger
from tests.factories import PASSWORD, make_shipment, make_shop, make_staff

CUSTOMER = {"customer_email": "kari@example.no", "customer_language": "da", "customer_timezone": "UTC"}
URGENT = Change(Trigger.OUT_FOR_DELIVERY, "2026-11-23", {})


def _login(client, role: Role = Role.VIEWER) -> None:
    make_staff(role=role)
    client.post("/staff/login", data={"email": "ops@shop.test", "password": PASSWORD})


def test_viewer_lists_filters_and_shows_rendered_content(client) -> None:
    shop, _ = make_shop("Fjellsport")
    shipment = make_shipment(shop, **CUSTOMER)
    queue_change(shipment, URGENT)
    queue_change(
        shipment, Change(Trigger.CLAIM_OPENED, "CL-9:1", {"claim_reference": "CL-9", "claim_reason": "lost"})
    )
    db.session.commit()
    assert client.get("/staff/outbox/").status_code == 302
    _login(client)
    page = client.get("/staff/outbox/?trigger=claim_opened").get_data(as_text=True)
    assert "1 message<" in page and "claim opened" in page and "out for delivery</td>" not in page
    row = db.session.scalar(select(Notification).where(Notification.trigger == "claim_opened"))
    detail = client.get(f"/staff/outbox/{row.id}").get_data(as_text=True)
    assert row.dedupe_key in detail and row.subject in detail
    assert "CL-9" in detail and 'sandbox srcdoc="' in detail and "Not attempted yet." in detail
    assert "Send again" not in detail  # pending, and a viewer may not replay
    assert client.get("/staff/outbox/?state=sent").get_data(as_text=True).count("No messages match.") == 1


def test_unsubscribe_page_then_one_click_post_cancels_pending(client) -> None:
    shop, _ = make_shop("Fjellsport")
    shipment = make_shipment(shop, **CUSTOMER)
    queue_change(shipment, URGENT)
    db.session.commit()
    row = db.session.scalar(select(Notification))
    path = row.unsubscribe_url.removeprefix("https://track.example.test")
    page = client.get(path).get_data(as_text=True)
    # the customer reads Danish
    assert "Stop e-mails om leveringer fra Fjellsport til k***@example.no?" in page
    assert db.session.scalar(select(Unsubscribe)) is None
    one_click = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == 200
    assert client.post(path).status_code == 200  # again, from the page: still one row
    [unsubscribe] = db.session.scalars(select(Unsubscribe)).all()
    assert (unsubscribe.channel, unsubscribe.address, unsubscribe.source) == (
        "email",
        "kari@example.no",
        "one-click",
    )
    db.session.refresh(row)
    assert (row.state, row.last_error) == ("cancelled", "the recipient unsubscribed")
    queue_change(shipment, Change(Trigger.DELIVERED, "1", {"delivered_at": datetime.now(UTC)}))
    db.session.commit()
    assert db.session.scalar(select(Notification).where(Notification.trigger == "delivered")) is None
    assert client.get(path[:-3] + "xyz").status_code == 404
