"""The explicit carrier registries: polling clients, pure parsers, webhook modules, production hosts."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

from carriers import aftership, bring, dhl, easypost, fedex, gls, postnord, thailandpost, ups, usps
from carriers.base import Carrier, Result
from carriers.claims import easypost as easypost_claims

CARRIERS: dict[str, type[Carrier]] = {
    "bring": bring.BringCarrier,
    "postnord": postnord.PostNordCarrier,
    "dhl": dhl.DhlCarrier,
    "ups": ups.UpsCarrier,
    "fedex": fedex.FedexCarrier,
    "usps": usps.UspsCarrier,
    "gls": gls.GlsCarrier,
    "thailandpost": thailandpost.ThailandPostCarrier,
}

DISPLAY_NAMES: dict[str, str] = {code: carrier.display_name for code, carrier in CARRIERS.items()}

WEBHOOKS: dict[str, ModuleType] = {"easypost": easypost, "aftership": aftership}

PARSERS: dict[str, Callable[[bytes | str], list[Result]]] = {
    **{code: carrier.parse for code, carrier in CARRIERS.items()},
    **{code: module.parse_tracking for code, module in WEBHOOKS.items()},
}

DEFAULT_BASE_URLS: dict[str, str] = {
    **{code: carrier.default_base_url for code, carrier in CARRIERS.items()},
    "easypost": easypost_claims.DEFAULT_BASE_URL,  # its claims API
}
