"""A local SMTP server for tests and the demo: loopback only, no real mail.

It accepts every message (or refuses recipients with a scripted reply) and, unless told not to, keeps
what it received. Port 0 lets the OS pick a free port; `port` then says which one it got.
"""

from __future__ import annotations

import threading
from typing import Self

from aiosmtpd.controller import Controller


class _Controller(Controller):
    """aiosmtpd's threaded server, which probes the port it was given: with port 0, probe the bound one."""

    def _trigger_server(self) -> None:
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class MailSandbox:
    """An SMTP server on a background thread; a context manager. `messages` holds (from, to, raw bytes)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, keep: bool = True) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.rcpt_reply: str | None = None  # e.g. "550 no such user": refuse every recipient with it
        self._keep = keep
        self._lock = threading.Lock()
        self._controller = _Controller(self, hostname=host, port=port)

    @property
    def host(self) -> str:
        """The address it listens on."""
        return self._controller.hostname

    @property
    def port(self) -> int:
        """The port it listens on (the one the OS picked when asked for 0)."""
        return self._controller.port

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        """aiosmtpd hook: accept the recipient unless a refusal is scripted."""
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        """aiosmtpd hook: accept the message, keeping it if asked to."""
        if self._keep:
            with self._lock:
                self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"

    def start(self) -> Self:
        """Serve on a daemon thread."""
        self._controller.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        self._controller.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
