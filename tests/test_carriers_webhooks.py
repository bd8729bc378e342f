"""Webhook signatures (EasyPost, AfterShip) over raw bodies, and webhook parsing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import unicodedata
from pathlib import Path

from carriers import aftership, easypost
from carriers.model import Status

FIXTURES = Path(__file__).parent / "fixtures" / "carriers"
BODY = (FIXTURES / "easypost" / "webhook_delivered_out_of_order.json").read_bytes()


def easypost_header(secret: str, body: bytes) -> str:
    key = unicodedata.normalize("NFKD", secret).encode()
    return "hmac-sha256-hex=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def test_easypost_signature_accepts_the_right_secret_with_nfkd() -> None:
    # "sécret" precomposed vs decomposed: both normalise to the same key.
    header = easypost_header("se\u0301cret", BODY)
    assert easypost.verify_signature(BODY, {"X-Hmac-Signature": header}, "s\u00e9cret")
    assert easypost.verify_signature(
        BODY, {"x-hmac-signature": header.upper().replace("HMAC-SHA256-HEX=", "hmac-sha256-hex=")}, "sécret"
    )


def test_easypost_signature_rejects_tampering_and_absence() -> None:
    header = easypost_header("sécret", BODY)
    assert not easypost.verify_signature(BODY + b" ", {"X-Hmac-Signature": header}, "sécret")
    assert not easypost.verify_signature(BODY, {"X-Hmac-Signature": header}, "other")
    assert not easypost.verify_signature(BODY, {}, "sécret")
    assert not easypost.verify_signature(
        BODY, {"X-Hmac-Signature": header.removeprefix("hmac-sha256-hex=")}, "sécret"
    )


def test_aftership_signature_header_any_case() -> None:
    body = (FIXTURES / "aftership" / "webhook_returned.json").read_bytes()
    signature = base64.b64encode(hmac.new(b"whsec", body, hashlib.sha256).digest()).decode()
    assert aftership.verify_signature(body, {"aftership-hmac-sha256": signature}, "whsec")
    assert aftership.verify_signature(body, {"Aftership-Hmac-Sha256": signature}, "whsec")
    assert not aftership.verify_signature(
        body.replace(b"Stockholm", b"Stockholn"), {"aftership-hmac-sha256": signature}, "whsec"
    )
    assert not aftership.verify_signature(body, {"aftership-hmac-sha256": signature}, "")


def test_parse_webhook_envelopes() -> None:
    (update,) = easypost.parse_webhook(BODY, {})
    assert (update.tracking_number, update.status, update.original_carrier) == (
        "1Z999AA10100000004",
        Status.DELIVERED,
        "UPS",
    )
    assert (
        easypost.parse_webhook(
            b'{"object": "Event", "description": "batch.created", "result": {"object": "Batch"}}', {}
        )
        == []
    )
    (returned,) = aftership.parse_webhook((FIXTURES / "aftership" / "webhook_returned.json").read_bytes(), {})
    assert (returned.status, returned.original_carrier) == (Status.RETURNED, "postnord")
