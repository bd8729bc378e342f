"""What the push carriers share: case-insensitive headers and constant-time HMAC-SHA256 checks."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header value by case-insensitive name (carriers changed the case between API versions)."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def hmac_sha256(secret: str, body: bytes) -> bytes:
    """HMAC-SHA256 of the raw body bytes (never of a re-serialised payload)."""
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()


def same_signature(expected: str, given: str) -> bool:
    """Constant-time comparison of two signature strings."""
    return hmac.compare_digest(expected.encode("utf-8"), given.strip().encode("utf-8"))
