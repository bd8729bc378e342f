"""Notification throughput from one process: N emails to a local aiosmtpd, N webhooks to a local receiver.

Usage: python bench/notifications.py [N]   (default 2000). Prints messages per second per channel.
"""

from __future__ import annotations

import socket
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from aiosmtpd.controller import Controller

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from notifications.email import EmailChannel, EmailMessage, SmtpSettings  # noqa: E402
from notifications.render import render  # noqa: E402
from notifications.webhook_sandbox import WebhookSandbox  # noqa: E402
from notifications.webhooks import WebhookChannel, WebhookMessage, WebhookSettings, build_event  # noqa: E402

CONTEXT = {
    "shop_name": "Fjellsport",
    "customer_name": "Kari",
    "tracking_number": "70712345678",
    "tracking_url": "https://track.example.no/t/AB12CD",
    "unsubscribe_url": "https://track.example.no/u/XYZ",
    "timezone": "Europe/Oslo",
    "delivered_at": datetime(2025, 3, 4, 13, 12, tzinfo=UTC),
}


class CountingHandler:
    """Accepts every message and only counts it (the bench measures the sender)."""

    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def bench_render(n: int) -> float:
    start = time.perf_counter()
    for i in range(n):
        render("delivered", ("en", "nb", "da", "th")[i % 4], CONTEXT)
    return n / (time.perf_counter() - start)


def bench_email(n: int) -> float:
    handler, port = CountingHandler(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    rendered = render("delivered", "nb", CONTEXT)
    try:
        with EmailChannel(SmtpSettings("127.0.0.1", port, "varsler@fjellsport.no")) as channel:
            start = time.perf_counter()
            for i in range(n):
                channel.send(
                    EmailMessage(
                        f"kunde{i}@example.no",
                        rendered.subject,
                        rendered.text,
                        rendered.html,
                        f"shipment-{i}:delivered:email",
                        CONTEXT["unsubscribe_url"],
                    )
                )
            elapsed = time.perf_counter() - start
    finally:
        controller.stop()
    assert handler.count == n, (handler.count, n)
    return n / elapsed


def bench_webhooks(n: int) -> float:
    now = datetime.now(UTC)
    events = [build_event("shipment.delivered", {"tracking_number": str(i)}, now) for i in range(n)]
    with WebhookSandbox(["secret"]) as receiver:
        with WebhookChannel(WebhookSettings(allow_private=True)) as channel:
            start = time.perf_counter()
            for event in events:
                channel.send(WebhookMessage(receiver.endpoint, event, ("secret",)))
            elapsed = time.perf_counter() - start
        assert len(receiver.events) == n and receiver.rejected == 0
    return n / elapsed


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    print(f"render:   {bench_render(n // 4):8.0f} messages/s (email + SMS, 4 languages)")
    print(f"email:    {bench_email(n):8.0f} emails/s to aiosmtpd on loopback, one connection (target 200)")
    print(f"webhooks: {bench_webhooks(n):8.0f} webhooks/s to a threaded local receiver (target 500)")


if __name__ == "__main__":
    main()
