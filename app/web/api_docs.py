"""The shop API's documentation: Swagger UI rendering the served OpenAPI document, all from this
server (the page policy allows no other origin and no inline script; `static/api-docs.js` starts it)."""

from __future__ import annotations

from flask import Blueprint, render_template, send_from_directory, url_for
from swagger_ui_bundle import swagger_ui_path

bp = Blueprint("api_docs", __name__, url_prefix="/api/v1/docs")


@bp.get("/")
def page():
    """Swagger UI over `/api/v1/openapi.json`."""
    return render_template("api_docs/index.html", spec_url=url_for("api-docs.openapi_json"))


@bp.get("/swagger-ui/<path:filename>")
def swagger_ui(filename: str):
    """Swagger UI's own files, from the pinned `swagger-ui-bundle` package."""
    return send_from_directory(swagger_ui_path, filename)
