"""The small family of errors a notification channel may raise; nothing else escapes a channel."""

from __future__ import annotations


class SendError(Exception):
    """Base of every send failure; `kind` is the stable machine-readable name."""

    retryable = False

    def __init__(self, message: str, *, kind: str = "error", retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.retry_after = retry_after


class RetryableSendError(SendError):
    """A transient failure (timeouts, connection errors, 4xx SMTP, 5xx/429 HTTP): try again later."""

    retryable = True


class PermanentSendError(SendError):
    """The message will never be accepted as it is: dead-letter it."""


class InvalidRecipient(PermanentSendError):
    """An email address or phone number that cannot receive messages."""

    def __init__(self, message: str) -> None:
        super().__init__(message, kind="invalid_recipient")


class DestinationRefused(PermanentSendError):
    """A webhook URL refused by the SSRF guard (private, loopback, link-local or reserved address)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, kind="destination_refused")


class RenderError(ValueError):
    """A template could not be rendered: unknown trigger, missing or invalid context."""
