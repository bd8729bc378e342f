"""A shop's branding as admins edit it: colours that keep WCAG AA contrast with the text they carry, and a
logo that is a small PNG, JPEG or WebP image (never SVG: it could carry script)."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from app.admin.errors import AdminError
from app.extensions import db
from app.models import Shop, ShopBranding

#: the text colours the brand colours are used with (app/static/style.css: `#fff` on buttons, `--ink`)
WHITE = "#ffffff"
INK = "#1d2433"
AA_NORMAL_TEXT = 4.5
LOGO_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
LOGO_MAX_BYTES = 256 * 1024
LOGO_MAX_SIDE = 2000
_HEX = re.compile(r"#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})")


@dataclass(frozen=True)
class BrandingChanges:
    """The branding form's values: colours as typed (empty: the default), a new logo's bytes or None."""

    primary_colour: str
    accent_colour: str
    logo: bytes | None = None
    remove_logo: bool = False


@dataclass(frozen=True)
class Logo:
    """A checked logo: its bytes, content type and size in pixels."""

    data: bytes
    content_type: str
    width: int
    height: int


def normalise_colour(value: str) -> str | None:
    """`#rrggbb` in lower case for `#rgb`, `#rrggbb` or the same without `#`; None when not a hex colour."""
    match = _HEX.fullmatch(value.strip())
    if match is None:
        return None
    digits = match.group(1).lower()
    return "#" + (digits if len(digits) == 6 else "".join(d * 2 for d in digits))


def relative_luminance(colour: str) -> float:
    """WCAG 2.1's relative luminance of a `#rrggbb` colour."""
    channels = []
    for i in (1, 3, 5):
        c = int(colour[i : i + 2], 16) / 255
        channels.append(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4)
    red, green, blue = channels
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_ratio(first: str, second: str) -> float:
    """WCAG 2.1's contrast ratio of two `#rrggbb` colours, from 1 to 21."""
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def _checked_colour(value: str, field: str, text: str, text_name: str) -> str | None:
    if not value.strip():
        return None
    colour = normalise_colour(value)
    if colour is None:
        raise AdminError(f"{value.strip()!r} is not a hex colour such as #0b6e4f.", field)
    ratio = contrast_ratio(colour, text)
    if ratio < AA_NORMAL_TEXT:
        raise AdminError(
            f"{colour} has a contrast of {ratio:.1f}:1 with the {text_name} it carries; WCAG AA needs at "
            f"least {AA_NORMAL_TEXT}:1. Choose a {'darker' if text == WHITE else 'lighter'} colour.",
            field,
        )
    return colour


def check_logo(data: bytes) -> Logo:
    """The logo judged by its bytes (PNG, JPEG or WebP, at most LOGO_MAX_BYTES and LOGO_MAX_SIDE pixels a
    side); AdminError otherwise."""
    if len(data) > LOGO_MAX_BYTES:
        raise AdminError(f"The logo may be at most {LOGO_MAX_BYTES // 1024} kB.", "logo")
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height, kind = image.width, image.height, image.format
            if max(width, height) <= LOGO_MAX_SIDE:  # a bigger one is refused below, before decoding
                image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise AdminError("The logo must be a PNG, JPEG or WebP image.", "logo") from None
    if kind not in LOGO_TYPES:
        raise AdminError("The logo must be a PNG, JPEG or WebP image.", "logo")
    if max(width, height) > LOGO_MAX_SIDE:
        raise AdminError(f"The logo may be at most {LOGO_MAX_SIDE} pixels wide and high.", "logo")
    return Logo(data, LOGO_TYPES[kind], width, height)


def shop_branding(shop_id: int) -> ShopBranding | None:
    """The shop's branding row, or None when it never set one."""
    return db.session.get(ShopBranding, shop_id)


def update_branding(shop: Shop, changes: BrandingChanges) -> ShopBranding:
    """Check every value, then store them all (AdminError naming the first bad field, nothing stored)."""
    primary = _checked_colour(changes.primary_colour, "primary_colour", WHITE, "white button text")
    accent = _checked_colour(changes.accent_colour, "accent_colour", INK, "dark header text")
    logo = check_logo(changes.logo) if changes.logo else None
    branding = shop_branding(shop.id) or ShopBranding(shop_id=shop.id)
    branding.primary_colour, branding.accent_colour = primary, accent
    if logo is not None:
        branding.logo, branding.logo_type = logo.data, logo.content_type
        branding.logo_width, branding.logo_height = logo.width, logo.height
    elif changes.remove_logo:
        branding.logo = branding.logo_type = branding.logo_width = branding.logo_height = None
    db.session.add(branding)
    db.session.flush()
    return branding
