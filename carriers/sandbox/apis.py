"""Explicit registry of the sandbox carriers."""

from __future__ import annotations

from carriers.sandbox.base import CarrierApi
from carriers.sandbox.bring import BringApi
from carriers.sandbox.dhl import DhlApi
from carriers.sandbox.fedex import FedExApi
from carriers.sandbox.gls import GlsApi
from carriers.sandbox.postnord import PostNordApi
from carriers.sandbox.thailandpost import ThailandPostApi
from carriers.sandbox.ups import UpsApi
from carriers.sandbox.usps import UspsApi

CARRIER_APIS: dict[str, type[CarrierApi]] = {
    "bring": BringApi,
    "postnord": PostNordApi,
    "dhl": DhlApi,
    "ups": UpsApi,
    "fedex": FedExApi,
    "usps": UspsApi,
    "gls": GlsApi,
    "thailandpost": ThailandPostApi,
}


def make_apis() -> dict[str, CarrierApi]:
    """One fresh instance of every sandbox carrier, keyed by code."""
    return {code: cls() for code, cls in CARRIER_APIS.items()}
