"""RFC 9457 problem details: the one shape every API error takes."""

from __future__ import annotations

from typing import Any

from flask import Response, json, request
from marshmallow import INCLUDE, Schema, fields

PROBLEM_TYPE_BASE = "https://leveranse.dev/problems/"
PROBLEM_JSON = "application/problem+json"


class ProblemSchema(Schema):
    """The problem document, as the OpenAPI document shows it (problem types may add members)."""

    class Meta:
        unknown = INCLUDE

    type = fields.String(required=True, metadata={"example": PROBLEM_TYPE_BASE + "not-found"})
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    instance = fields.String(metadata={"description": "The request's path"})
    errors = fields.Dict(
        keys=fields.String(),
        metadata={"description": "Messages per field (nested for nested fields and list items)"},
    )


def problem_response(
    status: int, title: str, detail: str | None = None, *, kind: str | None = None, **extra: Any
) -> Response:
    """Build an `application/problem+json` response."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + (kind or str(status)),
        "title": title,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    body["instance"] = request.path
    body.update({key: value for key, value in extra.items() if value is not None})
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    return response


class ApiProblem(Exception):
    """Raised by views to answer with a problem document (use cases raise app.errors instead)."""

    def __init__(
        self, status: int, title: str, detail: str | None = None, *, kind: str | None = None, **extra
    ):
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.kind = kind
        self.extra = extra

    def to_response(self) -> Response:
        """Render as problem+json."""
        return problem_response(self.status, self.title, self.detail, kind=self.kind, **self.extra)
