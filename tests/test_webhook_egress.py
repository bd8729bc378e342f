"""The webhook SSRF guard: special-use addresses, DNS rebinding, and the loopback setting for tests/demo."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from app.notify.channel_settings import webhook_settings
from notifications import egress
from notifications.errors import DestinationRefused
from notifications.sandbox import JsonHandler, LoopbackServer
from notifications.webhook_sandbox import WebhookSandbox
from notifications.webhooks import (
    WebhookChannel,
    WebhookMessage,
    WebhookSettings,
    build_test_event,
    check_destination,
)
from tests.factories import WEBHOOK_SECRET

NOW = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)
_real_getaddrinfo = socket.getaddrinfo


@pytest.mark.parametrize(
    "host",
    [
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "64:ff9b:1::7f00:1",  # local-use NAT64
        "64:ff9b:1::a9fe:a9fe",
        "::127.0.0.1",  # IPv4-compatible
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::ffff:169.254.169.254",
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "2002:a00:1::1",  # 6to4 of 10.0.0.1
        "2001:0:4136:e378:8000:63bf:f7f7:f7f7",  # Teredo, even with a public client address
        "fec0::1",  # site-local
        "fc00::1",  # unique-local
        "fd12:3456::1",
        "fe80::1",  # link-local
        "ff02::1",  # multicast
        "ff0e::1",
        "::",  # unspecified
        "::1",
        "2001:db8::1",  # documentation
        "3fff::1",
        "100::1",  # discard-only
        "5f00::1",  # SRv6 SIDs, outside global unicast
        "192.0.0.8",  # IETF protocol assignments
        "224.0.0.1",  # multicast
        "198.18.0.1",  # benchmarking
    ],
)
def test_special_use_addresses_are_refused(host: str) -> None:
    literal = f"[{host}]" if ":" in host else host
    with pytest.raises(DestinationRefused, match="is not a public address"):
        check_destination(f"http://{literal}/hook", allow_private=False)


@pytest.mark.parametrize(
    "host",
    ["93.184.216.34", "2606:4700::1111", "64:ff9b::5db8:d822", "::ffff:93.184.216.34", "2002:5db8:d822::1"],
)
def test_public_addresses_in_any_form_are_allowed(host: str) -> None:
    literal = f"[{host}]" if ":" in host else host
    check_destination(f"https://{literal}/hook", allow_private=False)


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A bare TCP socket on 127.0.0.1; any connection to it waits in the backlog, so none goes unseen."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.setblocking(False)
        yield server


def rebinding_resolver(name: str, first: str, then: str, port: int, calls: list[str]):
    """A getaddrinfo that answers `first` for `name` once and `then` afterwards, like a rebinding DNS server."""

    def getaddrinfo(host, *args, **kwargs):
        if host != name:
            return _real_getaddrinfo(host, *args, **kwargs)
        calls.append(host)
        address = first if len(calls) == 1 else then
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))]

    return getaddrinfo


def test_dns_rebinding_to_loopback_is_refused_at_connect(monkeypatch, listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    calls: list[str] = []
    resolver = rebinding_resolver("hooks.rebind.test", "93.184.216.34", "127.0.0.1", port, calls)
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    message = WebhookMessage(f"http://hooks.rebind.test:{port}/webhooks", build_test_event(NOW), ("s",))
    with WebhookChannel(WebhookSettings(timeout=1.0)) as channel, pytest.raises(DestinationRefused):
        channel.send(message)
    assert len(calls) == 2, "the name is resolved again when connecting, and that answer is checked"
    with pytest.raises(BlockingIOError):
        listener.accept()


def test_guarded_channel_connects_to_the_checked_address_with_the_original_host(monkeypatch) -> None:
    # Loopback stands in for a public receiver here: no public address is reachable from the tests.
    monkeypatch.setattr(egress, "is_public_address", lambda address: address.is_loopback)
    hosts: list[str] = []

    class HostRecorder(JsonHandler):
        def do_POST(self) -> None:
            self.read_body()
            hosts.append(self.headers["Host"])
            self.answer(200, {})

    with LoopbackServer(HostRecorder) as receiver:
        port = int(receiver.url.rsplit(":", 1)[1])
        calls: list[str] = []
        resolver = rebinding_resolver("hooks.shop.test", "127.0.0.1", "127.0.0.1", port, calls)
        monkeypatch.setattr(socket, "getaddrinfo", resolver)
        message = WebhookMessage(f"http://hooks.shop.test:{port}/webhooks", build_test_event(NOW), ("s",))
        with WebhookChannel(WebhookSettings(timeout=2.0)) as channel:
            channel.send(message)
    assert hosts == [f"hooks.shop.test:{port}"]
    assert len(calls) == 2


def test_delivery_to_the_loopback_sandbox_works_when_configured(
    app, webhook_receiver: WebhookSandbox
) -> None:
    assert app.config["WEBHOOKS_ALLOW_PRIVATE"]
    message = WebhookMessage(webhook_receiver.endpoint, build_test_event(NOW), (WEBHOOK_SECRET,))
    with WebhookChannel(webhook_settings(app.config)) as channel:
        assert channel.send(message).provider_id == message.event.event_id
    assert len(webhook_receiver.events) == 1
