"""Error handlers outside smorest's reach: domain problems and unexpected failures."""

from __future__ import annotations

import logging

from flask import Flask, render_template

from app.api.problems import ApiProblem, problem_response
from app.api.smorest import wants_problem_json
from app.errors import Conflict, DomainError, InvalidInput, NotFound, Unavailable
from app.extensions import db

log = logging.getLogger(__name__)

# Status and default title per domain error class; an error takes the entry of its nearest listed class.
DOMAIN_STATUS: dict[type[DomainError], tuple[int, str]] = {
    NotFound: (404, "Not Found"),
    Conflict: (409, "Conflict"),
    InvalidInput: (422, "Unprocessable Entity"),
    Unavailable: (503, "Service Unavailable"),
    DomainError: (400, "Bad Request"),
}


def domain_problem(error: DomainError) -> ApiProblem:
    """The problem document answering a domain error."""
    status, title = next(DOMAIN_STATUS[cls] for cls in type(error).__mro__ if cls in DOMAIN_STATUS)
    return ApiProblem(
        status, error.title or title, error.message, kind=error.kind, errors=error.errors, **error.details
    )


def register(app: Flask) -> None:
    """Answer ApiProblem, DomainError and unhandled exceptions with problem details; roll back the session."""

    @app.errorhandler(ApiProblem)
    def handle_problem(problem: ApiProblem):
        db.session.rollback()
        return problem.to_response()

    @app.errorhandler(DomainError)
    def handle_domain_error(error: DomainError):
        db.session.rollback()
        return domain_problem(error).to_response()

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        db.session.rollback()
        log.exception("unhandled error")
        if not wants_problem_json():
            message = "Something went wrong on our side. Nothing was changed; please try again."
            return render_template("error.html", title="Sorry", message=message), 500
        return problem_response(
            500, "Internal Server Error", "Something went wrong on our side; nothing was saved."
        )
