"""Explicit registry of the sandbox carriers."""

from __future__ import annotations

from carriers.sandbox.base import CarrierApi
from carriers.sandbox.bring import BringApi
from carriers.sandbox.claims import ClaimsApi
from carriers.sandbox.dhl import DhlApi
from carriers.sandbox.easypost_claims import EasyPostClaimsApi
from carriers.sandbox.fedex import FedExApi
from carriers.sandbox.gls import GlsApi
from carriers.sandbox.postnord import PostNordApi
from carriers.sandbox.thailandpost import ThailandPostApi
from carriers.sandbox.ups import UpsApi
from carriers.sandbox.usps import UspsApi
from carriers.sandbox.usps_claims import UspsClaimsApi

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


# Claims APIs; a code that is not a tracking carrier (easypost) gets its own URL prefix.
CLAIM_APIS: dict[str, type[ClaimsApi]] = {"usps": UspsClaimsApi, "easypost": EasyPostClaimsApi}


def make_apis() -> dict[str, CarrierApi]:
    """One fresh instance of every sandbox carrier, keyed by code."""
    return {code: cls() for code, cls in CARRIER_APIS.items()}


def make_claim_apis() -> dict[str, ClaimsApi]:
    """One fresh instance of every sandbox claims API, keyed by code."""
    return {code: cls() for code, cls in CLAIM_APIS.items()}
