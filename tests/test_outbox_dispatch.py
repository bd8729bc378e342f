"""The dispatcher against real local servers: SMTP (aiosmtpd), an SMS sandbox and a webhook webhook_receiver."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import DeliveryAttempt, Notification, Unsubscribe, WebhookEndpoint
from app.notify.dispatch import dispatch_due
from app.notify.enqueue import Change, queue_change
from app.notify.settings import default_settings
from notifications.email import message_id
from notifications.model import Trigger
from notifications.sms_sandbox import Failure
from notifications.webhook_sandbox import Scripted, WebhookSandbox
from tests.factories import SMS_ACCOUNT_SID, SMS_AUTH_TOKEN, WEBHOOK_SECRET, make_shipment, make_shop

CUSTOMER = {
    "customer_name": "Kari Nordmann",
    "customer_email": "kari@example.no",
    "customer_phone": "+4791234567",
    "customer_language": "nb",
    "customer_timezone": "UTC",
    "created_at": datetime(2026, 11, 23, 7, 0, tzinfo=UTC),
}
URGENT = Change(Trigger.OUT_FOR_DELIVERY, "2026-11-23", {})


@pytest.fixture
def inbox(app, smtp_server):
    """The SMTP server, configured as the app's mail server."""
    app.config.update(
        SMTP_HOST=smtp_server.host, SMTP_PORT=smtp_server.port, SMTP_FROM_ADDRESS="varsler@fjellsport.no"
    )
    return smtp_server


@pytest.fixture
def sms(app, sms_provider):
    """The SMS provider stand-in, configured as the app's provider."""
    app.config.update(
        SMS_BASE_URL=sms_provider.url, SMS_ACCOUNT_SID=SMS_ACCOUNT_SID, SMS_AUTH_TOKEN=SMS_AUTH_TOKEN
    )
    return sms_provider


def _shipment_with_endpoint(webhook_receiver: WebhookSandbox | None = None, channels=("email", "sms")):
    shop, _ = make_shop("Fjellsport")
    shipment = make_shipment(shop, **CUSTOMER)
    endpoint = None
    if webhook_receiver is not None:
        endpoint = WebhookEndpoint(shop_id=shop.id, url=webhook_receiver.endpoint, secret=WEBHOOK_SECRET)
        db.session.add(endpoint)
    from app.models import ShopNotificationSettings

    settings: ShopNotificationSettings = default_settings(shop.id)
    settings.channels = list(channels)
    db.session.add(settings)
    db.session.commit()
    return shipment, endpoint


def _row(channel: str) -> Notification:
    return db.session.scalar(select(Notification).where(Notification.channel == channel))


def test_sends_email_sms_and_webhook_and_records_them(inbox, sms, webhook_receiver) -> None:
    shipment, endpoint = _shipment_with_endpoint(webhook_receiver)
    assert queue_change(shipment, URGENT) == 3
    db.session.commit()
    stats = dispatch_due()
    assert (stats.claimed, stats.sent, stats.retried, stats.dead) == (3, 3, 0, 0)

    mail = _row("email")
    [(sender, recipients, raw)] = inbox.messages
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert (sender, recipients) == ("varsler@fjellsport.no", ["kari@example.no"])
    assert parsed["Message-ID"] == message_id(mail.dedupe_key, "fjellsport.no") == mail.provider_id
    assert parsed["List-Unsubscribe"].strip() == f"<{mail.unsubscribe_url}>"
    assert parsed["Subject"] == mail.subject
    assert [part.get_content_type() for part in parsed.iter_parts()] == ["text/plain", "text/html"]
    assert parsed.get_body(("plain",)).get_content().replace("\r\n", "\n") == mail.body_text

    text = _row("sms")
    [sent_sms] = sms.messages
    assert (sent_sms.to, sent_sms.body, sent_sms.sid) == ("+4791234567", text.body_text, text.provider_id)

    hook = _row("webhook")
    [event] = webhook_receiver.events
    assert (event.event_id, event.payload["type"], webhook_receiver.rejected) == (
        hook.event_id,
        "shipment.out_for_delivery",
        0,
    )
    assert event.payload["data"]["shipment"]["id"] == shipment.id
    for row in (mail, text, hook):
        assert (row.state, row.attempts, row.lease_until, row.last_error) == ("sent", 1, None, None)
        [attempt] = row.attempt_log
        assert (attempt.number, attempt.outcome, attempt.provider_id) == (1, "sent", row.provider_id)
    assert dispatch_due().claimed == 0


def test_retryable_failures_back_off_then_succeed(sms, webhook_receiver) -> None:
    shipment, _ = _shipment_with_endpoint(webhook_receiver, channels=("sms",))
    queue_change(shipment, URGENT)
    db.session.commit()
    webhook_receiver.fail_next(Scripted(503))
    sms.fail_next(Failure(429, retry_after=600))
    now = datetime.now(UTC)
    stats = dispatch_due(now=now)
    assert (stats.sent, stats.retried) == (0, 2)
    hook, text = _row("webhook"), _row("sms")
    assert hook.state == text.state == "pending"
    assert (
        timedelta(seconds=54)
        <= hook.next_attempt_at - hook.attempt_log[0].attempted_at
        <= timedelta(seconds=66)
    )
    assert text.next_attempt_at - text.attempt_log[0].attempted_at == timedelta(seconds=600)
    assert hook.last_error == 'server_error: HTTP 503: {"received": false}'
    assert dispatch_due(now=now + timedelta(seconds=30)).claimed == 0
    stats = dispatch_due(now=now + timedelta(minutes=11))
    assert (stats.claimed, stats.sent) == (2, 2)
    db.session.refresh(hook)
    assert [(a.number, a.outcome) for a in hook.attempt_log] == [(1, "retry"), (2, "sent")]
    assert len(webhook_receiver.events) == 1 and len(sms.messages) == 1


