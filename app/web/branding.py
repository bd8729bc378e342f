"""Shop branding on the customer pages: a small per-shop stylesheet and the logo, both from our origin (the
pages' content security policy allows no other), with versioned URLs so browsers may cache them for good."""

from __future__ import annotations

import functools

from flask import Blueprint, Response, abort, current_app, url_for
from itsdangerous import BadSignature, URLSafeSerializer

from app.admin.branding import INK, normalise_colour, shop_branding
from app.extensions import db
from app.models import Shop, ShopBranding

bp = Blueprint("branding", __name__)
CACHE_FOREVER = "public, max-age=31536000, immutable"
_KEY_SALT = "shop-branding"


def public_shop_key(shop_id: int) -> str:
    """An unforgeable stand-in for a shop id in public URLs (plain ids would let anyone list our shops)."""
    return _signed_shop_id(current_app.config["SECRET_KEY"], shop_id)


@functools.lru_cache(maxsize=4096)  # one signature per shop and key, not one per page
def _signed_shop_id(secret_key: str | bytes, shop_id: int) -> str:
    return URLSafeSerializer(secret_key, salt=_KEY_SALT).dumps(shop_id)


def shop_id_from_key(key: str) -> int | None:
    """The shop id a public key stands for; None when it is forged or malformed."""
    try:
        shop_id = URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_KEY_SALT).loads(key)
    except BadSignature:
        return None
    return shop_id if isinstance(shop_id, int) else None


def _version(branding: ShopBranding) -> str:
    return branding.updated_at.strftime("%Y%m%d%H%M%S%f")


@bp.app_template_global()
def brand_for(shop: Shop | None) -> dict | None:
    """What the customer layout needs to brand a page for `shop`: the stylesheet's URL and the logo's URL
    and size (None for a shop without branding, or no shop)."""
    branding = shop_branding(shop.id) if shop is not None else None
    if branding is None:
        return None
    key, version = public_shop_key(shop.id), _version(branding)
    return {
        "css_url": url_for("branding.stylesheet", key=key, version=version),
        "logo_url": url_for("branding.logo", key=key, version=version) if branding.logo_type else None,
        "logo_width": branding.logo_width,
        "logo_height": branding.logo_height,
    }


def _tint(colour: str, share_of_white: float = 0.8) -> str:
    """`colour` mixed with white (the halo around the current step of the progress bar)."""
    channels = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return "#" + "".join(f"{round(c + (255 - c) * share_of_white):02x}" for c in channels)


def brand_css(branding: ShopBranding) -> str:
    """The shop's stylesheet: the primary colour replaces the accent of buttons and progress marks; the
    accent colour fills the header, whose text then takes the ink colour it was checked against."""
    rules = []
    primary = normalise_colour(branding.primary_colour or "")
    accent = normalise_colour(branding.accent_colour or "")
    if primary:
        rules.append(f":root {{ --accent: {primary}; --accent-halo: {_tint(primary)}; }}")
    if accent:
        rules.append(f"body.tracking header.top {{ background: {accent}; border-bottom-color: {accent}; }}")
        rules.append(f"body.tracking header.top .brand, body.tracking header.top a {{ color: {INK}; }}")
    return "\n".join(rules) + "\n"


def _branding(key: str) -> ShopBranding:
    shop_id = shop_id_from_key(key)
    branding = db.session.get(ShopBranding, shop_id) if shop_id is not None else None
    if branding is None:
        abort(404)
    return branding


@bp.get("/brand/<key>/<version>.css")
def stylesheet(key: str, version: str) -> Response:
    """The shop's colours as CSS (the version in the URL changes with every save)."""
    branding = _branding(key)
    response = Response(brand_css(branding), mimetype="text/css")
    response.headers["Cache-Control"] = CACHE_FOREVER
    return response


@bp.get("/brand/<key>/<version>/logo")
def logo(key: str, version: str) -> Response:
    """The shop's logo, with the content type its bytes were checked to be."""
    branding = _branding(key)
    if branding.logo_type is None:
        abort(404)
    response = Response(branding.logo, mimetype=branding.logo_type)
    response.headers["Cache-Control"] = CACHE_FOREVER
    return response
