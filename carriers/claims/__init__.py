"""Carrier claims: file and follow claims over carrier APIs (USPS, EasyPost), or pre-fill the carrier's form."""

from __future__ import annotations

from carriers.claims.easypost import EasyPostClaimFiler
from carriers.claims.filer import ClaimFiler
from carriers.claims.model import (
    Address,
    Attachment,
    AttachmentRole,
    CarrierClaimStatus,
    ClaimEvent,
    ClaimKind,
    ClaimNotFound,
    ClaimNotSupported,
    ClaimRejected,
    ClaimRequest,
    ClaimStatus,
    Contact,
    FiledClaim,
)
from carriers.claims.packs import CLAIM_FORMS, ClaimPack, claim_pack
from carriers.claims.ups_codes import ClaimSignal, UpsClaimCode, ups_claim_code
from carriers.claims.usps import UspsClaimFiler

FILERS: dict[str, type[ClaimFiler]] = {"usps": UspsClaimFiler, "easypost": EasyPostClaimFiler}

__all__ = [
    "CLAIM_FORMS",
    "FILERS",
    "Address",
    "Attachment",
    "AttachmentRole",
    "CarrierClaimStatus",
    "ClaimEvent",
    "ClaimFiler",
    "ClaimKind",
    "ClaimNotFound",
    "ClaimNotSupported",
    "ClaimPack",
    "ClaimRejected",
    "ClaimRequest",
    "ClaimSignal",
    "ClaimStatus",
    "Contact",
    "FiledClaim",
    "UpsClaimCode",
    "claim_pack",
    "ups_claim_code",
]
