from __future__ import annotations

import hashlib
import hmac
import json
import random
from datetime import UTC, datetime

import pytest

from notifications.errors import DestinationRefused, PermanentSendError, RetryableSendError
from notifications.webhook_sandbox import Scripted, WebhookSandbox
from notifications.webhooks import (
    RETRY_SCHEDULE,
    WebhookChannel,
    WebhookMessage,
    WebhookSettings,
    build_event,
    build_test_event,
    check_destination,
    sign,
    verify,
)
from tests.factories import WEBHOOK_SECRET

NOW = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)
BODY = b'{"id":"evt_1"}'


def test_sign_matches_hmac_of_timestamp_dot_body() -> None:
    expected = hmac.new(b"whsec_a", b"1741089600." + BODY, hashlib.sha256).hexdigest()
    assert sign(BODY, "whsec_a", 1741089600) == f"t=1741089600,v1={expected}"


def test_rotation_signs_with_both_secrets_and_either_verifies() -> None:
    header = sign(BODY, ["new", "old"], int(NOW.timestamp()))
    assert header.count("v1=") == 2
    assert verify(header, BODY, ["old"], NOW)
    assert verify(header, BODY, "new", NOW)
    assert not verify(header, BODY, ["other"], NOW)


def test_verify_rejects_tampering_and_stale_timestamps() -> None:
    header = sign(BODY, "s", int(NOW.timestamp()))
    assert not verify(header, BODY + b" ", "s", NOW)
    assert not verify(header, BODY, "s", NOW.replace(minute=6))
    assert verify(header, BODY, "s", NOW.replace(minute=4))
    assert not verify("garbage", BODY, "s", NOW)
    assert not verify("v1=abc", BODY, "s", NOW)


def test_retry_schedule_spans_about_72_hours_then_dead_letters() -> None:
    rng = random.Random(7)
    delays = [RETRY_SCHEDULE.next_delay(n, rng) for n in range(1, 11)]
    nominal = [60, 300, 1800, 7200, 18000, 36000, 43200, 50400, 50400, 50400]
    assert all(0.9 * n <= d <= 1.1 * n for d, n in zip(delays, nominal, strict=True))
    assert RETRY_SCHEDULE.next_delay(11, rng) is None
    assert RETRY_SCHEDULE.nominal_total == 71 * 3600 + 36 * 60
    assert RETRY_SCHEDULE.max_attempts == 11


def test_event_envelope_is_stable_json() -> None:
    event = build_event("shipment.delivered", {"tracking_number": "707"}, NOW, event_id="evt_x")
    assert json.loads(event.body) == {
        "id": "evt_x",
        "type": "shipment.delivered",
        "created": "2025-03-04T12:00:00Z",
        "api_version": "2025-01",
        "data": {"tracking_number": "707"},
    }
    with pytest.raises(ValueError, match="unknown webhook event type"):
        build_event("shipment.teleported", {}, NOW)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://localhost:8080/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://0.0.0.0/hook",
        "http://2130706433/hook",
        "http://100.64.0.1/hook",
    ],
)
def test_ssrf_guard_refuses_non_public_addresses(url: str) -> None:
    with pytest.raises(DestinationRefused):
        check_destination(url, allow_private=False)


def test_ssrf_guard_allows_public_addresses_and_explicit_private() -> None:
    check_destination("https://93.184.216.34/hook", allow_private=False)
    check_destination("http://127.0.0.1:9/hook", allow_private=True)
    for bad in ("ftp://93.184.216.34/x", "https://user:pw@93.184.216.34/x", "/relative"):
        with pytest.raises(DestinationRefused):
            check_destination(bad, allow_private=True)


def make_channel(**overrides) -> WebhookChannel:
    return WebhookChannel(WebhookSettings(**{"timeout": 2.0, "allow_private": True, **overrides}))


def test_delivers_signed_event_to_a_real_receiver(webhook_receiver: WebhookSandbox) -> None:
    event = build_event("claim.opened", {"claim": "CL-1"}, NOW, event_id="evt_1")
    with make_channel() as channel:
        result = channel.send(
            WebhookMessage(webhook_receiver.endpoint, event, (WEBHOOK_SECRET, "old-secret"))
        )
        channel.send(WebhookMessage(webhook_receiver.endpoint, build_test_event(NOW), (WEBHOOK_SECRET,)))
    assert result.provider_id == "evt_1"
    assert [e.event_id for e in webhook_receiver.events][0] == "evt_1"
    assert webhook_receiver.events[0].payload["data"] == {"claim": "CL-1"}
    assert webhook_receiver.events[1].payload["type"] == "webhook.test"


def test_wrong_secret_is_refused_permanently(webhook_receiver: WebhookSandbox) -> None:
    with make_channel() as channel, pytest.raises(PermanentSendError) as info:
        channel.send(WebhookMessage(webhook_receiver.endpoint, build_test_event(NOW), ("wrong",)))
    assert info.value.kind == "auth"
    assert webhook_receiver.rejected == 1


@pytest.mark.parametrize(
    ("status", "error", "kind"),
    [
        (500, RetryableSendError, "server_error"),
        (503, RetryableSendError, "server_error"),
        (429, RetryableSendError, "rate_limited"),
        (408, RetryableSendError, "timeout"),
        (410, PermanentSendError, "gone"),
        (404, PermanentSendError, "rejected"),
        (301, PermanentSendError, "redirect"),
    ],
)
def test_classifies_receiver_failures(
    webhook_receiver: WebhookSandbox, status: int, error: type, kind: str
) -> None:
    webhook_receiver.fail_next(Scripted(status))
    with make_channel() as channel, pytest.raises(error) as info:
        channel.send(WebhookMessage(webhook_receiver.endpoint, build_test_event(NOW), (WEBHOOK_SECRET,)))
    assert type(info.value) is error
    assert info.value.kind == kind


def test_timeout_is_retryable_and_the_next_send_recovers(webhook_receiver: WebhookSandbox) -> None:
    webhook_receiver.fail_next(Scripted(200, delay=0.5))
    with make_channel(timeout=0.2) as channel:
        with pytest.raises(RetryableSendError) as info:
            channel.send(WebhookMessage(webhook_receiver.endpoint, build_test_event(NOW), (WEBHOOK_SECRET,)))
        assert info.value.kind == "timeout"
        channel.send(WebhookMessage(webhook_receiver.endpoint, build_test_event(NOW), (WEBHOOK_SECRET,)))
    assert len(webhook_receiver.events) == 1


def test_production_settings_refuse_loopback_receiver(webhook_receiver: WebhookSandbox) -> None:
    with make_channel(allow_private=False) as channel, pytest.raises(DestinationRefused):
        channel.send(WebhookMessage(webhook_receiver.endpoint, build_test_event(NOW), (WEBHOOK_SECRET,)))
    assert webhook_receiver.events == []


def test_connection_refused_is_retryable() -> None:
    with make_channel() as channel, pytest.raises(RetryableSendError) as info:
        channel.send(WebhookMessage("http://127.0.0.1:9/webhooks", build_test_event(NOW), ("s",)))
    assert info.value.kind == "connection"
