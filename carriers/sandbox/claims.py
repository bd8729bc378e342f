"""Sandbox claims: an in-memory claim store, claims advancing on the sandbox clock, and the API desk.

A claim is `submitted`, `in_review` one sandbox hour later and decided one sandbox day after filing:
approved (paid two days later), or denied above DENY_ABOVE, or whatever outcome was planned for its
tracking number. Creation is idempotent per carrier and key, and it is where faults strike: a timeout
fault stores the claim and then answers too late, so a client only learns the outcome by looking.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar

from werkzeug import Request, Response
from werkzeug.routing import Rule

from carriers.claims.model import ClaimStatus
from carriers.sandbox.base import SandboxContext
from carriers.sandbox.faults import FaultBox, FaultKind
from carriers.sandbox.stats import Stats

DENY_ABOVE = Decimal("5000")  # USPS's highest insured value
S = ClaimStatus


class Outcome(StrEnum):
    """How a sandbox claim ends."""

    APPROVED = "approved"
    PARTIALLY_APPROVED = "partially_approved"
    DENIED = "denied"
    NEEDS_INFORMATION = "needs_information"


# USPS adjudicates small domestic claims automatically [US6]: a decision within hours, payment in days.
_REVIEW, _DECIDE, _PAY = timedelta(hours=1), timedelta(hours=6), timedelta(days=3)
TIMELINES: dict[Outcome, tuple[tuple[timedelta, ClaimStatus], ...]] = {
    Outcome.APPROVED: (
        (timedelta(0), S.SUBMITTED),
        (_REVIEW, S.IN_REVIEW),
        (_DECIDE, S.APPROVED),
        (_PAY, S.PAID),
    ),
    Outcome.PARTIALLY_APPROVED: (
        (timedelta(0), S.SUBMITTED),
        (_REVIEW, S.IN_REVIEW),
        (_DECIDE, S.PARTIALLY_APPROVED),
        (_PAY, S.PAID),
    ),
    Outcome.DENIED: ((timedelta(0), S.SUBMITTED), (_REVIEW, S.IN_REVIEW), (_DECIDE, S.DENIED)),
    Outcome.NEEDS_INFORMATION: (
        (timedelta(0), S.SUBMITTED),
        (_REVIEW, S.IN_REVIEW),
        (_DECIDE, S.NEEDS_INFORMATION),
    ),
}
_DECIDED = frozenset({S.APPROVED, S.PARTIALLY_APPROVED, S.PAID})


@dataclass(frozen=True)
class NewClaim:
    """A valid create request: the idempotency key (None: none sent) and what the API stores."""

    key: str | None
    tracking_number: str
    amount: Decimal
    fields: dict[str, Any]


@dataclass
class SandboxClaim:
    """One stored claim; its status is derived from `created_at`, `outcome` and the clock."""

    carrier: str
    claim_id: str
    key: str | None
    tracking_number: str
    amount: Decimal
    created_at: datetime
    outcome: Outcome
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ClaimView:
    """A claim as of one moment: current status, the steps so far (oldest first), approved amount."""

    claim: SandboxClaim
    status: ClaimStatus
    history: tuple[tuple[datetime, ClaimStatus], ...]
    approved_amount: Decimal | None


def view_claim(claim: SandboxClaim, now: datetime, renders: Mapping[ClaimStatus, str]) -> ClaimView:
    """The claim at `now`, skipping steps the API has no word for."""
    steps = tuple(
        (claim.created_at + after, status)
        for after, status in TIMELINES[claim.outcome]
        if claim.created_at + after <= now and status in renders
    )
    status = steps[-1][1]
    approved = None
    if any(s in _DECIDED for _, s in steps):
        partial = claim.outcome is Outcome.PARTIALLY_APPROVED
        approved = (claim.amount / 2).quantize(Decimal("0.01")) if partial else claim.amount
    return ClaimView(claim, status, steps, approved)


class ClaimStore:
    """Thread-safe claims per carrier, with planned outcomes per tracking number."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._claims: dict[tuple[str, str], SandboxClaim] = {}  # (carrier, claim id)
        self._keys: dict[tuple[str, str], str] = {}  # (carrier, idempotency key) -> claim id
        self._plans: dict[tuple[str, str], Outcome] = {}

    def plan(self, carrier: str, tracking_number: str, outcome: Outcome | str) -> None:
        """Fix how claims on this number end."""
        with self._lock:
            self._plans[(carrier, tracking_number)] = Outcome(outcome)

    def create(self, carrier: str, claim_id: str, new: NewClaim, now: datetime) -> tuple[SandboxClaim, bool]:
        """Store a claim, or return the one stored earlier under the same key (second item: created)."""
        with self._lock:
            if new.key is not None and (carrier, new.key) in self._keys:
                return self._claims[(carrier, self._keys[(carrier, new.key)])], False
            default = Outcome.DENIED if new.amount > DENY_ABOVE else Outcome.APPROVED
            outcome = self._plans.get((carrier, new.tracking_number), default)
            claim = SandboxClaim(
                carrier, claim_id, new.key, new.tracking_number, new.amount, now, outcome, new.fields
            )
            self._claims[(carrier, claim_id)] = claim
            if new.key is not None:
                self._keys[(carrier, new.key)] = claim_id
            return claim, True

    def get(self, carrier: str, claim_id_or_key: str) -> SandboxClaim | None:
        """A claim by its id or by the key it was filed with."""
        with self._lock:
            claim_id = self._keys.get((carrier, claim_id_or_key), claim_id_or_key)
            return self._claims.get((carrier, claim_id))

    def on_number(self, carrier: str, tracking_number: str) -> list[SandboxClaim]:
        """Every claim filed on a tracking number, oldest first."""
        with self._lock:
            return [
                c
                for (code, _), c in self._claims.items()
                if code == carrier and c.tracking_number == tracking_number
            ]

    def count(self, carrier: str) -> int:
        """How many claims a carrier holds."""
        with self._lock:
            return sum(1 for code, _ in self._claims if code == carrier)


