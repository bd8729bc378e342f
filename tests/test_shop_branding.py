"""Shop branding: admins set colours (refused below WCAG AA contrast) and a logo within their shop scope;
the shop's customer pages load its stylesheet and logo from our origin, other shops' pages do not."""

from __future__ import annotations

import io
import re

import pytest
from flask import g
from PIL import Image

from app.admin.branding import contrast_ratio
from app.extensions import db, limiter
from app.models import Role, ShopBranding, StaffUser
from app.notify.links import survey_token, unsubscribe_url
from app.web.branding import public_shop_key
from tests.factories import PASSWORD, make_shipment, make_shop

CUSTOMER = {"customer_email": "kari@example.no", "destination_postcode": "0150", "destination_country": "NO"}


@pytest.fixture(autouse=True)
def _fresh_limits(app):
    limiter.reset()
    yield
    limiter.reset()


def _image(kind: str, size: tuple[int, int] = (120, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (11, 110, 79)).save(buffer, kind)
    return buffer.getvalue()


def _login(client, role: Role = Role.ADMIN, shop_id: int | None = None) -> None:
    user = StaffUser(email=f"{role.value}-{shop_id}@leveranse.test", role=role.value, shop_id=shop_id)
    user.set_password(PASSWORD)
    db.session.add(user)
    db.session.commit()
    g.pop("_login_user", None)  # the test's app context outlives requests; Flask-Login caches the user in g
    assert client.post("/staff/login", data={"email": user.email, "password": PASSWORD}).status_code == 302


def _save(client, shop_id: int, primary: str = "", accent: str = "", logo: bytes | None = None, **extra):
    g.pop("_login_user", None)
    data = {"shop_id": str(shop_id), "primary_colour": primary, "accent_colour": accent, **extra}
    if logo is not None:
        data["logo"] = (io.BytesIO(logo), "logo.png")
    return client.post("/staff/admin/branding", data=data, content_type="multipart/form-data")


def _stylesheets(html: str) -> list[str]:
    return re.findall(r'<link rel="stylesheet" href="(/brand/[^"]+)"', html)


def test_contrast_ratio_is_wcag_s() -> None:
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21)
    assert contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert contrast_ratio("#0b6e4f", "#ffffff") == contrast_ratio("#ffffff", "#0b6e4f")


