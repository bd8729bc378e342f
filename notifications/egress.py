"""The SSRF guard for outbound webhooks: which addresses are public, and a transport that connects
only to addresses it has just checked.

Checking a name and then letting `requests` resolve it again is open to DNS rebinding (the second
answer may be 127.0.0.1), so `PublicOnlyAdapter` resolves once per new connection, refuses the host
when any answer is not public, and connects to exactly those checked addresses. TLS still verifies
the certificate against the URL's host name, and the Host header is unchanged.
"""

from __future__ import annotations

import ipaddress
import socket
import sys
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util.timeout import _DEFAULT_TIMEOUT

from notifications.errors import DestinationRefused

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
AddrInfo = tuple[socket.AddressFamily, socket.SocketKind, int, str, tuple[Any, ...]]

# Gaps in `is_global` on older Pythons (3.11 treats these as global).
_NON_PUBLIC_V4 = tuple(
    ipaddress.IPv4Network(net)
    for net in (
        "192.0.0.0/24",  # IETF protocol assignments
        "192.88.99.0/24",  # deprecated 6to4 relay anycast
    )
)
# Only 2000::/3 is global unicast; IPv4 in NAT64 / mapped / 6to4 form is judged as the IPv4 address.
_GLOBAL_UNICAST_V6 = ipaddress.IPv6Network("2000::/3")
_NON_PUBLIC_V6 = tuple(
    ipaddress.IPv6Network(net)
    for net in (
        "2001::/32",  # Teredo: a tunnel to an arbitrary IPv4 address and port
        "3fff::/20",  # documentation (RFC 9637)
    )
)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def is_public_address(address: IPAddress) -> bool:
    """True only for globally routable unicast addresses; IPv4 embedded in IPv6 must be public too."""
    if isinstance(address, ipaddress.IPv4Address):
        return address.is_global and not address.is_multicast and not _in_any(address, _NON_PUBLIC_V4)
    embedded = embedded_ipv4(address)
    if embedded is not None:
        return is_public_address(embedded)
    return address in _GLOBAL_UNICAST_V6 and address.is_global and not _in_any(address, _NON_PUBLIC_V6)


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv4-mapped, well-known-prefix NAT64 or 6to4 address leads to, else None."""
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.ipv4_mapped or address.sixtofour


def _in_any(address: IPAddress, networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]) -> bool:
    return any(address in network for network in networks)


def resolve_public(host: str, port: int) -> list[AddrInfo]:
    """Resolve `host` once; DestinationRefused when any address is not public (socket.gaierror passes)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if not is_public_address(address):
            raise DestinationRefused(
                f"{host!r} resolves to {address}, which is not a public address"
                " (private, loopback, link-local or reserved)"
            )
    return infos


def _connect_first(infos: list[AddrInfo], timeout: Any, source_address: Any, options: Any) -> socket.socket:
    """Connect to the first reachable of the already checked addresses, like `create_connection`."""
    error: OSError | None = None
    for family, kind, proto, _, sockaddr in infos:
        sock = socket.socket(family, kind, proto)
        try:
            for option in options or ():
                sock.setsockopt(*option)
            if timeout is not _DEFAULT_TIMEOUT:
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            error = exc
            sock.close()
    raise error or OSError(f"no address to connect to among {infos!r}")


class _PublicOnlyConnection(HTTPConnection):
    """A connection whose socket goes only to a checked public address (errors as urllib3 raises them)."""

    def _new_conn(self) -> socket.socket:
        try:
            infos = resolve_public(self._dns_host, self.port)
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc
        try:
            sock = _connect_first(infos, self.timeout, self.source_address, self.socket_options)
        except TimeoutError as exc:
            message = f"Connection to {self.host} timed out. (connect timeout={self.timeout})"
            raise ConnectTimeoutError(self, message) from exc
        except OSError as exc:
            raise NewConnectionError(self, f"Failed to establish a new connection: {exc}") from exc
        sys.audit("http.client.connect", self, self.host, self.port)
        return sock


class _PublicOnlyHTTPSConnection(_PublicOnlyConnection, HTTPSConnection):
    """The HTTPS variant: TLS (SNI, certificate check) still uses the URL's host name."""


class _PublicOnlyPool(HTTPConnectionPool):
    ConnectionCls = _PublicOnlyConnection


class _PublicOnlyHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _PublicOnlyHTTPSConnection


class PublicOnlyAdapter(HTTPAdapter):
    """A requests adapter whose new connections reach only public addresses; proxies are refused,
    since a proxy would resolve the name itself."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        """The usual pool manager, with pools that use the checking connection classes."""
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _PublicOnlyPool, "https": _PublicOnlyHTTPSPool}

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        """Refuse: the guard cannot check where a proxy connects."""
        raise DestinationRefused(f"webhooks are not sent through a proxy ({proxy})")


def guard_session(session: requests.Session, pool_size: int = 10) -> requests.Session:
    """Mount `PublicOnlyAdapter` for http and https and ignore proxy environment variables."""
    adapter = PublicOnlyAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.trust_env = False
    return session
