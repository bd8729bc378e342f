"""EasyPost – insurance Claims API on the sandbox host `/easypost` (API key as the Basic-auth user).

Shapes follow EasyPost's recorded answers (easypost-python tests/cassettes/test_claim_*.yaml): a `Claim`
with string amounts, `history` newest first, `approved_amount` null until decided. Retrieval accepts the
claim id or the `reference` it was created with (easypost-go claim.go), and a repeated `reference`
returns the stored claim: the sandbox's idempotency.
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
from carriers.sandbox.tokens import client_credentials

S = ClaimStatus
CLAIM_TYPES = frozenset({"damage", "loss", "theft"})
ATTACHMENT_FIELDS = (
    "email_evidence_attachments",
    "invoice_attachments",
    "supporting_documentation_attachments",
)
DETAILS: dict[ClaimStatus, str] = {
    S.SUBMITTED: "Claim was created.",
    S.IN_REVIEW: "Claim is under review.",
    S.NEEDS_INFORMATION: "More information is needed to process the claim.",
    S.APPROVED: "Claim was approved.",
    S.PARTIALLY_APPROVED: "Claim was partially approved.",
    S.DENIED: "Claim was rejected.",
    S.CANCELLED: "Claim cancellation was requested.",
}


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _error(status: int, code: str, message: str, errors: list[str] | None = None) -> Response:
    return json_response({"error": {"code": code, "message": message, "errors": errors or []}}, status)


class EasyPostClaimsApi(ClaimsApi):
    """`POST /v2/claims`, `GET /v2/claims/<id or reference>`."""

    code = "easypost"
    # EasyPost has no "paid": an approved claim is paid into the wallet and stays approved.
    renders = {
        S.SUBMITTED: "submitted",
        S.IN_REVIEW: "in_review",
        S.NEEDS_INFORMATION: "needs_action",
        S.APPROVED: "approved",
        S.PARTIALLY_APPROVED: "approved_partial",
        S.DENIED: "rejected",
        S.CANCELLED: "cancelled",
    }
    create_path = "/v2/claims"
    read_path = "/v2/claims/<claim_id>"

    def authorize(self, ctx: SandboxContext, request: Request) -> Response | None:
        """HTTP Basic with the API key as user name."""
        given = client_credentials(request)
        if given is None:
            return _error(401, "APIKEY.REQUIRED", "No API key provided; use Basic auth with the key as user.")
        if given[0] != ctx.credentials.api_key:
            return _error(401, "APIKEY.INACTIVE", "The API key is not valid.")
        return None

    def new_claim(self, request: Request, now: datetime) -> NewClaim | Response:
        """Validate the body; `reference` is the idempotency key."""
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return _error(422, "PARAMETER.INVALID", "The request body must be a JSON object.")
        missing = [k for k in ("tracking_code", "type", "amount") if not body.get(k)]
        if missing:
            return _error(422, "PARAMETER.REQUIRED", "Missing required parameter.", missing)
        if body["type"] not in CLAIM_TYPES:
            return _error(422, "PARAMETER.INVALID", f"type must be one of {sorted(CLAIM_TYPES)}.")
        try:
            amount = Decimal(str(body["amount"]))
        except InvalidOperation:
            amount = Decimal(0)
        if amount <= 0:
            return _error(422, "PARAMETER.INVALID", "amount must be a positive number.")
        attachments = sum(len(body.get(name) or []) for name in ATTACHMENT_FIELDS)
        day = now.strftime("%Y%m%d")
        fields = {
            **body,
            "attachments": [
                f"https://easypost-files.s3-us-west-2.amazonaws.com/insurance/{day}/{secrets.token_hex(16)}.png"
                for _ in range(attachments)
            ],
            "insurance_id": f"ins_{secrets.token_hex(16)}",
            "shipment_id": f"shp_{secrets.token_hex(16)}",
        }
        return NewClaim(body.get("reference") or None, str(body["tracking_code"]), amount, fields)

    def new_id(self) -> str:
        """`clm_` and 32 hex digits."""
        return f"clm_{secrets.token_hex(16)}"

    def render(self, view: ClaimView) -> dict[str, Any]:
        """The `Claim` object."""
        claim, fields = view.claim, view.claim.fields
        status_at = view.history[-1][0]
        return {
            "approved_amount": None if view.approved_amount is None else f"{view.approved_amount:.2f}",
            "attachments": fields["attachments"],
            "check_delivery_address": None,
            "contact_email": fields.get("contact_email"),
            "created_at": _iso(claim.created_at),
            "description": fields.get("description"),
            "history": [
                {"status": self.renders[status], "status_detail": DETAILS[status], "timestamp": _iso(at)}
                for at, status in reversed(view.history)
            ],
            "id": claim.claim_id,
            "insurance_amount": f"{claim.amount:.2f}",
            "insurance_id": fields["insurance_id"],
            "mode": "test",
            "object": "Claim",
            "payment_method": "easypost_wallet",
            "recipient_name": None,
            "reference": fields.get("reference"),
            "requested_amount": f"{claim.amount:.2f}",
            "salvage_value": None,
            "shipment_id": fields["shipment_id"],
            "status": self.renders[view.status],
            "status_detail": DETAILS[view.status],
            "status_timestamp": _iso(status_at),
            "tracking_code": claim.tracking_number,
            "type": fields["type"],
            "updated_at": _iso(status_at),
        }

    def not_found(self) -> Response:
        """EasyPost's 404."""
        return _error(404, "NOT_FOUND", "The requested resource could not be found.")

    def rate_limited(self, retry_after: int) -> Response:
        """EasyPost's 429."""
        return _error(429, "RATE_LIMITED", "You have exceeded the rate limit. Please retry later.")

    def server_error(self) -> Response:
        """EasyPost's 503."""
        return _error(503, "SERVICE.UNAVAILABLE", "The service is temporarily unavailable.")

    def respond(self, body: Any, status: int) -> Response:
        """application/json; charset=utf-8, as EasyPost answers."""
        return json_response(body, status, "application/json; charset=utf-8")