def test_saved_branding_is_applied_on_the_shops_customer_pages_only(client, app) -> None:
    shop, _ = make_shop("Fjord Sko")
    other, _ = make_shop("Andre Sko")
    shipment = make_shipment(shop, tracking_number="BRAND1", status="delivered", **CUSTOMER)
    foreign = make_shipment(other, tracking_number="BRAND2", **CUSTOMER)
    _login(client, Role.ADMIN, shop.id)
    assert "Branding of Fjord Sko" in client.get("/staff/admin/branding").get_data(as_text=True)
    logo = _image("PNG")
    response = _save(client, shop.id, primary="#8B1E3F", accent="#F4E9D8", logo=logo)
    assert response.status_code == 302
    branding = db.session.get(ShopBranding, shop.id)
    assert (branding.primary_colour, branding.accent_colour, branding.logo_type) == (
        "#8b1e3f",
        "#f4e9d8",
        "image/png",
    )
    assert (branding.logo_width, branding.logo_height) == (120, 40)

    pages = {
        "tracking page": f"/t/{shipment.link_token}",
        "survey": f"/survey/{survey_token(app.config, shipment.id)}",
        "unsubscribe": unsubscribe_url(app.config, shipment.id, "email").removeprefix(
            app.config["PUBLIC_BASE_URL"]
        ),
        "front door": f"/?shop={public_shop_key(shop.id)}",
    }
    client.post(f"/t/{shipment.link_token}/verify", data={"postcode": "0150"})
    pages["contact"] = f"/t/{shipment.link_token}/contact"
    pages["report a problem"] = f"/t/{shipment.link_token}/report"
    for name, path in pages.items():
        response = client.get(path)
        html = response.get_data(as_text=True)
        assert response.status_code == 200, name
        [css_url] = _stylesheets(html)
        assert 'class="logo"' in html and 'width="120" height="40"' in html, name
        assert "Fjord Sko" in html and "style=" not in html.split("</head>")[0], name

    css = client.get(css_url)
    assert css.mimetype == "text/css" and "immutable" in css.headers["Cache-Control"]
    assert css.get_data(as_text=True) == (
        ":root { --accent: #8b1e3f; --accent-halo: #e8d2d9; }\n"
        "body.tracking header.top { background: #f4e9d8; border-bottom-color: #f4e9d8; }\n"
        "body.tracking header.top .brand, body.tracking header.top a { color: #1d2433; }\n"
    )
    [logo_url] = re.findall(
        r'<img class="logo" src="([^"]+)"', client.get(pages["tracking page"]).get_data(as_text=True)
    )
    served = client.get(logo_url)
    assert (served.mimetype, served.data) == ("image/png", logo)
    assert served.headers["X-Content-Type-Options"] == "nosniff"

    key = public_shop_key(shop.id)
    assert f"https://track.example.test/?shop={key}" in client.get(
        f"/staff/admin/branding?shop={shop.id}"
    ).get_data(as_text=True)
    # the front door names a shop only by its signed key: plain or forged ids show no shop
    for path in (f"/t/{foreign.link_token}", "/", f"/?shop={shop.id}", f"/?shop={key[:-2]}xx", "/track"):
        html = client.get(path).get_data(as_text=True)
        assert _stylesheets(html) == [] and 'class="logo"' not in html, path
    assert client.get(f"/brand/{public_shop_key(other.id)}/1.css").status_code == 404
    assert client.get(css_url.replace(key, str(shop.id))).status_code == 404

    assert _save(client, shop.id, remove_logo="y").status_code == 302
    db.session.expire_all()
    branding = db.session.get(ShopBranding, shop.id)
    assert (branding.primary_colour, branding.logo_type, branding.logo) == (None, None, None)
    assert client.get(logo_url).status_code == 404


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"primary": "green"}, "primary_colour", "'green' is not a hex colour"),
        ({"primary": "#12345"}, "primary_colour", "not a hex colour"),
        (
            {"primary": "#777777"},
            "primary_colour",
            "#777777 has a contrast of 4.5:1 with the white button text",
        ),
        ({"primary": "#ffcc00"}, "primary_colour", "Choose a darker colour."),
        (
            {"accent": "#5b6478"},
            "accent_colour",
            "with the dark header text it carries; WCAG AA needs at least",
        ),
        ({"logo": b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"}, "logo", "PNG"),
        ({"logo": _image("GIF")}, "logo", "must be a PNG, JPEG or WebP image"),
        ({"logo": _image("PNG", (2400, 10))}, "logo", "at most 2000 pixels"),
        ({"logo": b"\x89PNG" + bytes(300 * 1024)}, "logo", "at most 256 kB"),
    ],
)
def test_refused_branding_says_why_and_stores_nothing(client, fields, field, message) -> None:
    shop, _ = make_shop("Fjord Sko")
    _login(client)
    values = {"primary": "#0b6e4f", "accent": "", **fields}
    response = _save(
        client, shop.id, primary=values["primary"], accent=values["accent"], logo=values.get("logo")
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in html.replace("&#39;", "'")
    assert db.session.get(ShopBranding, shop.id) is None


def test_another_shops_branding_is_a_404_and_only_admins_may_edit(client) -> None:
    shop, _ = make_shop("Fjord Sko")
    other, _ = make_shop("Andre Sko")
    _login(client, Role.ADMIN, shop.id)
    g.pop("_login_user", None)
    assert client.get(f"/staff/admin/branding?shop={other.id}").status_code == 404
    assert _save(client, other.id, primary="#0b6e4f").status_code == 404
    assert db.session.get(ShopBranding, other.id) is None
    client.post("/staff/logout")
    for role in (Role.AGENT, Role.VIEWER):
        _login(client, role)
        g.pop("_login_user", None)
        assert client.get(f"/staff/admin/branding?shop={shop.id}").status_code == 403
        assert _save(client, shop.id, primary="#0b6e4f").status_code == 403
        client.post("/staff/logout")
    assert db.session.get(ShopBranding, shop.id) is None


def test_saving_needs_the_csrf_token(client, app) -> None:
    shop, _ = make_shop("Fjord Sko")
    _login(client)
    app.config["WTF_CSRF_ENABLED"] = True
    assert _save(client, shop.id, primary="#0b6e4f").status_code == 400
    assert db.session.get(ShopBranding, shop.id) is None
