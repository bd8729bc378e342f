"""Plain settings for the sandbox server (no environment access here)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from carriers.sandbox.faults import FaultSpec
from carriers.sandbox.request_log import DEFAULT_CAPACITY
from carriers.sandbox.scenarios import DEFAULT_WEIGHTS, Scenario


@dataclass(frozen=True)
class Credentials:
    """The credentials every sandbox carrier accepts."""

    api_uid: str = "sandbox@leveranse.test"
    api_key: str = "sandbox-key"
    client_id: str = "sandbox"
    client_secret: str = "sandbox-secret"


@dataclass(frozen=True)
class SandboxSettings:
    """How to run the sandbox: address (port 0 = ephemeral), clock speed, credentials, scenarios, faults,
    and how many logged tracking requests to keep."""

    host: str = "127.0.0.1"
    port: int = 0
    speed: float = 1.0  # sandbox seconds per real second
    start: datetime | None = None  # sandbox time at start; now when None
    credentials: Credentials = field(default_factory=Credentials)
    weights: Mapping[Scenario, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    token_ttl: float = 3600.0  # real seconds
    faults: tuple[FaultSpec, ...] = ()
    fault_seed: int | None = None
    request_log_size: int = DEFAULT_CAPACITY  # entries (one per number asked) the request log keeps
