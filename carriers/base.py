"""What every polling carrier client shares: settings, batching, auth refresh, accounting per number."""

from __future__ import annotations

import dataclasses
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import requests

from carriers.auth import OAuth2ClientCredentials, TokenAuth
from carriers.errors import CarrierAuthError, TrackingFailure, TrackingNotFound
from carriers.http import HttpClient
from carriers.model import TrackingUpdate
from carriers.numbers import normalise_number

Result = TrackingUpdate | TrackingFailure


@dataclass(frozen=True)
class CarrierSettings:
    """Plain settings for one carrier client (the app builds these from its config)."""

    base_url: str
    credentials: Mapping[str, str] = field(default_factory=dict)
    timeout: float = 10.0
    max_retries: int = 2
    rate_per_second: float | None = None  # None: the carrier's published default
    breaker_failures: int = 5
    breaker_reset_seconds: float = 30.0
    language: str = "en"


def http_client(
    code: str, settings: CarrierSettings, default_rate: float, sleep: Callable[[float], None] | None = None
) -> HttpClient:
    """The shared HTTP client (timeouts, retries, rate limit, breaker) configured from `settings`."""
    extra = {"sleep": sleep} if sleep is not None else {}
    return HttpClient(
        code,
        timeout=settings.timeout,
        max_retries=settings.max_retries,
        rate_per_second=settings.rate_per_second or default_rate,
        breaker_failures=settings.breaker_failures,
        breaker_reset_seconds=settings.breaker_reset_seconds,
        **extra,
    )


def same_number(a: str, b: str) -> bool:
    """Carriers echo numbers with other spacing or case than we sent."""
    return normalise_number(a) == normalise_number(b)


class Carrier(ABC):
    """Base of the `<Name>Carrier` clients: subclasses build the real request in `fetch`."""

    code: ClassVar[str]
    display_name: ClassVar[str]
    default_base_url: ClassVar[str]
    batch_size: ClassVar[int] = 1
    default_rate_per_second: ClassVar[float] = 5.0
    required_credentials: ClassVar[tuple[str, ...]] = ()
    parse: Callable[[bytes | str], list[Result]]  # the module's parse_tracking, as a staticmethod

    def __init__(self, settings: CarrierSettings, *, sleep: Callable[[float], None] | None = None) -> None:
        self.settings = settings
        self.base_url = settings.base_url.rstrip("/")
        missing = [name for name in self.required_credentials if not settings.credentials.get(name)]
        if missing:
            raise CarrierAuthError(f"{self.code}: missing credentials {', '.join(missing)}")
        self.http = http_client(self.code, settings, self.default_rate_per_second, sleep)
        self.auth = self.make_auth()
        self.log = logging.getLogger(f"carriers.{self.code}")

    def make_auth(self) -> TokenAuth | None:
        """The token cache for carriers with token auth; None for API-key carriers."""
        return None

    def credential(self, name: str) -> str:
        """One configured credential."""
        return self.settings.credentials[name]

    @abstractmethod
    def fetch(self, numbers: Sequence[str]) -> bytes:
        """Call the carrier for one batch and return the raw body."""

    def call(
        self, method: str, path: str, *, headers: Mapping[str, str] | None = None, **kwargs: Any
    ) -> requests.Response:
        """Request `base_url + path` with the auth header; on 401 refresh the token once and retry."""
        url = self.base_url + path

        def send() -> requests.Response:
            auth_headers = self.auth.headers() if self.auth else {}
            return self.http.request(method, url, headers={**(headers or {}), **auth_headers}, **kwargs)

        try:
            return send()
        except CarrierAuthError:
            if self.auth is None:
                raise
            self.log.info("%s: authorisation rejected, refreshing the token once", self.code)
            self.auth.invalidate()
            return send()

    def track(self, numbers: Sequence[str]) -> list[Result]:
        """Track numbers in carrier-sized batches; every requested number gets an update or a failure."""
        unique = list(dict.fromkeys(n.strip() for n in numbers if n.strip()))
        results: list[Result] = []
        for start in range(0, len(unique), self.batch_size):
            batch = unique[start : start + self.batch_size]
            try:
                parsed = self.parse(self.fetch(batch))
            except TrackingNotFound as error:
                parsed = [TrackingFailure(number, error) for number in batch]
            results.extend(self.account(batch, parsed))
        return results

    def account(self, batch: Sequence[str], parsed: list[Result]) -> list[Result]:
        """Bind results to the requested numbers; numbers the carrier left out become not-found failures."""
        if len(batch) == 1:
            # One number asked: everything answered belongs to it (a shipment number fans out to packages).
            requested = batch[0]
            return [_rebind(item, requested) for item in parsed] or [
                TrackingFailure(requested, TrackingNotFound(f"{self.code}: empty answer"))
            ]
        out: list[Result] = []
        for number in batch:
            mine = [item for item in parsed if same_number(item.tracking_number, number)]
            out.extend(_rebind(item, number) for item in mine)
            if not mine:
                out.append(
                    TrackingFailure(number, TrackingNotFound(f"{self.code}: number missing from the answer"))
                )
        extra = [
            item.tracking_number
            for item in parsed
            if not any(same_number(item.tracking_number, n) for n in batch)
        ]
        if extra:
            self.log.warning("%s answered numbers that were not asked for: %s", self.code, extra[:5])
        return out


def _rebind(item: Result, number: str) -> Result:
    if item.tracking_number == number:
        return item
    if isinstance(item, TrackingFailure):
        return TrackingFailure(number, item.error)
    return dataclasses.replace(
        item, tracking_number=number, carrier_ref=item.carrier_ref or item.tracking_number
    )


class OAuthCarrier(Carrier):
    """A carrier authenticated by the OAuth2 client-credentials grant at `token_path`."""

    token_path: ClassVar[str]
    basic_client_auth: ClassVar[bool] = False  # UPS: HTTP Basic; the others: form fields
    required_credentials = ("client_id", "client_secret")

    def make_auth(self) -> TokenAuth:
        """A cached bearer token, fetched (and refreshed) at `base_url + token_path`."""
        return OAuth2ClientCredentials(
            self.http,
            self.base_url + self.token_path,
            self.credential("client_id"),
            self.credential("client_secret"),
            basic_auth=self.basic_client_auth,
        )
