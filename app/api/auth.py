"""API-key authentication for the shop API."""

from __future__ import annotations

from flask import g, request
from sqlalchemy import select

from app.api.problems import ApiProblem
from app.extensions import db
from app.models import ApiKey


def _presented_key() -> str | None:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.headers.get("X-Api-Key")


def require_api_key() -> None:
    """before_request hook: resolve the key to its shop in `g.shop`, or answer 401."""
    plain = _presented_key()
    if not plain:
        raise ApiProblem(
            401, "Unauthorized", "Send your API key as 'Authorization: Bearer <key>'.", kind="unauthorized"
        )
    key = db.session.scalar(select(ApiKey).where(ApiKey.key_hash == ApiKey.hash_key(plain)))
    if key is None or key.revoked_at is not None:
        raise ApiProblem(401, "Unauthorized", "The API key is unknown or revoked.", kind="unauthorized")
    g.api_key = key
    g.shop = key.shop
