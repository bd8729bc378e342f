"""EasyPost – insurance Claims API (`POST /v2/claims`, `GET /v2/claims/{id or reference}`), HTTP Basic auth.

Sources, all public:
* Create fields `tracking_code`, `type` (damage | loss | theft), `amount` as a string, the three
  attachment lists of base64 data URIs, `description`, `contact_email`: EasyPost's recorded request in
  github:EasyPost/easypost-python tests/cassettes/test_claim_create.yaml (and easypost/services/
  claim_service.py for the paths). `reference` on create, and retrieval "by ID or reference":
  github:EasyPost/easypost-go claim.go since 07cca29 ("feat: Add Reference to Claims").
* Claim fields `id` (clm_…), `status`, `status_detail`, `status_timestamp`, `requested_amount`,
  `approved_amount` (null until decided), `tracking_code`, `type`, `history` [{status, status_detail,
  timestamp}] newest first: the recorded answers in test_claim_create / _retrieve / _cancel.yaml.
* Statuses submitted, in_review, approved, approved_partial, rejected, cancelled, needs_action:
  docs.easypost.com/docs/insurance/claims. `denied` and `closed` are accepted too but undocumented.
* Basic auth with the API key as user and no password: EasyPost's API reference ("Authentication").

EasyPost takes no idempotency key; our reference is sent as the claim's `reference`, which `find`
retrieves before anything is posted again.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import requests

from carriers.base import CarrierSettings, http_client
from carriers.claims.filer import ClaimFiler, claim_error, money
from carriers.claims.model import (
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
)
from carriers.errors import CarrierAuthError, MalformedPayload, TrackingNotFound
from carriers.numbers import normalise_number
from carriers.payload import load_json, objects, parser, require_object, text
from carriers.timeparse import UTC, parse_iso

CODE = "easypost"
DEFAULT_BASE_URL = "https://api.easypost.com"
DEFAULT_RATE_PER_SECOND = 5.0
CLAIMS_PATH = "/v2/claims"
log = logging.getLogger("carriers.claims.easypost")

CLAIM_TYPES: dict[ClaimKind, str] = {
    ClaimKind.LOST: "loss",
    ClaimKind.MISSING_CONTENTS: "loss",  # a partial loss
    ClaimKind.DAMAGED: "damage",
    ClaimKind.DELIVERED_NOT_RECEIVED: "theft",
}
ATTACHMENT_FIELDS: dict[AttachmentRole, str] = {
    AttachmentRole.CORRESPONDENCE: "email_evidence_attachments",
    AttachmentRole.INVOICE: "invoice_attachments",
    AttachmentRole.PHOTO: "supporting_documentation_attachments",
    AttachmentRole.OTHER: "supporting_documentation_attachments",
}
S = ClaimStatus
STATUSES: dict[str, ClaimStatus] = {
    "submitted": S.SUBMITTED,
    "in_review": S.IN_REVIEW,
    "needs_action": S.NEEDS_INFORMATION,
    "approved": S.APPROVED,
    "approved_partial": S.PARTIALLY_APPROVED,
    "rejected": S.DENIED,
    "denied": S.DENIED,
    "cancelled": S.CANCELLED,
}


def claim_status(value: str, approved_amount: Decimal | None) -> ClaimStatus:
    """EasyPost's status normalised; `closed` is paid when money was approved, else denied."""
    key = value.strip().lower()
    if key == "closed":
        return S.PAID if approved_amount else S.DENIED
    status = STATUSES.get(key)
    if status is None:
        log.warning("easypost: unknown claim status %r treated as in review", value)
        return S.IN_REVIEW
    return status


def _event(raw: dict[str, Any]) -> ClaimEvent:
    carrier_status = text(raw.get("status"))
    at = text(raw.get("timestamp")) or text(raw.get("status_timestamp"))
    return ClaimEvent(
        at=parse_iso(at, UTC)[0],
        status=claim_status(carrier_status, None),
        carrier_status=carrier_status,
        detail=text(raw.get("status_detail")),
    )


