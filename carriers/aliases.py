"""Names aggregators (EasyPost carrier names, AfterShip slugs) use for the carriers we poll ourselves."""

from __future__ import annotations

ALIASES = {
    "bring": "bring",
    "posten-norge": "bring",
    "postennorge": "bring",
    "postnord": "postnord",
    "danmark-post": "postnord",
    "postnord-denmark": "postnord",
    "sweden-posten": "postnord",
    "dhl": "dhl",
    "dhlexpress": "dhl",
    "dhl-express": "dhl",
    "dhlecommerce": "dhl",
    "dhl-germany": "dhl",
    "ups": "ups",
    "upsmailinnovations": "ups",
    "fedex": "fedex",
    "fedexsmartpost": "fedex",
    "usps": "usps",
    "gls": "gls",
    "glsdenmark": "gls",
    "thailand-post": "thailandpost",
    "thailandpost": "thailandpost",
    "thaipost": "thailandpost",
}


def carrier_code_for(name: str | None) -> str | None:
    """Our carrier code for an aggregator's carrier name or slug, or None when it is not one we know."""
    if not name:
        return None
    key = "".join(name.split()).lower().replace("_", "-")
    return ALIASES.get(key) or ALIASES.get(key.replace("-", ""))
