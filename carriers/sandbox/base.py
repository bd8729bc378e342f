"""What every sandbox carrier shares: the request context, the per-number view, and the carrier API base."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Protocol
from zoneinfo import ZoneInfo

from werkzeug import Request, Response
from werkzeug.routing import Rule

from carriers.model import Status
from carriers.sandbox.clock import SandboxClock
from carriers.sandbox.places import Route
from carriers.sandbox.scenarios import Milestone, Scenario, steps_for
from carriers.sandbox.settings import Credentials
from carriers.sandbox.shipments import Scan, Shipment
from carriers.sandbox.tokens import TokenStore


class CarrierCode(Protocol):
    """A carrier's code-table entry: whatever fields it renders, plus the normalised status it means."""

    status: Status


@dataclass(frozen=True)
class Code:
    """The common code-table entry: the carrier's code, its English text, and what it means."""

    code: str
    text: str
    status: Status


@dataclass(frozen=True)
class SandboxContext:
    """Shared state the carrier APIs read: credentials, clock and tokens."""

    credentials: Credentials
    clock: SandboxClock
    tokens: TokenStore


@dataclass(frozen=True)
class Tracked:
    """One requested number as a carrier sees it now: the scans it reports (oldest first) and its ETA."""

    number: str
    shipment: Shipment | None
    scans: tuple[Scan, ...]
    eta: datetime | None
    now: datetime

    @property
    def found(self) -> bool:
        """False when the carrier would answer 'not found'."""
        return bool(self.scans)

    @property
    def route(self) -> Route:
        """The shipment's route; only numbers the carrier found have one."""
        if self.shipment is None:
            raise ValueError(f"{self.number} is not a known shipment")
        return self.shipment.route


def local_time(scan: Scan) -> datetime:
    """The scan's time at the place it happened."""
    return scan.at.astimezone(ZoneInfo(scan.place.tz))


def json_response(body: Any, status: int = 200, content_type: str = "application/json") -> Response:
    """A compact JSON response (UTF-8, non-ASCII kept)."""
    data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(data, status=status, content_type=content_type)


class CarrierApi(ABC):
    """A sandbox carrier: its routes, auth, number parsing, renderer and error bodies."""

    code: ClassVar[str]
    batch_limit: ClassVar[int] = 1
    codes: ClassVar[Mapping[Milestone, CarrierCode]]
    track_path: ClassVar[str]  # werkzeug rule under /<code>
    track_method: ClassVar[str] = "GET"
    token_path: ClassVar[str | None] = None

    def rules(self) -> list[Rule]:
        """URL rules of this carrier, endpoints named '<code>.track' / '<code>.token'."""
        rules = [
            Rule(f"/{self.code}{self.track_path}", endpoint=f"{self.code}.track", methods=[self.track_method])
        ]
        if self.token_path:
            rules.append(
                Rule(f"/{self.code}{self.token_path}", endpoint=f"{self.code}.token", methods=["POST"])
            )
        return rules

    def view(self, number: str, shipment: Shipment | None, now: datetime) -> Tracked:
        """What this carrier reports for a number at `now` (milestones it has no code for are skipped)."""
        if shipment is None:
            return Tracked(number, None, (), None, now)
        visible = shipment.visible(now)
        scans = tuple(s for s in visible if s.milestone in self.codes)
        return Tracked(number, shipment, scans, shipment.eta(visible), now)

    def expected_status(self, scenario: Scenario) -> Status:
        """The normalised status this carrier's final answer for a scenario means."""
        rendered = [s.milestone for s in steps_for(scenario, True) if s.milestone in self.codes]
        return self.codes[rendered[-1]].status if rendered else Status.PENDING

    def token(self, ctx: SandboxContext, request: Request) -> Response:
        """Answer a token request."""
        raise NotImplementedError(f"{self.code} has no token endpoint")

    @abstractmethod
    def authorize(self, ctx: SandboxContext, request: Request) -> Response | None:
        """None when the tracking request is authorised, else the carrier's auth error."""

    @abstractmethod
    def numbers(self, request: Request, args: Mapping[str, str]) -> list[str] | Response:
        """The tracking numbers asked for (`args` are the URL's path values), or a bad-request answer."""

    @abstractmethod
    def render(self, tracked: list[Tracked], request: Request) -> Response:
        """The carrier's tracking answer."""

    @abstractmethod
    def rate_limited(self, retry_after: int) -> Response:
        """The carrier's 429 answer (the server adds `Retry-After`)."""

    @abstractmethod
    def server_error(self) -> Response:
        """The carrier's 5xx answer."""
