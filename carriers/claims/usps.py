"""USPS – Indemnity Claims 3.0 (`POST /indemnity-claims/v3/claims`, `GET …/claims/{claimId}`).

Sources: the two paths and OAuth2 client credentials on `apis.usps.com` come from USPS's API catalogue
(developers.usps.com/indemnityclaimsv3) and a public client built on USPS's `indemnity-claims_1.yaml`
(CARRIER-RULES [US5][US10]). That OpenAPI file itself was not available to us, so the body field
names below are **unverified**: they follow USPS's v3 conventions (camelCase, the `{apiVersion, error:
{code, message, errors}}` error envelope of Tracking v3) and the content of the paper/online domestic
claim, PS Form 1000 and Publication 122 (claim type lost / damaged / missing contents, mailing date,
amount, contents, claimant, sender and recipient, proof of value) [US3][US4]. The list lookup
`GET /indemnity-claims/v3/claims?trackingNumber=` and the `X-Idempotency-Key` header are assumptions
too; the sandbox implements them. Check all of it against the spec before production use.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from carriers.base import CarrierSettings
from carriers.claims.filer import ClaimFiler, claim_error, money
from carriers.claims.model import (
    Address,
    AttachmentRole,
    CarrierClaimStatus,
    ClaimKind,
    ClaimNotFound,
    ClaimNotSupported,
    ClaimRejected,
    ClaimRequest,
    ClaimStatus,
)
from carriers.errors import CarrierAuthError, MalformedPayload, TrackingNotFound
from carriers.payload import load_json, objects, parser, require_object, text
from carriers.timeparse import UTC, parse_iso
from carriers.usps import UspsCarrier

CODE = "usps"
CLAIMS_PATH = "/indemnity-claims/v3/claims"
IDEMPOTENCY_HEADER = "X-Idempotency-Key"
log = logging.getLogger("carriers.claims.usps")

CLAIM_TYPES: dict[ClaimKind, str] = {
    ClaimKind.LOST: "LOST",
    # USPS has no "delivered, not received" type: it is a lost item after a missing-mail search.
    ClaimKind.DELIVERED_NOT_RECEIVED: "LOST",
    ClaimKind.DAMAGED: "DAMAGED",
    ClaimKind.MISSING_CONTENTS: "MISSING_CONTENTS",
}
DOCUMENT_TYPES: dict[AttachmentRole, str] = {
    AttachmentRole.INVOICE: "PROOF_OF_VALUE",
    AttachmentRole.PHOTO: "PROOF_OF_DAMAGE",
    AttachmentRole.CORRESPONDENCE: "OTHER",
    AttachmentRole.OTHER: "OTHER",
}
S = ClaimStatus
STATUSES: dict[str, ClaimStatus] = {
    "SUBMITTED": S.SUBMITTED,
    "RECEIVED": S.SUBMITTED,
    "IN_REVIEW": S.IN_REVIEW,
    "UNDER_REVIEW": S.IN_REVIEW,
    "PENDING": S.IN_REVIEW,
    "ADDITIONAL_INFORMATION_REQUIRED": S.NEEDS_INFORMATION,
    "AWAITING_DOCUMENTATION": S.NEEDS_INFORMATION,
    "APPROVED": S.APPROVED,
    "PARTIALLY_APPROVED": S.PARTIALLY_APPROVED,
    "DENIED": S.DENIED,
    "REJECTED": S.DENIED,
    "PAID": S.PAID,
    "CANCELLED": S.CANCELLED,
    "CANCELED": S.CANCELLED,
    "WITHDRAWN": S.CANCELLED,
}


def claim_status(value: str) -> ClaimStatus:
    """USPS's status word, normalised; an unknown word means the claim exists and is undecided."""
    key = value.strip().upper().replace(" ", "_").replace("-", "_")
    status = STATUSES.get(key)
    if status is None:
        log.warning("usps: unknown claim status %r treated as in review", value)
        return S.IN_REVIEW
    return status


def _claim(raw: dict[str, Any]) -> CarrierClaimStatus:
    claim_id = text(raw.get("claimId"))
    if not claim_id:
        raise MalformedPayload("usps: claim without claimId")
    carrier_status = text(raw.get("claimStatus"))
    updated = text(raw.get("statusDate"))
    return CarrierClaimStatus(
        carrier=CODE,
        carrier_claim_id=claim_id,
        status=claim_status(carrier_status),
        carrier_status=carrier_status,
        tracking_number=text(raw.get("trackingNumber")),
        reference=text(raw.get("customerReference")),
        detail=text(raw.get("statusDescription")),
        updated_at=parse_iso(updated, UTC)[0] if updated else None,
        requested_amount=money(raw.get("claimAmount")),
        approved_amount=money(raw.get("approvedAmount")),
        raw=raw,
    )


