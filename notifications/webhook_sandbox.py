"""A local webhook receiver (a shop's endpoint) for tests, the demo and the benchmark.

It verifies `Leveranse-Signature` against its secrets, records the events it accepts, and can be
scripted to fail: a status (500, 410, 429, ...) or a delay longer than the sender's timeout.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from notifications.sandbox import JsonHandler, LoopbackServer
from notifications.webhooks import EVENT_ID_HEADER, SIGNATURE_HEADER, verify


@dataclass(frozen=True)
class ReceivedEvent:
    """An event the receiver accepted: its id header and the parsed JSON body."""

    event_id: str
    payload: dict


@dataclass(frozen=True)
class Scripted:
    """A scripted answer for the next request: an HTTP status, after an optional delay."""

    status: int
    delay: float = 0.0


class WebhookSandbox(LoopbackServer):
    """A shop endpoint at `url + "/webhooks"` that checks signatures like a careful shop would."""

    def __init__(self, secrets: Sequence[str], host: str = "127.0.0.1", port: int = 0) -> None:
        self.secrets = tuple(secrets)
        self.events: list[ReceivedEvent] = []
        self.rejected = 0
        self._script: deque[Scripted] = deque()
        self._lock = threading.Lock()
        super().__init__(_handler_for(self), host, port)

    @property
    def endpoint(self) -> str:
        """The URL to register as the webhook endpoint."""
        return f"{self.url}/webhooks"

    def fail_next(self, answer: Scripted, count: int = 1) -> None:
        """Answer the next `count` requests with `answer` (the events are not recorded)."""
        with self._lock:
            self._script.extend([answer] * count)

    def receive(self, headers: dict[str, str], body: bytes) -> tuple[int, Scripted | None]:
        """Decide the status for one delivery, recording it when accepted."""
        with self._lock:
            scripted = self._script.popleft() if self._script else None
        if scripted is not None:
            return scripted.status, scripted
        if not verify(headers.get(SIGNATURE_HEADER, ""), body, self.secrets, datetime.now(UTC)):
            with self._lock:
                self.rejected += 1
            return 401, None
        event = ReceivedEvent(headers.get(EVENT_ID_HEADER, ""), json.loads(body))
        with self._lock:
            self.events.append(event)
        return 200, None


def _handler_for(sandbox: WebhookSandbox) -> type[JsonHandler]:
    class Handler(JsonHandler):
        def do_POST(self) -> None:
            body = self.read_body()
            if self.path != "/webhooks":
                self.answer(404, {"error": "not found"})
                return
            status, scripted = sandbox.receive(dict(self.headers.items()), body)
            if scripted is not None and scripted.delay:
                time.sleep(scripted.delay)
            self.answer(status, {"received": status == 200})

    return Handler