def test_permanent_errors_dead_letter_and_410_disables_the_endpoint(sms, webhook_receiver) -> None:
    shipment, endpoint = _shipment_with_endpoint(webhook_receiver, channels=("sms",))
    queue_change(shipment, URGENT)
    db.session.commit()
    webhook_receiver.fail_next(Scripted(410))
    sms.fail_next(Failure(400, code=21211, message="The 'To' number is not a valid phone number."))
    stats = dispatch_due()
    assert (stats.sent, stats.dead) == (0, 2)
    assert (
        _row("sms").last_error
        == "invalid_recipient: provider error 21211: The 'To' number is not a valid phone number."
    )
    assert _row("webhook").last_error == "gone: HTTP 410: the endpoint is gone; disable it"
    db.session.refresh(endpoint)
    assert endpoint.enabled is False and endpoint.disabled_reason.startswith("answered 410 Gone")


def test_retry_budget_ends_in_a_dead_letter(sms) -> None:
    shipment, _ = _shipment_with_endpoint(channels=("sms",))
    queue_change(shipment, URGENT)
    db.session.commit()
    sms.fail_next(Failure(500), count=10)
    now = datetime.now(UTC)
    for _ in range(6):
        dispatch_due(now=now)
        now += timedelta(hours=5)
    row = _row("sms")
    assert (row.state, row.attempts) == ("dead", 6)
    assert [a.outcome for a in row.attempt_log] == ["retry"] * 5 + ["dead"]
    assert dispatch_due(now=now + timedelta(days=5)).claimed == 0


def test_unconfigured_smtp_captures_and_unsubscribes_cancel(app, sms) -> None:
    shipment, _ = _shipment_with_endpoint()
    queue_change(shipment, URGENT)
    db.session.add(Unsubscribe(shop_id=shipment.shop_id, channel="sms", address="+4791234567", source="link"))
    db.session.commit()
    stats = dispatch_due()
    assert (stats.captured, stats.cancelled, stats.sent) == (1, 1, 0)
    assert (_row("email").state, _row("sms").state) == ("captured", "cancelled")
    assert sms.messages == []
    assert db.session.scalar(select(DeliveryAttempt)) is None


def test_rotated_secret_signs_with_both_until_the_old_one_expires(app) -> None:
    with WebhookSandbox(["whsec_old"]) as old_receiver:
        shipment, endpoint = _shipment_with_endpoint(old_receiver, channels=())
        now = datetime.now(UTC)
        endpoint.secret, endpoint.previous_secret = "whsec_new", "whsec_old"
        endpoint.previous_secret_expires_at = now + timedelta(hours=1)
        queue_change(shipment, URGENT)
        queue_change(shipment, Change(Trigger.DELIVERED, "1", {"delivered_at": now}))
        db.session.commit()
        assert dispatch_due().sent == 2
        assert len(old_receiver.events) == 2
        endpoint.previous_secret_expires_at = now - timedelta(seconds=1)
        queue_change(shipment, Change(Trigger.EXCEPTION, "x", {"reason": "customs"}))
        db.session.commit()
        stats = dispatch_due()
        assert (stats.sent, stats.dead, old_receiver.rejected) == (0, 1, 1)


def test_a_delay_message_is_not_sent_for_a_parcel_finished_before_dispatch(inbox) -> None:
    shipment, _ = _shipment_with_endpoint(channels=("email",))
    eta = datetime(2026, 11, 26, 12, tzinfo=UTC)
    delay = Change(Trigger.PREDICTED_DELAY, "2026-11-26", {"eta_start": eta, "eta_end": eta})
    assert queue_change(shipment, delay, now=datetime(2026, 11, 23, 12, tzinfo=UTC)) == 1
    shipment.status = "delivered"  # another worker delivered it before the dispatcher got to the row
    db.session.commit()
    dispatch_due(now=datetime(2026, 11, 23, 12, 1, tzinfo=UTC))
    row = _row("email")
    assert (row.state, row.last_error) == ("cancelled", "the parcel was finished before the message went out")
    assert inbox.messages == []


def test_emails_reach_the_mail_server_one_at_a_time_each_recorded_before_the_next(app, inbox) -> None:
    """A crash can so duplicate at most one email: the server never holds two emails we have not recorded."""
    app.config.update(OUTBOX_SEND_THREADS=4)
    shop, _ = make_shop("Fjellsport")
    settings = default_settings(shop.id)
    settings.channels = ["email"]
    db.session.add(settings)
    for i in range(24):
        customer = CUSTOMER | {
            "customer_email": f"kunde{i}@example.no",
            "tracking_number": f"7043810101543{i:04d}",
        }
        queue_change(make_shipment(shop, **customer), URGENT)
    db.session.commit()
    engine = db.engine
    unrecorded_at_arrival: list[int] = []
    accept = inbox.handle_DATA

    async def handle_data(server, session, envelope) -> str:
        with engine.connect() as connection:
            recorded = connection.scalar(
                select(func.count()).select_from(Notification).where(Notification.state == "sent")
            )
        unrecorded_at_arrival.append(len(inbox.messages) - recorded)
        return await accept(server, session, envelope)

    inbox.handle_DATA = handle_data
    stats = dispatch_due()
    assert (stats.claimed, stats.sent) == (24, 24)
    assert len(inbox.messages) == 24
    assert unrecorded_at_arrival == [0] * 24
