"""UPS claim signals inside Tracking: which codes open, mirror or block a claim (CARRIER-RULES §2b).

UPS has no claims API, but its Track API reports claim and investigation state. Two code tables matter
and they overlap: the 3-digit `status.statusCode` ("Status/Description Codes": 059 Damage Reported,
129 Investigation Opened, 140 Claim Paid …) and the 2-character `status.code` ("Package Exceptions":
2G not claim eligible, UO lost package investigation …). The same digits mean different things in the
two tables (exception 59 is a late delivery), so each table is looked up by its own field. Texts are
UPS's, from the copy of UPS's tables in github:karrioapi/karrio
modules/connectors/ups/vendors/Tracking-package-exceptions.html [K2].
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from carriers.claims.model import ClaimKind, ClaimStatus


class ClaimSignal(StrEnum):
    """What a code means for our claims."""

    INCIDENT = "incident"  # loss or damage reported: open (or prepare) a claim of `kind`
    CARRIER_CLAIM = "carrier_claim"  # UPS's own claim / investigation moved: mirror `status`
    NOT_ELIGIBLE = "not_eligible"  # window missed or account restriction: alert staff, do not file


@dataclass(frozen=True)
class UpsClaimCode:
    """One UPS code: its text, the signal, and the claim kind or status it implies."""

    text: str
    signal: ClaimSignal
    kind: ClaimKind | None = None
    status: ClaimStatus | None = None  # None for CARRIER_CLAIM: decided, but UPS tells only the shipper


def _incident(text: str, kind: ClaimKind) -> UpsClaimCode:
    return UpsClaimCode(text, ClaimSignal.INCIDENT, kind=kind)


def _claim(text: str, status: ClaimStatus | None) -> UpsClaimCode:
    return UpsClaimCode(text, ClaimSignal.CARRIER_CLAIM, status=status)


def _blocked(text: str) -> UpsClaimCode:
    return UpsClaimCode(text, ClaimSignal.NOT_ELIGIBLE)


K, S = ClaimKind, ClaimStatus

# `status.statusCode`, zero-padded to three digits as the Track API sends it.
STATUS_CODES: dict[str, UpsClaimCode] = {
    "059": _incident("Damage Reported", K.DAMAGED),
    "068": _incident("Sent to Lost and Found", K.LOST),
    "081": _incident("Returned - Damage Reported", K.DAMAGED),
    "128": _claim("Investigation Canceled", S.CANCELLED),
    "129": _claim("Investigation Opened", S.SUBMITTED),
    "130": _claim("Claim in Progress", S.IN_REVIEW),
    "140": _claim("Claim Paid - Claim Payment Has Been Processed.", S.PAID),
    "141": _claim("Incomplete Documentation Received", S.NEEDS_INFORMATION),
    "142": _claim("Claim Voided", S.CANCELLED),
}

# `status.code` of exception (type X) activities.
EXCEPTION_CODES: dict[str, UpsClaimCode] = {
    "24": _incident("Merchandise missing, balance being returned.", K.MISSING_CONTENTS),
    "25": _incident("Merchandise missing, balance is being delivered.", K.MISSING_CONTENTS),
    "26": _incident("All merchandise missing, empty carton was discarded.", K.MISSING_CONTENTS),
    "27": _incident("All merchandise missing, empty carton is being returned.", K.MISSING_CONTENTS),
    "45": _incident("Your package was damaged in transit.", K.DAMAGED),
    "S9": _incident("We've sent the package to UPS lost and found.", K.LOST),
    "TJ": _incident("We sent the package to UPS Lost and Found.", K.LOST),
    "UO": _incident("Lost package investigation", K.LOST),
    "UL": _claim("Claim issued.", S.SUBMITTED),
    "6X": _claim("The claim documentation is currently under review.", S.IN_REVIEW),
    "5B": _claim(
        "This claim requires additional documentation to complete the process.", S.NEEDS_INFORMATION
    ),
    "GO": _claim("The investigation requires additional merchandise description.", S.NEEDS_INFORMATION),
    "5A": _claim("This claim has been processed. Please reach out to the sender for details.", None),
    "GN": _claim("Your investigation has been closed with a proof of delivery.", S.DENIED),
    "6W": _claim("This claim request has been voided.", S.CANCELLED),
    "GR": _claim("This investigation has been closed and the claim was canceled.", S.CANCELLED),
    "2G": _blocked("The package is not claim eligible because the liability period has passed."),
    "3Z": _blocked("The package is not claim eligible because there is a contract or account restriction."),
    "I9": _blocked("There are instructions on your account that resulted in closing the claim."),
}


def ups_claim_code(status_code: str = "", code: str = "") -> UpsClaimCode | None:
    """The claim meaning of one UPS activity: its 3-digit `statusCode` first, then its exception `code`."""
    digits = status_code.strip()
    if digits.isdigit():
        found = STATUS_CODES.get(digits.zfill(3))
        if found is not None:
            return found
    return EXCEPTION_CODES.get(code.strip().upper())
