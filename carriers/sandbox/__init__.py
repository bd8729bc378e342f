"""Sandbox carriers: a local HTTP server speaking eight real tracking APIs and two claims APIs, driven by scenarios."""

from __future__ import annotations

from carriers.sandbox.faults import FaultKind, FaultSpec
from carriers.sandbox.scenarios import Scenario
from carriers.sandbox.server import SandboxServer
from carriers.sandbox.settings import Credentials, SandboxSettings

__all__ = ["Credentials", "FaultKind", "FaultSpec", "SandboxServer", "SandboxSettings", "Scenario"]
