from __future__ import annotations

import pytest

from notifications.errors import InvalidRecipient, PermanentSendError, RetryableSendError
from notifications.recipients import normalise_phone
from notifications.sms import SmsChannel, SmsMessage, SmsSettings
from notifications.sms_sandbox import Failure, SmsSandbox
from notifications.sms_text import SmsEncoding, SmsLength, fold_typography, measure_sms, shorten_sms
from tests.factories import SMS_ACCOUNT_SID, SMS_AUTH_TOKEN


@pytest.mark.parametrize(
    ("number", "region", "expected"),
    [
        ("912 34 567", "NO", "+4791234567"),
        ("+47 412 34 567", "DK", "+4741234567"),
        ("0047 91234567", "NO", "+4791234567"),
        ("20 12 34 56", "DK", "+4520123456"),
        ("+45 31 12 34 56", "NO", "+4531123456"),
        ("081 234 5678", "TH", "+66812345678"),
        ("+66 91 234 5678", "NO", "+66912345678"),
    ],
)
def test_normalise_phone_to_e164(number: str, region: str, expected: str) -> None:
    assert normalise_phone(number, region) == expected


@pytest.mark.parametrize(
    ("number", "region", "message"),
    [
        ("not a number", "NO", "could not be read"),
        ("123", "NO", "not a valid number for NO"),
        ("+47 22 00 00 00", "NO", "not a mobile number"),
        ("02 123 4567", "TH", "not a mobile number"),
        ("+45 1234", "NO", "not a valid number for DK"),
    ],
)
def test_normalise_phone_rejects_clearly(number: str, region: str, message: str) -> None:
    with pytest.raises(InvalidRecipient, match=message):
        normalise_phone(number, region)


def test_measure_sms_counts_gsm_septets_and_ucs2_units() -> None:
    assert measure_sms("a" * 160) == SmsLength(SmsEncoding.GSM7, 160, 1)
    assert measure_sms("Æ" * 161) == SmsLength(SmsEncoding.GSM7, 161, 2)
    assert measure_sms("€" * 80) == SmsLength(SmsEncoding.GSM7, 160, 1)
    assert measure_sms("ก" * 70) == SmsLength(SmsEncoding.UCS2, 70, 1)
    assert measure_sms("ก" * 135) == SmsLength(SmsEncoding.UCS2, 135, 3)
    assert measure_sms("ok \u2013") == SmsLength(SmsEncoding.UCS2, 4, 1)
    assert fold_typography("14:00\u202fPM \u2013 \u201cok\u201d") == '14:00 PM - "ok"'


def test_shorten_sms_keeps_the_link_and_cuts_on_a_word() -> None:
    text = "Pakken din fra Fjellsport er på vei og kommer snart hjem til deg. " * 6
    short = shorten_sms(text, " https://t.example/abc", 2)
    assert short.endswith("... https://t.example/abc")
    assert measure_sms(short).segments == 2
    assert short.removesuffix("... https://t.example/abc").split()[-1] in text.split()


def test_shorten_sms_never_splits_a_thai_cluster() -> None:
    text = "พัสดุของคุณกำลังจะมาถึงเร็วๆนี้" * 8
    short = shorten_sms(text, " https://t.example/abc", 2)
    assert measure_sms(short).segments <= 2
    body = short.removesuffix("\u2026 https://t.example/abc")
    assert text.startswith(body)
    assert text[len(body)] not in "\u0e31\u0e34\u0e35\u0e36\u0e37\u0e38\u0e39\u0e47\u0e48\u0e49\u0e4a\u0e4b"


def make_channel(sms_provider: SmsSandbox, **overrides) -> SmsChannel:
    fields = {
        "base_url": sms_provider.url,
        "account_sid": SMS_ACCOUNT_SID,
        "auth_token": SMS_AUTH_TOKEN,
        "sender": "Fjellsport",
    }
    return SmsChannel(SmsSettings(**{**fields, "timeout": 2.0, **overrides}))


def test_sends_normalised_sms_and_is_idempotent(sms_provider: SmsSandbox) -> None:
    with make_channel(sms_provider) as channel:
        first = channel.send(SmsMessage("912 34 567", "Pakken din er levert", "k1"))
        again = channel.send(SmsMessage("912 34 567", "Pakken din er levert", "k1"))
        other = channel.send(SmsMessage("+66812345678", "พัสดุถึงแล้ว", "k2"))
    assert first == again != other
    assert first.provider_id.startswith("SM")
    assert [(m.to, m.sender, m.body) for m in sms_provider.messages] == [
        ("+4791234567", "Fjellsport", "Pakken din er levert"),
        ("+66812345678", "Fjellsport", "พัสดุถึงแล้ว"),
    ]


@pytest.mark.parametrize(
    ("failure", "error", "kind"),
    [
        (Failure(500, 20500), RetryableSendError, "server_error"),
        (Failure(429, 20429, retry_after=30), RetryableSendError, "rate_limited"),
        (Failure(400, 21211), PermanentSendError, "invalid_recipient"),
        (Failure(400, 21610), PermanentSendError, "unsubscribed"),
        (Failure(400, 30000), PermanentSendError, "rejected"),
    ],
)
def test_classifies_provider_errors(
    sms_provider: SmsSandbox, failure: Failure, error: type, kind: str
) -> None:
    sms_provider.fail_next(failure)
    with make_channel(sms_provider) as channel, pytest.raises(error) as info:
        channel.send(SmsMessage("91234567", "Hei", "k1"))
    assert type(info.value) is error
    assert info.value.kind == kind
    assert info.value.retry_after == failure.retry_after
    assert sms_provider.messages == []


def test_wrong_credentials_are_permanent(sms_provider: SmsSandbox) -> None:
    with make_channel(sms_provider, auth_token="nope") as channel, pytest.raises(PermanentSendError) as info:
        channel.send(SmsMessage("91234567", "Hei", "k1"))
    assert info.value.kind == "auth"


def test_timeout_is_retryable(sms_provider: SmsSandbox) -> None:
    sms_provider.fail_next(Failure(201, delay=0.5))
    with make_channel(sms_provider, timeout=0.2) as channel, pytest.raises(RetryableSendError) as info:
        channel.send(SmsMessage("91234567", "Hei", "k1"))
    assert info.value.kind == "timeout"


def test_refuses_invalid_numbers_and_overlong_bodies_without_calling(sms_provider: SmsSandbox) -> None:
    with make_channel(sms_provider) as channel:
        with pytest.raises(InvalidRecipient):
            channel.send(SmsMessage("22 00 00 00", "Hei", "k1"))
        with pytest.raises(PermanentSendError) as info:
            channel.send(SmsMessage("91234567", "x" * 307, "k2"))
    assert info.value.kind == "too_long"
    assert sms_provider.messages == []
