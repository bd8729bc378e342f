"""A lean threaded HTTP/1.1 keep-alive server for a WSGI app: the sandbox's hot path, kept cheap.

Werkzeug's development server spends several times more per request than the sandbox app itself;
this one parses just what the sandbox needs (request line, headers, Content-Length bodies) and
writes each response with one `sendall`.
"""

from __future__ import annotations

import io
import socket
import socketserver
import sys
import threading
import traceback
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote_to_bytes

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
_MAX_LINE = 65536
_MAX_HEADERS = 100
_SET_BY_SERVER = {"Content-Length", "Connection"}


class _BadRequest(Exception):
    """The client sent something this server does not parse."""


class Http11Server(socketserver.ThreadingTCPServer):
    """Thread per connection, daemon threads, address reuse; `stop()` also closes idle connections."""

    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False

    def __init__(self, host: str, port: int, app: WSGIApp) -> None:
        self.app = app
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()
        super().__init__((host, port), _Handler)

    @property
    def port(self) -> int:
        """The bound port."""
        return self.server_address[1]

    def track(self, connection: socket.socket, alive: bool) -> None:
        """Remember open connections so `stop` can close them."""
        with self._lock:
            (self._connections.add if alive else self._connections.discard)(connection)

    def stop(self) -> None:
        """Stop accepting, close the listener and every open keep-alive connection."""
        self.shutdown()
        self.server_close()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                continue  # the client closed it already


class _Handler(socketserver.BaseRequestHandler):
    server: Http11Server

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(sock, True)
        rfile = sock.makefile("rb", buffering=_MAX_LINE)
        try:
            while self._serve_one(sock, rfile):
                pass
        except (ConnectionError, OSError):
            pass  # the client went away mid-request
        finally:
            self.server.track(sock, False)
            rfile.close()

    def _serve_one(self, sock: socket.socket, rfile: io.BufferedReader) -> bool:
        line = rfile.readline(_MAX_LINE + 1)
        while line in (b"\r\n", b"\n"):
            line = rfile.readline(_MAX_LINE + 1)
        if not line:
            return False
        try:
            environ, keep_alive = self._environ(line, rfile)
        except _BadRequest:
            sock.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return False
        sent: list[Any] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[..., Any]:
            sent[:] = [status, headers]
            return sent.append

        try:
            chunks = self.server.app(environ, start_response)
            try:
                body = b"".join(chunks)
            finally:
                close = getattr(chunks, "close", None)
                if close is not None:
                    close()
        except Exception:
            # A bug in the app must not kill the connection thread silently: log it and answer 500.
            traceback.print_exc()
            sock.sendall(
                b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
            return False
        status, headers = sent[0], sent[1]
        head = [f"HTTP/1.1 {status}"]
        head += [f"{k}: {v}" for k, v in headers if k not in _SET_BY_SERVER]
        head.append(f"Content-Length: {len(body)}")
        head.append("Connection: keep-alive" if keep_alive else "Connection: close")
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
        return keep_alive

    def _environ(self, line: bytes, rfile: io.BufferedReader) -> tuple[dict[str, Any], bool]:
        try:
            method, target, version = line.decode("latin-1").rstrip("\r\n").split(" ")
        except ValueError as exc:
            raise _BadRequest from exc
        environ: dict[str, Any] = {}
        for _ in range(_MAX_HEADERS):
            header = rfile.readline(_MAX_LINE + 1)
            if header in (b"\r\n", b"\n", b""):
                break
            name, sep, value = header.decode("latin-1").partition(":")
            if not sep:
                raise _BadRequest
            key = name.strip().upper().replace("-", "_")
            key = key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"
            value = value.strip()
            environ[key] = f"{environ[key]},{value}" if key in environ else value
        else:
            raise _BadRequest
        if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            raise _BadRequest  # every client the sandbox serves sends Content-Length
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError as exc:
            raise _BadRequest from exc
        path, _, query = target.partition("?")
        connection = environ.get("HTTP_CONNECTION", "").lower()
        keep_alive = connection != "close" if version == "HTTP/1.1" else connection == "keep-alive"
        host, port = self.server.server_address[:2]
        environ.update(
            {
                "REQUEST_METHOD": method,
                "SCRIPT_NAME": "",
                "PATH_INFO": unquote_to_bytes(path).decode("latin-1"),
                "QUERY_STRING": query,
                "SERVER_NAME": host,
                "SERVER_PORT": str(port),
                "SERVER_PROTOCOL": version,
                "REMOTE_ADDR": self.client_address[0],
                "wsgi.version": (1, 0),
                "wsgi.url_scheme": "http",
                "wsgi.input": io.BytesIO(rfile.read(length) if length else b""),
                "wsgi.errors": sys.stderr,
                "wsgi.multithread": True,
                "wsgi.multiprocess": False,
                "wsgi.run_once": False,
            }
        )
        return environ, keep_alive
