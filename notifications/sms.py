"""SMS through a Twilio-style HTTP provider: `POST /2010-04-01/Accounts/{sid}/Messages.json`."""

from __future__ import annotations

from dataclasses import dataclass

import requests

from notifications import http
from notifications.errors import PermanentSendError
from notifications.model import Channel, SendResult
from notifications.recipients import normalise_phone
from notifications.sms_text import fits_sms

# Provider error codes that mean "never for this recipient", whatever the HTTP status says.
_PERMANENT_PROVIDER_CODES = {21211: "invalid_recipient", 21610: "unsubscribed", 21614: "invalid_recipient"}


@dataclass(frozen=True)
class SmsSettings:
    """Provider account and sender; `sender` is an E.164 number or an alphanumeric sender id."""

    base_url: str
    account_sid: str
    auth_token: str
    sender: str
    default_region: str = "NO"
    timeout: float = 10.0
    max_segments: int = 2
    user_agent: str = "Leveranse-SMS/1.0"


@dataclass(frozen=True)
class SmsMessage:
    """One SMS; `dedupe_key` is sent as the idempotency key."""

    to: str
    body: str
    dedupe_key: str


class SmsChannel(Channel):
    """Sends SMS over one keep-alive session with Basic auth."""

    def __init__(self, settings: SmsSettings, session: requests.Session | None = None) -> None:
        self.settings = settings
        self.session = session or http.make_session(settings.user_agent)
        self.url = f"{settings.base_url.rstrip('/')}/2010-04-01/Accounts/{settings.account_sid}/Messages.json"

    def send(self, message: SmsMessage) -> SendResult:
        """Send one SMS; the provider id is the provider's message sid."""
        to = normalise_phone(message.to, self.settings.default_region)
        if not fits_sms(message.body, self.settings.max_segments):
            raise PermanentSendError(
                f"SMS body exceeds {self.settings.max_segments} segments", kind="too_long"
            )
        response = http.post(
            self.session,
            self.url,
            timeout=self.settings.timeout,
            data={"To": to, "From": self.settings.sender, "Body": message.body},
            auth=(self.settings.account_sid, self.settings.auth_token),
            headers={"Idempotency-Key": message.dedupe_key},
        )
        payload = _json(response)
        code = payload.get("code")
        if response.status_code >= 400 and code in _PERMANENT_PROVIDER_CODES:
            raise PermanentSendError(
                f"provider error {code}: {payload.get('message', '')}", kind=_PERMANENT_PROVIDER_CODES[code]
            )
        http.raise_for_status(response, str(payload.get("message") or ""))
        sid = payload.get("sid")
        if not isinstance(sid, str) or not sid:
            # Accepted but unconfirmed: retrying could send twice, so leave it to a person.
            status = response.status_code
            raise PermanentSendError(f"HTTP {status} without a message sid", kind="bad_response")
        return SendResult(sid)

    def close(self) -> None:
        """Close the session's pooled connections."""
        self.session.close()


def _json(response: requests.Response) -> dict:
    try:
        payload = response.json()
    except (ValueError, requests.exceptions.JSONDecodeError):
        return {}
    return payload if isinstance(payload, dict) else {}
