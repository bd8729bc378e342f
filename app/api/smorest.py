"""flask-smorest's Api, answering every error with problem details (API) or a friendly page (web)."""

from __future__ import annotations

from flask import render_template, request
from flask_smorest import Api
from werkzeug.exceptions import HTTPException

from app.api.problems import problem_response

FRIENDLY = {
    400: "The request could not be understood.",
    401: "Please log in.",
    403: "You do not have access to this page.",
    404: "We could not find that page.",
    405: "That action is not possible here.",
    413: "That upload is too large.",
    422: "Some of what you entered cannot be used (for example a character we cannot store). Please check it.",
    429: "Too many attempts. Please wait a minute and try again.",
}


def wants_problem_json() -> bool:
    """API and webhook callers get problem+json; people get HTML."""
    return request.path.startswith(("/api/", "/webhooks/")) or not request.accept_mimetypes.accept_html


def _field_errors(messages: object) -> dict:
    """Flatten marshmallow's {location: {field: [...]}} into {field: [...]}."""
    if not isinstance(messages, dict):
        return {}
    flat: dict = {}
    for location, fields in messages.items():
        if isinstance(fields, dict):
            flat.update(fields)
        else:
            flat[location] = fields
    return flat


class ProblemApi(Api):
    """An Api whose HTTP errors are RFC 9457 problem documents."""

    def handle_http_exception(self, error: HTTPException):
        """Render werkzeug/smorest HTTP errors (incl. 422 validation) as problem+json or a page."""
        code = error.code or 500
        if not wants_problem_json():
            message = FRIENDLY.get(code, error.description)
            return render_template("error.html", title=error.name, message=message), code
        data = getattr(error, "data", {}) or {}
        errors = _field_errors(data.get("messages")) or None
        detail = data.get("message") or error.description
        if errors:
            fields = ", ".join(sorted(str(name) for name in errors))
            detail = f"Invalid input in: {fields}"
        response = problem_response(code, error.name, detail, errors=errors)
        for name, value in (data.get("headers") or {}).items():
            response.headers[name] = value
        if error.response is not None:
            for name in ("Retry-After", "WWW-Authenticate"):
                if name in error.response.headers:
                    response.headers[name] = error.response.headers[name]
        return response