@parser
def parse_claim(body: bytes | str) -> CarrierClaimStatus:
    """Parse a `Claim` object, or raise the error its `{"error": …}` body carries."""
    payload = require_object(load_json(body), "easypost: claims answer")
    if isinstance(payload.get("error"), dict):
        error = payload["error"]
        code = text(error.get("code"))
        detail = f"{code}: {text(error.get('message'))}"
        if code.upper() == "NOT_FOUND":
            raise ClaimNotFound(f"easypost: {detail}")
        raise claim_error(CODE, 422, detail)
    claim_id = text(payload.get("id"))
    if not claim_id or text(payload.get("object") or "Claim") != "Claim":
        raise MalformedPayload("easypost: not a Claim object")
    carrier_status = text(payload.get("status"))
    approved = money(payload.get("approved_amount"))
    updated = text(payload.get("status_timestamp")) or text(payload.get("updated_at"))
    return CarrierClaimStatus(
        carrier=CODE,
        carrier_claim_id=claim_id,
        status=claim_status(carrier_status, approved),
        carrier_status=carrier_status,
        tracking_number=text(payload.get("tracking_code")),
        reference=text(payload.get("reference")),
        detail=text(payload.get("status_detail")),
        updated_at=parse_iso(updated, UTC)[0] if updated else None,
        requested_amount=money(payload.get("requested_amount")),
        approved_amount=approved,
        history=tuple(sorted((_event(e) for e in objects(payload.get("history"))), key=lambda e: e.at)),
        raw=payload,
    )


def data_uri(attachment: Attachment) -> str:
    """A file as the `data:<type>;base64,…` string EasyPost expects."""
    return f"data:{attachment.content_type};base64,{base64.b64encode(attachment.data).decode()}"


def claim_body(request: ClaimRequest) -> dict[str, Any]:
    """The POST body for a request."""
    body: dict[str, Any] = {
        "tracking_code": request.tracking_number,
        "type": CLAIM_TYPES[request.kind],
        "amount": f"{request.amount.quantize(Decimal('0.01'))}",
        "description": request.description,
        "contact_email": request.contact.email,
        "reference": request.reference,
    }
    for attachment in request.attachments:
        body.setdefault(ATTACHMENT_FIELDS[attachment.role], []).append(data_uri(attachment))
    return body


class EasyPostClaimFiler(ClaimFiler):
    """EasyPost insurance claims over the shared HTTP client (API key as the Basic-auth user)."""

    code = CODE

    def __init__(self, settings: CarrierSettings, *, sleep: Callable[[float], None] | None = None) -> None:
        self.api_key = settings.credentials.get("api_key", "")
        if not self.api_key:
            raise CarrierAuthError("easypost: missing credentials api_key")
        self.base_url = settings.base_url.rstrip("/")
        super().__init__(
            http_client(CODE, settings, DEFAULT_RATE_PER_SECOND, sleep), settings.max_retries, sleep=sleep
        )

    def _call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"Accept": "application/json"}
        return self.http.request(
            method, self.base_url + path, headers=headers, auth=(self.api_key, ""), **kwargs
        )

    def check(self, request: ClaimRequest) -> None:
        """EasyPost insurance covers loss, damage and theft, in USD."""
        if request.kind not in CLAIM_TYPES:
            raise ClaimNotSupported(f"easypost: no claim type for {request.kind.value}")
        if request.currency != "USD":
            raise ClaimNotSupported(f"easypost: claims are in USD, not {request.currency}")

    def submit(self, request: ClaimRequest) -> CarrierClaimStatus:
        """One POST /v2/claims."""
        try:
            response = self._call("POST", CLAIMS_PATH, json=claim_body(request), retries=0)
        except TrackingNotFound as exc:  # 400/404/422: EasyPost refused the claim
            raise ClaimRejected(exc.message) from exc
        return parse_claim(response.content)

    def find(self, request: ClaimRequest) -> CarrierClaimStatus | None:
        """`GET /v2/claims/{reference}`: the claim filed under our reference, if any."""
        try:
            claim = self.status(request.reference)
        except ClaimNotFound:
            return None
        if normalise_number(claim.tracking_number) != normalise_number(request.tracking_number):
            raise ClaimRejected(
                f"easypost: reference {request.reference} belongs to a claim on {claim.tracking_number}"
            )
        return claim

    def status(self, carrier_claim_id: str) -> CarrierClaimStatus:
        """`GET /v2/claims/{id}` (an id or our reference)."""
        try:
            response = self._call("GET", f"{CLAIMS_PATH}/{quote(carrier_claim_id, safe='')}")
        except TrackingNotFound as exc:
            raise ClaimNotFound(exc.message) from exc
        return parse_claim(response.content)