def _payload(body: bytes | str) -> dict[str, Any]:
    payload = require_object(load_json(body), "usps: claims answer")
    error = payload.get("error")
    if isinstance(error, str):
        raise CarrierAuthError(f"usps: {error}: {text(payload.get('error_description'))}")
    if isinstance(error, dict):
        raise claim_error(CODE, error.get("code"), text(error.get("message")) or "error")
    return payload


@parser
def parse_claim(body: bytes | str) -> CarrierClaimStatus:
    """Parse one claim (the POST and GET answers), or raise the error its body carries."""
    return _claim(_payload(body))


@parser
def parse_claims(body: bytes | str) -> list[CarrierClaimStatus]:
    """Parse a claim list (`{"claims": [...]}`)."""
    return [_claim(raw) for raw in objects(_payload(body).get("claims"))]


def _address(address: Address) -> dict[str, str]:
    return {
        "name": address.name,
        "firm": address.company,
        "streetAddress": address.street1,
        "secondaryAddress": address.street2,
        "city": address.city,
        "state": address.state,
        "ZIPCode": address.postcode,
        "country": address.country,
    }


def claim_body(request: ClaimRequest) -> dict[str, Any]:
    """The POST body for a request (field names unverified, see the module docstring)."""
    return {
        "customerReference": request.reference,
        "trackingNumber": request.tracking_number,
        "claimType": CLAIM_TYPES[request.kind],
        "mailingDate": request.ship_date.isoformat(),
        "claimAmount": float(request.amount.quantize(Decimal("0.01"))),
        "contentsDescription": request.description,
        "claimant": {
            "type": "SENDER",
            "name": request.contact.name,
            "email": request.contact.email,
            "phone": request.contact.phone,
        },
        "sender": _address(request.sender),
        "recipient": _address(request.recipient),
        "documents": [
            {
                "documentType": DOCUMENT_TYPES[a.role],
                "fileName": a.filename,
                "contentType": a.content_type,
                "content": base64.b64encode(a.data).decode(),
            }
            for a in request.attachments
        ],
    }


class UspsClaimFiler(ClaimFiler):
    """Indemnity claims through the tracking client's token cache and shared HTTP client."""

    code = CODE

    def __init__(self, settings: CarrierSettings, *, sleep: Callable[[float], None] | None = None) -> None:
        self.api = UspsCarrier(settings, sleep=sleep)
        super().__init__(self.api.http, settings.max_retries, sleep=sleep)

    def check(self, request: ClaimRequest) -> None:
        """USPS pays domestic claims in USD for lost, damaged and rifled items only."""
        if request.kind not in CLAIM_TYPES:
            raise ClaimNotSupported(f"usps: no indemnity claim type for {request.kind.value}")
        if request.currency != "USD":
            raise ClaimNotSupported(f"usps: claims are paid in USD, not {request.currency}")

    def submit(self, request: ClaimRequest) -> CarrierClaimStatus:
        """One POST; our reference rides along as the idempotency key."""
        headers = {"Accept": "application/json", IDEMPOTENCY_HEADER: request.reference}
        try:
            response = self.api.call(
                "POST", CLAIMS_PATH, headers=headers, json=claim_body(request), retries=0
            )
        except TrackingNotFound as exc:  # 400/404/422: USPS refused this claim
            raise ClaimRejected(exc.message) from exc
        return parse_claim(response.content)

    def find(self, request: ClaimRequest) -> CarrierClaimStatus | None:
        """The live claim on this tracking number with our reference (or, if not echoed, our type)."""
        try:
            response = self.api.call(
                "GET",
                CLAIMS_PATH,
                params={"trackingNumber": request.tracking_number},
                headers={"Accept": "application/json"},
            )
        except TrackingNotFound:
            return None
        wanted = CLAIM_TYPES[request.kind]
        for claim in parse_claims(response.content):
            if claim.reference == request.reference:
                return claim
            if (
                not claim.reference
                and claim.raw.get("claimType") == wanted
                and claim.status is not S.CANCELLED
            ):
                return claim
        return None

    def status(self, carrier_claim_id: str) -> CarrierClaimStatus:
        """`GET /indemnity-claims/v3/claims/{claimId}`."""
        path = f"{CLAIMS_PATH}/{quote(carrier_claim_id, safe='')}"
        try:
            response = self.api.call("GET", path, headers={"Accept": "application/json"})
        except TrackingNotFound as exc:
            raise ClaimNotFound(exc.message) from exc
        return parse_claim(response.content)
