"""Email over SMTP: multipart text + HTML, one-click unsubscribe, idempotent Message-ID."""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from dataclasses import dataclass
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import formataddr, formatdate

from notifications.errors import PermanentSendError, RetryableSendError
from notifications.model import Channel, SendResult
from notifications.recipients import validate_email

_AUTH_CODES = frozenset({530, 534, 535})
_WIRE = compat32.clone(linesep="\r\n")  # smtplib sends bytes as they are: CRLF is ours to write


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to submit mail; `ssl` is implicit TLS (port 465), `starttls` upgrades (port 587)."""

    host: str
    port: int
    from_address: str
    from_name: str = ""
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    ssl: bool = False
    timeout: float = 10.0
    message_id_domain: str | None = None  # defaults to the from address's domain


@dataclass(frozen=True)
class EmailMessage:
    """One email to one customer; `dedupe_key` is the outbox key, which fixes the Message-ID."""

    to: str
    subject: str
    text: str
    html: str
    dedupe_key: str
    unsubscribe_url: str
    to_name: str = ""
    language: str = "en"
    unsubscribe_mailto: str | None = None


def message_id(dedupe_key: str, domain: str) -> str:
    """A Message-ID derived from the dedupe key, so a resend after a crash carries the same id."""
    digest = hashlib.sha256(dedupe_key.encode()).hexdigest()[:40]
    return f"<{digest}@{domain}>"


def build_mime(message: EmailMessage, settings: SmtpSettings) -> Message:
    """The multipart/alternative message exactly as it is submitted."""
    to = validate_email(message.to)
    sender = validate_email(settings.from_address)
    domain = settings.message_id_domain or sender.split("@")[1]
    # The compat32 MIME classes: several times faster than EmailMessage's header registry.
    mime = MIMEMultipart("alternative")
    mime["From"] = formataddr((settings.from_name, sender), charset="utf-8") if settings.from_name else sender
    mime["To"] = formataddr((message.to_name, to), charset="utf-8") if message.to_name else to
    mime["Subject"] = (
        message.subject if message.subject.isascii() else Header(message.subject, "utf-8").encode()
    )
    mime["Date"] = formatdate(localtime=False, usegmt=True)
    mime["Message-ID"] = message_id(message.dedupe_key, domain)
    mime["Content-Language"] = message.language
    unsubscribe = [f"<{message.unsubscribe_url}>"]
    if message.unsubscribe_mailto:
        unsubscribe.append(f"<mailto:{message.unsubscribe_mailto}>")
    mime["List-Unsubscribe"] = ", ".join(unsubscribe)
    mime["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    # RFC 3834: stops out-of-office replies from bouncing back at us.
    mime["Auto-Submitted"] = "auto-generated"
    mime.attach(MIMEText(message.text, "plain", "utf-8"))
    mime.attach(MIMEText(message.html, "html", "utf-8"))
    return mime


class EmailChannel(Channel):
    """Submits mail over one SMTP connection, reused across a batch and reopened when dropped."""

    receiver_drops_resends = False

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._sender = validate_email(settings.from_address)
        self._smtp: smtplib.SMTP | None = None

    def send(self, message: EmailMessage) -> SendResult:
        """Submit one email; the provider id is its Message-ID."""
        mime = build_mime(message, self.settings)
        envelope_to = validate_email(message.to)
        while True:
            fresh = self._smtp is None
            smtp = self._connection()
            try:
                smtp.sendmail(self._sender, [envelope_to], mime.as_bytes(policy=_WIRE))
                return SendResult(mime["Message-ID"])
            except smtplib.SMTPServerDisconnected as exc:
                self._drop()
                if fresh:  # only a reused connection may have been closed for idleness
                    raise RetryableSendError(f"SMTP server disconnected: {exc}", kind="connection") from exc
            except smtplib.SMTPRecipientsRefused as exc:
                code, reply = next(iter(exc.recipients.values()))
                raise _classify(code, reply, f"recipient {envelope_to} refused") from exc
            except smtplib.SMTPResponseException as exc:
                raise _classify(exc.smtp_code, exc.smtp_error, "message refused") from exc
            except (OSError, smtplib.SMTPException) as exc:
                self._drop()
                raise RetryableSendError(f"SMTP connection failed: {exc}", kind="connection") from exc

    def close(self) -> None:
        """Say QUIT and close the connection."""
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (OSError, smtplib.SMTPException):
                self._smtp.close()
            self._smtp = None

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is None:
            self._smtp = self._connect()
        return self._smtp

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        try:
            if s.ssl:
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    s.host, s.port, timeout=s.timeout, context=ssl.create_default_context()
                )
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            if s.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if s.username:
                smtp.login(s.username, s.password or "")
        except smtplib.SMTPResponseException as exc:
            raise _classify(exc.smtp_code, exc.smtp_error, "SMTP session refused") from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise RetryableSendError(
                f"cannot connect to SMTP server {s.host}:{s.port}: {exc}", kind="connection"
            ) from exc
        return smtp

    def _drop(self) -> None:
        if self._smtp is not None:
            self._smtp.close()
            self._smtp = None


def _classify(code: int, reply: bytes | str, context: str) -> RetryableSendError | PermanentSendError:
    """4xx replies are transient, 5xx permanent (authentication failures flagged as `auth`)."""
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    message = f"{context}: {code} {text}"
    kind = "auth" if code in _AUTH_CODES else "smtp"
    if 400 <= code < 500:
        return RetryableSendError(message, kind=kind)
    return PermanentSendError(message, kind=kind)
