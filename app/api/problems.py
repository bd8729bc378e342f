"""RFC 9457 problem details: the one shape every API error takes."""

from __future__ import annotations

from typing import Any

from flask import Response, json, request

PROBLEM_TYPE_BASE = "https://leveranse.dev/problems/"


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
    response = Response(json.dumps(body), status=status, mimetype="application/problem+json")
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
