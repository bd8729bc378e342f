"""The front door (`/`): customers track a parcel; shops find the API documentation, staff the sign-in.
Its route joins `tracking.bp`, so it shares the tracking pages' language choice and language links."""

from __future__ import annotations

from flask import render_template, request, url_for

from app.extensions import db
from app.models import Shop
from app.web.branding import shop_id_from_key
from app.web.tracking import LANGUAGE_NAMES, LookupForm, bp, use_language


@bp.get("/")
def front():
    """The start page, in the visitor's language (`?lang=`, else Accept-Language); a shop that links its
    customers here with `?shop=KEY` (the link on its branding page) gets its name and branding on it."""
    use_language(None)
    shop_id = shop_id_from_key(request.args.get("shop", ""))
    shop = db.session.get(Shop, shop_id) if shop_id is not None else None
    keep = {"shop": request.args["shop"]} if shop else {}
    links = {code: (name, url_for(".front", lang=code, **keep)) for code, name in LANGUAGE_NAMES.items()}
    return render_template(
        "front/index.html", form=LookupForm(formdata=None), shop=shop, language_links=links
    )
