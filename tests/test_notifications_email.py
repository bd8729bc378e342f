from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime

import pytest

from notifications.email import EmailChannel, EmailMessage, SmtpSettings, message_id
from notifications.errors import InvalidRecipient, PermanentSendError, RetryableSendError
from notifications.recipients import validate_email
from notifications.render import render

CONTEXT = {
    "shop_name": "Fjellsport",
    "customer_name": "Kari",
    "tracking_number": "70712345678",
    "tracking_url": "https://track.example.no/t/AB12",
    "unsubscribe_url": "https://track.example.no/u/XYZ",
    "timezone": "Europe/Oslo",
}


def make_message(**overrides) -> EmailMessage:
    rendered = render(
        "delivered", "nb", {**CONTEXT, "delivered_at": datetime(2025, 3, 4, 13, 12, tzinfo=UTC)}
    )
    fields = {
        "to": "kari@example.no",
        "to_name": "Kari Nordmann",
        "subject": rendered.subject,
        "text": rendered.text,
        "html": rendered.html,
        "dedupe_key": "shipment-42:delivered:email",
        "unsubscribe_url": CONTEXT["unsubscribe_url"],
        "language": "nb",
    }
    return EmailMessage(**{**fields, **overrides})


def settings(port: int, **overrides) -> SmtpSettings:
    return SmtpSettings(
        **{
            "host": "127.0.0.1",
            "port": port,
            "from_address": "varsler@fjellsport.no",
            "from_name": "Fjellsport",
            **overrides,
        }
    )


def test_sends_multipart_email_that_arrives_intact(smtp_server) -> None:
    inbox = smtp_server
    with EmailChannel(settings(inbox.port)) as channel:
        first = channel.send(make_message(to_name="Kåre Ødegård", subject="Pakken din er levert – på døra"))
        second = channel.send(make_message(to="ola@example.no", dedupe_key="shipment-43:delivered:email"))
    assert len(inbox.messages) == 2
    sender, rcpts, raw = inbox.messages[0]
    assert (sender, rcpts) == ("varsler@fjellsport.no", ["kari@example.no"])
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Subject"] == "Pakken din er levert – på døra"
    assert parsed["To"] == "Kåre Ødegård <kari@example.no>"
    assert parsed["Content-Language"] == "nb"
    assert parsed["List-Unsubscribe"] == "<https://track.example.no/u/XYZ>"
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert (
        parsed["Message-ID"]
        == first.provider_id
        == message_id("shipment-42:delivered:email", "fjellsport.no")
    )
    assert parsed.get_content_type() == "multipart/alternative"
    text = parsed.get_body(("plain",)).get_content()
    html = parsed.get_body(("html",)).get_content()
    assert "https://track.example.no/t/AB12" in text and "https://track.example.no/u/XYZ" in text
    assert (
        'href="https://track.example.no/t/AB12"' in html and 'href="https://track.example.no/u/XYZ"' in html
    )
    assert "Pakken din ble levert" in text
    assert first.provider_id != second.provider_id


def test_message_id_is_stable_for_a_dedupe_key(smtp_server) -> None:
    inbox = smtp_server
    with EmailChannel(settings(inbox.port)) as channel:
        ids = {channel.send(make_message()).provider_id for _ in range(2)}
    received = {email.message_from_bytes(raw)["Message-ID"] for _, _, raw in inbox.messages}
    assert ids == received == {message_id("shipment-42:delivered:email", "fjellsport.no")}


def test_reconnects_when_the_server_dropped_an_idle_connection(smtp_server) -> None:
    inbox = smtp_server
    with EmailChannel(settings(inbox.port)) as channel:
        channel.send(make_message())
        channel._smtp.sock.close()  # the server timing out an idle session looks like this to us
        channel.send(make_message())
    assert len(inbox.messages) == 2


@pytest.mark.parametrize(
    ("reply", "error"),
    [("550 5.1.1 No such user", PermanentSendError), ("451 4.3.0 Try later", RetryableSendError)],
)
def test_classifies_recipient_refusals(smtp_server, reply: str, error: type) -> None:
    inbox = smtp_server
    inbox.rcpt_reply = reply
    with EmailChannel(settings(inbox.port)) as channel, pytest.raises(error) as info:
        channel.send(make_message())
    assert type(info.value) is error
    assert reply.split()[0] in info.value.message
    assert inbox.messages == []


def test_unreachable_server_is_retryable() -> None:
    with EmailChannel(settings(9, timeout=1.0)) as channel, pytest.raises(RetryableSendError):
        channel.send(make_message())


def test_invalid_recipient_is_refused_before_connecting() -> None:
    with EmailChannel(settings(9)) as channel, pytest.raises(InvalidRecipient, match="exactly one '@'"):
        channel.send(make_message(to="kari.example.no"))


@pytest.mark.parametrize(
    ("address", "normalised"),
    [("Kari@Example.NO", "Kari@example.no"), ("ola+pakke@sub.ærlig.no", "ola+pakke@sub.xn--rlig-uoa.no")],
)
def test_validate_email_normalises_domain(address: str, normalised: str) -> None:
    assert validate_email(address) == normalised


@pytest.mark.parametrize(
    "address",
    [
        "",
        "kari",
        "kari@",
        "@example.no",
        "a@b@example.no",
        "kari@localhost",
        "ka ri@example.no",
        "kari..n@example.no",
        ".kari@example.no",
        "kari@-example.no",
        "kari@example.c0m",
        "kåri@example.no",
        "kari@example.no\n",
        "<kari@example.no>",
        "x" * 65 + "@example.no",
    ],
)
def test_validate_email_rejects_invalid_addresses(address: str) -> None:
    with pytest.raises(InvalidRecipient):
        validate_email(address)
