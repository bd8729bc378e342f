"""The small family of errors a carrier adapter may raise; nothing else escapes an adapter."""

from __future__ import annotations

from dataclasses import dataclass


class CarrierError(Exception):
    """Base of every carrier failure; `kind` is the stable machine-readable name."""

    kind = "carrier_error"
    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


class TrackingNotFound(CarrierError):
    """The carrier does not know this number (yet)."""

    kind = "not_found"
    retryable = False


class CarrierAuthError(CarrierError):
    """Credentials rejected or token expired beyond refresh."""

    kind = "auth"
    retryable = False


class CarrierRateLimited(CarrierError):
    """The carrier asked us to slow down; `retry_after` in seconds when it said so."""

    kind = "rate_limited"


class CarrierUnavailable(CarrierError):
    """5xx, timeouts, connection errors, an open circuit breaker."""

    kind = "unavailable"


class MalformedPayload(CarrierError):
    """The body could not be understood; logged and skipped, never ingested."""

    kind = "malformed"
    retryable = False


@dataclass(frozen=True)
class TrackingFailure:
    """A per-number failure inside an otherwise successful (batch) response."""

    tracking_number: str
    error: CarrierError


def error_for_status(status: int, message: str, *, retry_after: float | None = None) -> CarrierError:
    """The error an HTTP-style status means, whether it came in the status line or inside a body."""
    if status in (401, 403):
        return CarrierAuthError(message)
    if status == 429:
        return CarrierRateLimited(message, retry_after=retry_after)
    if status >= 500 or status in (408, 0):
        return CarrierUnavailable(message, retry_after=retry_after)
    if 400 <= status < 500:
        # 400/404/422 from a tracking endpoint: the number is unknown or not a valid number for this carrier.
        return TrackingNotFound(message)
    return MalformedPayload(message)


def error_from_body(carrier: str, status: object, message: str) -> CarrierError:
    """`error_for_status` for a status read from a body (number, numeric string, or junk → 500)."""
    try:
        code = int(str(status).strip())
    except ValueError:
        code = 500
    return error_for_status(code, f"{carrier}: {message} ({code})")
