"""API-key authentication for the shop API."""

from __future__ import annotations

from datetime import timedelta

from flask import g, request
from sqlalchemy import or_, select, update

from app.api.problems import ApiProblem
from app.extensions import db
from app.models import ApiKey
from app.models.types import utcnow

# `last_used_at` is for people ("used today?"): one write a minute per key at most, not one per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


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
    _note_use(key)
    g.api_key = key
    g.shop = key.shop


def _note_use(key: ApiKey) -> None:
    """Stamp `last_used_at` when it is older than LAST_USED_RESOLUTION; committed at once, before the view
    runs, so read-only requests record it too (the guarded UPDATE lets only one concurrent request write)."""
    now = utcnow()
    if key.last_used_at is not None and now - key.last_used_at < LAST_USED_RESOLUTION:
        return
    stale = now - LAST_USED_RESOLUTION
    db.session.execute(
        update(ApiKey)
        .where(ApiKey.id == key.id, or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at <= stale))
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
