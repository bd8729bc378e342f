"""The claim-filing interface and its one idempotent `file` algorithm, shared by every claims API."""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from carriers.claims.model import CarrierClaimStatus, ClaimRejected, ClaimRequest, FiledClaim
from carriers.errors import (
    CarrierError,
    CarrierRateLimited,
    CarrierUnavailable,
    MalformedPayload,
    TrackingNotFound,
    error_from_body,
)
from carriers.http import MAX_RETRY_WAIT, HttpClient
from carriers.payload import text

# After these the POST may or may not have created the claim: look before sending it again.
OUTCOME_UNKNOWN = (CarrierUnavailable, CarrierRateLimited)


class ClaimFiler(ABC):
    """Files claims with one carrier's API and reads their status.

    `file` never files one `ClaimRequest.reference` twice: it first looks for a claim already filed
    under it, sends the POST without transport retries, and after a timeout / 5xx / 429 looks again
    before re-posting. A caller that retries `file` therefore gets the claim filed the first time.
    """

    code: ClassVar[str]

    def __init__(
        self, http: HttpClient, max_retries: int, *, sleep: Callable[[float], None] | None = None
    ) -> None:
        self.http = http
        self.max_retries = max_retries
        self._sleep = sleep or time.sleep
        self.log = logging.getLogger(f"carriers.claims.{self.code}")

    def file(self, request: ClaimRequest) -> FiledClaim:
        """File the claim once; an earlier filing of the same reference is returned instead."""
        self.check(request)
        found = self.find(request)
        attempt = 0
        while found is None:
            try:
                return self._filed(request, self.submit(request))
            except OUTCOME_UNKNOWN as error:
                wait = error.retry_after if error.retry_after is not None else self.http.backoff(attempt)
                if attempt >= self.max_retries or wait > MAX_RETRY_WAIT:
                    raise
                self.log.warning(
                    "%s: claim %s outcome unknown (%s); looking it up before sending again",
                    self.code,
                    request.reference,
                    error.message,
                )
                self._sleep(wait)
                attempt += 1
                found = self.find(request)
        self.log.info(
            "%s: claim %s was already filed as %s", self.code, request.reference, found.carrier_claim_id
        )
        return self._filed(request, found)

    @abstractmethod
    def check(self, request: ClaimRequest) -> None:
        """Raise ClaimNotSupported when this API cannot take the request (kind, currency)."""

    def _filed(self, request: ClaimRequest, claim: CarrierClaimStatus) -> FiledClaim:
        return FiledClaim(self.code, request.reference, claim.carrier_claim_id, claim.status, claim.raw)

    @abstractmethod
    def submit(self, request: ClaimRequest) -> CarrierClaimStatus:
        """POST the claim once (no transport retries) and parse the created claim."""

    @abstractmethod
    def find(self, request: ClaimRequest) -> CarrierClaimStatus | None:
        """The claim already filed for this request's reference, or None."""

    @abstractmethod
    def status(self, carrier_claim_id: str) -> CarrierClaimStatus:
        """The claim's current status (ClaimNotFound when the carrier does not know the id)."""


def claim_error(carrier: str, status: object, message: str) -> CarrierError:
    """The error an error body in a claims answer means; a 4xx refusal is ClaimRejected."""
    error = error_from_body(carrier, status, message)
    return ClaimRejected(error.message) if isinstance(error, TrackingNotFound) else error


def money(value: Any) -> Decimal | None:
    """An amount sent as a JSON number or string ("100.00"); null and "" as None."""
    raw = text(value)
    if not raw:
        return None
    try:
        return Decimal(raw)
    except InvalidOperation as exc:
        raise MalformedPayload(f"unreadable amount {raw!r}") from exc
