"""Carrier authentication that needs state: OAuth2 client-credentials and Thailand Post token caches."""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

from carriers.errors import CarrierAuthError, CarrierError, MalformedPayload
from carriers.http import HttpClient
from carriers.payload import load_json, require_object, text
from carriers.timeparse import UTC, parse_iso

EXPIRY_MARGIN = 60.0  # renew a minute early so a token never expires in flight
DEFAULT_LIFETIME = 3600.0


@dataclass(frozen=True)
class Token:
    """A bearer-style token and the monotonic time it stops being usable."""

    value: str
    expires_at: float


class TokenAuth(ABC):
    """Caches a token until shortly before expiry; `invalidate()` forces the next call to fetch anew."""

    scheme = "Bearer"

    def __init__(self, http: HttpClient, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.http = http
        self._clock = clock
        self._token: Token | None = None
        self._lock = threading.Lock()
        self.fetches = 0

    @abstractmethod
    def fetch(self) -> Token:
        """Obtain a fresh token from the carrier."""

    def token(self) -> str:
        """A valid token (fetched at most once at a time, across threads)."""
        with self._lock:
            if self._token is None or self._clock() >= self._token.expires_at:
                self._token = self.fetch()
                self.fetches += 1
            return self._token.value

    def headers(self) -> dict[str, str]:
        """The Authorization header for a carrier call."""
        return {"Authorization": f"{self.scheme} {self.token()}"}

    def invalidate(self) -> None:
        """Forget the cached token (after a 401)."""
        with self._lock:
            self._token = None

    def _expiry(self, lifetime: float) -> float:
        return self._clock() + max(0.0, lifetime - EXPIRY_MARGIN)


class OAuth2ClientCredentials(TokenAuth):
    """RFC 6749 client-credentials grant; client auth by HTTP Basic (UPS) or form fields (others)."""

    def __init__(
        self,
        http: HttpClient,
        token_url: str,
        client_id: str,
        client_secret: str,
        *,
        basic_auth: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(http, clock=clock)
        self.token_url = token_url
        self.client_id = client_id
        self.client_secret = client_secret
        self.basic_auth = basic_auth

    def fetch(self) -> Token:
        """POST grant_type=client_credentials and read `access_token` / `expires_in`."""
        form = {"grant_type": "client_credentials"}
        auth = None
        if self.basic_auth:
            auth = (self.client_id, self.client_secret)
        else:
            form |= {"client_id": self.client_id, "client_secret": self.client_secret}
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
        response = self.http.request(
            "POST", self.token_url, data=form, auth=auth, headers=headers, not_found_on_404=False
        )
        body = _token_body(response.content)
        value = text(body.get("access_token"))
        if not value:
            raise CarrierAuthError(f"{self.http.carrier}: token response without access_token")
        try:
            lifetime = float(body.get("expires_in") or DEFAULT_LIFETIME)
        except (TypeError, ValueError):
            lifetime = DEFAULT_LIFETIME
        return Token(value, self._expiry(lifetime))


class ThailandPostToken(TokenAuth):
    """Two-step auth: the dashboard API key buys a short-lived token (`{expire, token}`)."""

    scheme = "Token"

    def __init__(
        self,
        http: HttpClient,
        token_url: str,
        api_key: str,
        *,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(http, clock=clock)
        self.token_url = token_url
        self.api_key = api_key
        self._now = now

    def fetch(self) -> Token:
        """POST the token endpoint with `Authorization: Token <api key>`."""
        headers = {"Authorization": f"Token {self.api_key}", "Content-Type": "application/json"}
        response = self.http.request("POST", self.token_url, headers=headers, not_found_on_404=False)
        body = _token_body(response.content)
        value = text(body.get("token"))
        if not value:
            raise CarrierAuthError(f"{self.http.carrier}: token response without token")
        lifetime = DEFAULT_LIFETIME
        expire = text(body.get("expire"))
        if expire:
            try:
                lifetime = parse_iso(expire, UTC)[0].timestamp() - self._now()
            except MalformedPayload:
                lifetime = DEFAULT_LIFETIME
        return Token(value, self._expiry(lifetime))


def _token_body(content: bytes) -> dict:
    try:
        return require_object(load_json(content), "body")
    except CarrierError as exc:
        raise CarrierAuthError(f"unreadable token response: {exc.message}") from exc
