"""The HTTP mechanism shared by the SMS and webhook channels: session, timeouts, error translation."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import requests
from requests.adapters import HTTPAdapter

from notifications.errors import PermanentSendError, RetryableSendError

RETRYABLE_4XX = frozenset({408, 429})


def make_session(user_agent: str, pool_size: int = 10) -> requests.Session:
    """A keep-alive session for one worker; requests' own retries are off (the outbox retries)."""
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = user_agent
    return session


def post(session: requests.Session, url: str, *, timeout: float, **kwargs: object) -> requests.Response:
    """POST without following redirects; transport failures become RetryableSendError."""
    try:
        return session.post(url, timeout=timeout, allow_redirects=False, **kwargs)
    except requests.Timeout as exc:
        raise RetryableSendError(f"timed out after {timeout:g}s: {exc}", kind="timeout") from exc
    except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema) as exc:
        raise PermanentSendError(f"invalid URL {url!r}: {exc}", kind="invalid_url") from exc
    except requests.RequestException as exc:
        raise RetryableSendError(f"connection failed: {exc}", kind="connection") from exc


def raise_for_status(response: requests.Response, detail: str = "") -> None:
    """Translate a non-2xx response: 5xx, 408 and 429 are retryable, every other status is permanent."""
    status = response.status_code
    if 200 <= status < 300:
        return
    message = f"HTTP {status}" + (f": {detail}" if detail else "")
    if status >= 500 or status in RETRYABLE_4XX:
        kind = "rate_limited" if status == 429 else "server_error" if status >= 500 else "timeout"
        raise RetryableSendError(message, kind=kind, retry_after=retry_after(response))
    if 300 <= status < 400:
        raise PermanentSendError(f"{message} (redirects are not followed)", kind="redirect")
    kind = "auth" if status in (401, 403) else "rejected"
    raise PermanentSendError(message, kind=kind)


def retry_after(response: requests.Response) -> float | None:
    """Seconds from a `Retry-After` header (delta-seconds or HTTP date), None when absent or unreadable."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
