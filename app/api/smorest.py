"""flask-smorest's Api, answering every error with problem details (API) or a friendly page (web), and
documenting those answers as they are sent."""

from __future__ import annotations

from http import HTTPStatus

from apispec import BasePlugin
from flask import render_template, request
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from marshmallow.fields import Field
from werkzeug.exceptions import HTTPException

from app.api.problems import PROBLEM_JSON, ProblemSchema, problem_response

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


class CommonProblems(BasePlugin):
    """Document the problems any operation may answer with: 401 (every operation needs an API key), 404
    (the path names something) and 400 and 413 (a body that is not JSON, nests too deep or is too large).
    Views document their own others, e.g. `@bp.alt_response(409, response="CONFLICT")`."""

    def operation_helper(self, path: str | None = None, operations: dict | None = None, **kwargs) -> None:
        """Add the common problem responses an operation does not list yet."""
        for operation in (operations or {}).values():
            responses = operation.setdefault("responses", {})
            statuses = [HTTPStatus.UNAUTHORIZED]
            if "{" in (path or ""):
                statuses.append(HTTPStatus.NOT_FOUND)
            if "requestBody" in operation:
                statuses += [HTTPStatus.BAD_REQUEST, HTTPStatus.REQUEST_ENTITY_TOO_LARGE]
            listed = {str(code) for code in responses}
            for status in statuses:
                if str(status.value) not in listed:
                    responses[status.value] = status.name


def self_described2properties(self, field: Field, ret: dict, **kwargs) -> dict:
    """apispec attribute function: a field with `openapi_properties()` states its own wire format, in place
    of the type, format and bounds inferred from its class (e.g. a decimal sent as a JSON string)."""
    describe = getattr(field, "openapi_properties", None)
    if describe is None:
        return {}
    for key in ("type", "format", "minimum", "maximum", "x-minimum", "x-maximum"):
        ret.pop(key, None)
    return describe()


class ProblemApi(Api):
    """An Api whose HTTP errors are RFC 9457 problem documents, and whose OpenAPI document says so."""

    ERROR_SCHEMA = ProblemSchema
    # No catch-all "default" response: each operation lists the statuses it answers with.
    DEFAULT_ERROR_RESPONSE_NAME = None

    def _init_spec(self, *, extra_plugins=None, **kwargs) -> None:
        super()._init_spec(extra_plugins=[*(extra_plugins or ()), CommonProblems()], **kwargs)
        self.ma_plugin.converter.add_attribute_function(self_described2properties)

    def _register_responses(self) -> None:
        """A component response per error status (e.g. `CONFLICT`): a problem document."""
        for status in HTTPStatus:
            if status >= 400:
                response = {"description": status.phrase, "schema": self.ERROR_SCHEMA}
                prepare_response(response, self.spec, PROBLEM_JSON)
                self.spec.components.response(status.name, response, lazy=True)

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