class ClaimsApi(ABC):
    """One carrier's claims API: routes, auth, request parsing, rendering and error bodies."""

    code: ClassVar[str]
    renders: ClassVar[Mapping[ClaimStatus, str]]  # the carrier's word for each status it shows
    create_path: ClassVar[str]
    read_path: ClassVar[str]  # with a <claim_id> placeholder
    search_path: ClassVar[str | None] = None

    def rules(self) -> list[Rule]:
        """URL rules under /<code>, endpoints '<code>.claim_create' / '.claim_read' / '.claim_search'."""
        rules = [
            Rule(f"/{self.code}{self.create_path}", endpoint=f"{self.code}.claim_create", methods=["POST"]),
            Rule(f"/{self.code}{self.read_path}", endpoint=f"{self.code}.claim_read", methods=["GET"]),
        ]
        if self.search_path:
            rules.append(
                Rule(f"/{self.code}{self.search_path}", endpoint=f"{self.code}.claim_search", methods=["GET"])
            )
        return rules

    @abstractmethod
    def authorize(self, ctx: SandboxContext, request: Request) -> Response | None:
        """None when the call is authorised, else the carrier's auth error."""

    @abstractmethod
    def new_claim(self, request: Request, now: datetime) -> NewClaim | Response:
        """The create request read and validated, or the carrier's validation error."""

    @abstractmethod
    def new_id(self) -> str:
        """A fresh claim id in the carrier's format."""

    @abstractmethod
    def render(self, view: ClaimView) -> dict[str, Any]:
        """The carrier's claim object."""

    def search(self, request: Request, views: list[ClaimView]) -> Response:
        """The carrier's answer to a claim search (only APIs with a `search_path`)."""
        raise NotImplementedError(f"{self.code} has no claim search")

    def search_number(self, request: Request) -> str | None:
        """The tracking number a search asks for."""
        return None

    @abstractmethod
    def not_found(self) -> Response:
        """The carrier's 404 for an unknown claim."""

    @abstractmethod
    def rate_limited(self, retry_after: int) -> Response:
        """The carrier's 429 answer (the desk adds `Retry-After`)."""

    @abstractmethod
    def server_error(self) -> Response:
        """The carrier's 5xx answer."""

    @abstractmethod
    def respond(self, body: Any, status: int) -> Response:
        """A JSON answer the way this carrier sends it."""


class ClaimDesk:
    """Serves every sandbox claims API: auth, idempotent creation with faults, reads and searches."""

    def __init__(
        self, apis: Mapping[str, ClaimsApi], context: SandboxContext, faults: FaultBox, stats: Stats
    ) -> None:
        self.apis = dict(apis)
        self.context = context
        self.faults = faults
        self.stats = stats
        self.store = ClaimStore()

    @property
    def codes(self) -> set[str]:
        """Codes (URL prefixes) of the claims APIs."""
        return set(self.apis)

    def rules(self) -> list[Rule]:
        """URL rules of every claims API."""
        return [rule for api in self.apis.values() for rule in api.rules()]

    def handle(self, code: str, action: str, request: Request, args: Mapping[str, str]) -> Response:
        """Answer one claims request (`action` is claim_create, claim_read or claim_search)."""
        api = self.apis[code]
        self.stats.count_request(code, action)
        denied = api.authorize(self.context, request)
        if denied is not None:
            return denied
        now = self.context.clock.now()
        if action == "claim_create":
            return self._create(api, request, now)
        if action == "claim_search":
            number = api.search_number(request)
            claims = self.store.on_number(code, number) if number else []
            return api.search(request, [view_claim(c, now, api.renders) for c in claims])
        claim = self.store.get(code, args["claim_id"])
        if claim is None:
            return api.not_found()
        return api.respond(api.render(view_claim(claim, now, api.renders)), 200)

    def _create(self, api: ClaimsApi, request: Request, now: datetime) -> Response:
        fault = self.faults.draw(api.code, batch=False)
        kind = fault.spec.kind if fault else None
        if fault is not None:
            self.stats.count_fault(api.code, fault.spec.kind.value)
            if kind is FaultKind.RATE_LIMIT:
                response = api.rate_limited(fault.spec.retry_after)
                response.headers["Retry-After"] = str(fault.spec.retry_after)
                return response
            if kind is FaultKind.SERVER_ERROR:
                return api.server_error()  # nothing stored: a retry after looking must file
        new = api.new_claim(request, now)
        if isinstance(new, Response):
            return new
        claim, created = self.store.create(api.code, api.new_id(), new, now)
        response = api.respond(api.render(view_claim(claim, now, api.renders)), 201 if created else 200)
        if fault is not None and kind is FaultKind.TIMEOUT:
            time.sleep(fault.spec.delay)  # stored, but the answer arrives after the client gave up
        if kind is FaultKind.MALFORMED:
            body = response.get_data()
            return Response(
                body[: max(1, len(body) // 2)], response.status_code, content_type=response.content_type
            )
        return response
