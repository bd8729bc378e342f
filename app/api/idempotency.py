"""`Idempotency-Key` on POSTs: the first answer is stored and replayed for retries of the same request."""

from __future__ import annotations

import functools
import hashlib
import json

from flask import Response, g, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.api.problems import ApiProblem
from app.extensions import db
from app.models import IdempotencyRecord

MAX_KEY_LENGTH = 200


def _fingerprint() -> str:
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    if request.mimetype == "multipart/form-data":
        # The boundary is random per encoding, so a client re-encoding its retry sends other bytes:
        # compare the fields and files instead, in the order sent.
        for name, value in request.form.items(multi=True):
            digest.update(json.dumps(["field", name, value]).encode())
        for name, part in request.files.items(multi=True):
            digest.update(json.dumps(["file", name, part.filename]).encode())
            digest.update(hashlib.sha256(part.stream.read()).digest())
            part.stream.seek(0)
    else:
        digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def _replay(record: IdempotencyRecord, fingerprint: str) -> Response:
    if record.request_fingerprint != fingerprint:
        raise ApiProblem(
            422,
            "Idempotency-Key reused",
            "This Idempotency-Key was already used with a different request.",
            kind="idempotency-key-reused",
        )
    response = Response(record.response_body, status=record.status_code, mimetype="application/json")
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _find(key: str) -> IdempotencyRecord | None:
    return db.session.scalar(
        select(IdempotencyRecord).where(IdempotencyRecord.shop_id == g.shop.id, IdempotencyRecord.key == key)
    )


def idempotent(view):
    """Run the view once per key; the view flushes, this wrapper owns the commit."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get("Idempotency-Key")
        if key is None:
            response = view(*args, **kwargs)
            db.session.commit()
            return response
        if not key.strip() or len(key) > MAX_KEY_LENGTH:
            raise ApiProblem(
                400, "Bad Idempotency-Key", f"Use 1 to {MAX_KEY_LENGTH} characters.", kind="bad-request"
            )
        fingerprint = _fingerprint()
        existing = _find(key)
        if existing is not None:
            return _replay(existing, fingerprint)
        response = view(*args, **kwargs)
        if response.status_code < 500:
            db.session.add(
                IdempotencyRecord(
                    shop_id=g.shop.id,
                    key=key,
                    request_fingerprint=fingerprint,
                    status_code=response.status_code,
                    response_body=response.get_data(as_text=True),
                )
            )
        try:
            db.session.commit()
        except IntegrityError:
            # A concurrent request with the same key won the race: answer as it did.
            db.session.rollback()
            return _replay(_find(key), fingerprint)
        return response

    return wrapper
