"""The front door (`/`): customers track a parcel; shops find the API documentation, staff the sign-in.
Its route joins `tracking.bp`, so it shares the tracking pages' language choice and language links."""

from __future__ import annotations

from flask import render_template

from app.web.tracking import LookupForm, bp, use_language


@bp.get("/")
def front():
    """The start page, in the visitor's language (`?lang=`, else Accept-Language)."""
    use_language(None)
    return render_template("front/index.html", form=LookupForm(formdata=None))
