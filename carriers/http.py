"""The one HTTP path to carriers: session reuse, timeouts, retries, rate limit, breaker, error translation."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests

from carriers.breaker import CircuitBreaker
from carriers.errors import CarrierError, CarrierUnavailable, error_for_status
from carriers.ratelimit import TokenBucket

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_RETRY_WAIT = 30.0  # a longer Retry-After is handed to the scheduler instead of blocking a worker
BACKOFF_BASE = 0.5
MAX_BODY_BYTES = 20 * 1024 * 1024
SECRET_PARAMS = frozenset({"apikey", "api_key", "key", "token", "access_token", "client_secret", "password"})


def scrub_url(url: str) -> str:
    """The URL with credential-like query values masked, safe to log (PostNord puts its key there)."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    query = [
        (k, "***" if k.lower() in SECRET_PARAMS else v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit(parts._replace(query=urlencode(query, safe="*")))


def parse_retry_after(value: str | None, now: Callable[[], datetime] | None = None) -> float | None:
    """Seconds from a Retry-After header given as delta-seconds or as an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now() if now else datetime.now(UTC)
    return max(0.0, (when - current).total_seconds())


class HttpClient:
    """A per-carrier HTTP client; thread-safe, so one instance serves every polling thread."""

    def __init__(
        self,
        carrier: str,
        *,
        timeout: float,
        max_retries: int,
        rate_per_second: float,
        breaker_failures: int,
        breaker_reset_seconds: float,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.carrier = carrier
        self.timeout = timeout
        self.max_retries = max_retries
        self.session = requests.Session()
        self.limiter = TokenBucket(rate_per_second, clock=clock, sleep=sleep)
        self.breaker = CircuitBreaker(breaker_failures, breaker_reset_seconds, clock=clock)
        self._sleep = sleep
        self.log = logging.getLogger(f"carriers.{carrier}")
        self._hits_lock = threading.Lock()
        self._rate_limit_hits = 0

    @property
    def rate_limit_hits(self) -> int:
        """429 answers received since this client was made, retried ones included."""
        with self._hits_lock:
            return self._rate_limit_hits

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with jitter: 0.5 s, 1 s, 2 s … each scaled by a random 50–100 %."""
        return min(MAX_RETRY_WAIT, BACKOFF_BASE * 2**attempt) * (0.5 + random.random() / 2)

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        not_found_on_404: bool = True,
        retries: int | None = None,
    ) -> requests.Response:
        """Send one request (with retries); returns a < 400 response or raises a CarrierError.

        `retries` overrides `max_retries` for this call: 0 for a non-idempotent POST whose outcome
        must be looked up before it is sent again.
        """
        if not self.breaker.allow():
            raise CarrierUnavailable(
                f"{self.carrier}: circuit breaker open", retry_after=self.breaker.seconds_until_retry()
            )
        try:
            response = self._send_with_retries(
                method,
                url,
                dict(headers or {}),
                params,
                json,
                data,
                auth,
                not_found_on_404,
                self.max_retries if retries is None else retries,
            )
        except CarrierUnavailable:
            self.breaker.record_failure()
            raise
        except CarrierError:
            self.breaker.record_success()  # the carrier answered; only outages count against it
            raise
        except BaseException:
            self.breaker.record_failure()
            raise
        self.breaker.record_success()
        return response

    def _send_with_retries(self, method, url, headers, params, json, data, auth, not_found_on_404, retries):
        attempt = 0
        while True:
            self.limiter.acquire()
            started = time.perf_counter()
            try:
                response = self.session.request(
                    method,
                    url,
                    headers=headers,
                    params=params,
                    json=json,
                    data=data,
                    auth=auth,
                    timeout=self.timeout,
                )
            except requests.Timeout:
                error: CarrierError = CarrierUnavailable(f"{self.carrier}: timeout after {self.timeout}s")
                status = 0
            except requests.RequestException as exc:
                error = CarrierUnavailable(f"{self.carrier}: connection failed ({type(exc).__name__})")
                status = 0
            else:
                status = response.status_code
                self.log.debug(
                    "%s %s -> %s in %.3fs",
                    method,
                    scrub_url(response.url),
                    status,
                    time.perf_counter() - started,
                )
                if status < 400:
                    if len(response.content) > MAX_BODY_BYTES:
                        raise CarrierUnavailable(f"{self.carrier}: response body too large")
                    return response
                error = self._translate(response, not_found_on_404)
                if status == 429:
                    with self._hits_lock:
                        self._rate_limit_hits += 1
            retryable = status == 0 or status in RETRY_STATUSES
            wait = error.retry_after if error.retry_after is not None else self.backoff(attempt)
            if not retryable or attempt >= retries or wait > MAX_RETRY_WAIT:
                raise error
            self.log.info("%s: %s, retry %d in %.2fs", self.carrier, error.message, attempt + 1, wait)
            self._sleep(wait)
            attempt += 1

    def _translate(self, response: requests.Response, not_found_on_404: bool) -> CarrierError:
        status = response.status_code
        snippet = response.text[:200].replace("\n", " ") if response.content else ""
        message = f"{self.carrier}: HTTP {status} from {scrub_url(response.url)}" + (
            f": {snippet}" if snippet else ""
        )
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        if status == 404 and not not_found_on_404:
            return CarrierUnavailable(message)
        return error_for_status(status, message, retry_after=retry_after)
