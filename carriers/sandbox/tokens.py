"""Access tokens the sandbox hands out (OAuth2 client credentials, Thailand Post tokens) and checks."""

from __future__ import annotations

import base64
import binascii
import secrets
import threading
import time
from enum import StrEnum

from werkzeug import Request


class TokenState(StrEnum):
    """What a presented token turned out to be."""

    VALID = "valid"
    EXPIRED = "expired"
    INVALID = "invalid"


class TokenStore:
    """Thread-safe tokens per carrier, expiring after `ttl` real seconds."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._lock = threading.Lock()
        self._tokens: dict[str, tuple[str, float]] = {}  # token -> (carrier, monotonic expiry)

    def issue(self, carrier: str) -> str:
        """A fresh token for `carrier`."""
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[token] = (carrier, time.monotonic() + self.ttl)
        return token

    def check(self, carrier: str, token: str | None) -> TokenState:
        """Whether `token` is a live token of `carrier`."""
        found = self._tokens.get(token or "")
        if found is None or found[0] != carrier:
            return TokenState.INVALID
        return TokenState.VALID if time.monotonic() < found[1] else TokenState.EXPIRED


def bearer_token(request: Request) -> str | None:
    """The token of an `Authorization: Bearer …` header (scheme case-insensitive)."""
    return _scheme_value(request, "bearer")


def token_header(request: Request) -> str | None:
    """The value of an `Authorization: Token …` header (Thailand Post)."""
    return _scheme_value(request, "token")


def _scheme_value(request: Request, scheme: str) -> str | None:
    header = request.headers.get("Authorization", "")
    name, _, value = header.partition(" ")
    return value.strip() or None if name.lower() == scheme else None


def client_credentials(request: Request) -> tuple[str, str] | None:
    """Client id and secret from HTTP Basic auth, or else from the form (or JSON) body."""
    name, _, value = request.headers.get("Authorization", "").partition(" ")
    if name.lower() == "basic":
        try:
            client_id, sep, secret = base64.b64decode(value.strip()).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return (client_id, secret) if sep else None
    data = request.form if request.form else (request.get_json(silent=True) or {})
    client_id, secret = data.get("client_id"), data.get("client_secret")
    return (client_id, secret) if client_id and secret else None


def grant_type(request: Request) -> str | None:
    """The OAuth2 `grant_type` of a token request (form or JSON)."""
    data = request.form if request.form else (request.get_json(silent=True) or {})
    return data.get("grant_type")
