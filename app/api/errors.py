"""Error handlers outside smorest's reach: domain problems and unexpected failures."""

from __future__ import annotations

import logging

from flask import Flask, render_template

from app.api.problems import ApiProblem, problem_response
from app.api.smorest import wants_problem_json
from app.extensions import db

log = logging.getLogger(__name__)


def register(app: Flask) -> None:
    """Answer ApiProblem and unhandled exceptions with problem details; roll back the session."""

    @app.errorhandler(ApiProblem)
    def handle_problem(problem: ApiProblem):
        db.session.rollback()
        return problem.to_response()

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
