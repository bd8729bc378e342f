"""USPS – Indemnity Claims 3.0 on the sandbox's USPS host: same OAuth tokens and error envelope as tracking.

Field names mirror carriers/claims/usps.py, which are unverified against USPS's OpenAPI (see there).
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from werkzeug import Request, Response

from carriers.claims.model import ClaimStatus
from carriers.sandbox.base import SandboxContext, json_response
from carriers.sandbox.claims import ClaimsApi, ClaimView, NewClaim
from carriers.sandbox.usps import UspsApi
from carriers.sandbox.usps import _error as usps_error

S = ClaimStatus
CLAIM_TYPES = frozenset({"LOST", "DAMAGED", "MISSING_CONTENTS"})
DESCRIPTIONS: dict[ClaimStatus, str] = {
    S.SUBMITTED: "Your claim has been received.",
    S.IN_REVIEW: "Your claim is being reviewed.",
    S.NEEDS_INFORMATION: "Additional documentation is required.",
    S.APPROVED: "Your claim has been approved.",
    S.PARTIALLY_APPROVED: "Your claim has been partially approved.",
    S.DENIED: "Your claim has been denied.",
    S.PAID: "Payment has been issued.",
    S.CANCELLED: "Your claim has been cancelled.",
}


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class UspsClaimsApi(ClaimsApi):
    """`POST /indemnity-claims/v3/claims`, `GET …/claims/<claimId>`, `GET …/claims?trackingNumber=`."""

    code = "usps"
    renders = {
        S.SUBMITTED: "SUBMITTED",
        S.IN_REVIEW: "IN_REVIEW",
        S.NEEDS_INFORMATION: "ADDITIONAL_INFORMATION_REQUIRED",
        S.APPROVED: "APPROVED",
        S.PARTIALLY_APPROVED: "PARTIALLY_APPROVED",
        S.DENIED: "DENIED",
        S.PAID: "PAID",
        S.CANCELLED: "CANCELLED",
    }
    create_path = "/indemnity-claims/v3/claims"
    read_path = "/indemnity-claims/v3/claims/<claim_id>"
    search_path = "/indemnity-claims/v3/claims"

    def __init__(self) -> None:
        self.tracking = UspsApi()  # tokens, 401/429/503 bodies: the USPS host's own

    def authorize(self, ctx: SandboxContext, request: Request) -> Response | None:
        """A live USPS bearer token from /oauth2/v3/token."""
        return self.tracking.authorize(ctx, request)

    def new_claim(self, request: Request, now: datetime) -> NewClaim | Response:
        """Validate the body; the idempotency key is `X-Idempotency-Key`, else `customerReference`."""
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return usps_error(400, "The request body must be a JSON object.", "Bad Request")
        missing = [
            k for k in ("trackingNumber", "claimType", "claimAmount", "mailingDate") if not body.get(k)
        ]
        if missing:
            return usps_error(400, f"Missing required field(s): {', '.join(missing)}.", "Bad Request")
        if body["claimType"] not in CLAIM_TYPES:
            return usps_error(400, f"claimType must be one of {sorted(CLAIM_TYPES)}.", "Bad Request")
        try:
            amount = Decimal(str(body["claimAmount"]))
        except InvalidOperation:
            amount = Decimal(0)
        if amount <= 0:
            return usps_error(400, "claimAmount must be a positive number.", "Bad Request")
        key = request.headers.get("X-Idempotency-Key") or body.get("customerReference") or None
        return NewClaim(key, str(body["trackingNumber"]), amount, body)

    def new_id(self) -> str:
        """A 15-character claim id."""
        return secrets.token_hex(8).upper()[:15]

    def render(self, view: ClaimView) -> dict[str, Any]:
        """The claim object."""
        claim = view.claim
        return {
            "claimId": claim.claim_id,
            "customerReference": claim.fields.get("customerReference"),
            "trackingNumber": claim.tracking_number,
            "claimType": claim.fields["claimType"],
            "claimAmount": float(claim.amount),
            "approvedAmount": None if view.approved_amount is None else float(view.approved_amount),
            "claimStatus": self.renders[view.status],
            "statusDescription": DESCRIPTIONS[view.status],
            "statusDate": _iso(view.history[-1][0]),
            "submittedDate": _iso(claim.created_at),
        }

    def search_number(self, request: Request) -> str | None:
        """`?trackingNumber=`."""
        return request.args.get("trackingNumber") or None

    def search(self, request: Request, views: list[ClaimView]) -> Response:
        """`{"claims": [...]}`, empty when none; 400 without a tracking number."""
        if not self.search_number(request):
            return usps_error(400, "trackingNumber is required.", "Bad Request")
        return json_response({"claims": [self.render(v) for v in views]})

    def not_found(self) -> Response:
        """404 in the API error envelope."""
        return usps_error(404, "No claim was found for the given claimId.", "Not Found")

    def rate_limited(self, retry_after: int) -> Response:
        """USPS's 429."""
        return self.tracking.rate_limited(retry_after)

    def server_error(self) -> Response:
        """USPS's 503."""
        return self.tracking.server_error()

    def respond(self, body: Any, status: int) -> Response:
        """Plain application/json."""
        return json_response(body, status)
