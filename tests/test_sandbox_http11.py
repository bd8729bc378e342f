"""The sandbox's lean HTTP/1.1 server, spoken to over raw sockets."""

from __future__ import annotations

import socket
import threading

import pytest

from carriers.sandbox.http11 import Http11Server


def echo_app(environ, start_response):
    body = environ["wsgi.input"].read()
    method, path, query = environ["REQUEST_METHOD"], environ["PATH_INFO"], environ["QUERY_STRING"]
    text = f"{method} {path} ?{query} {environ.get('HTTP_X_ONE')} "
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [text.encode("latin-1"), body]


def broken_app(environ, start_response):
    raise RuntimeError("bug")


@pytest.fixture()
def serve():
    servers = []

    def start(app):
        server = Http11Server("127.0.0.1", 0, app)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        return server.port

    yield start
    for server in servers:
        server.stop()


def exchange(port: int, raw: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
        sock.sendall(raw)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_two_keep_alive_requests_then_close(serve):
    port = serve(echo_app)
    raw = (
        b"GET /a%20b?x=1 HTTP/1.1\r\nHost: h\r\nX-One: 1\r\n\r\n"
        b"POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbody"
    )
    assert exchange(port, raw) == (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 16\r\nConnection: keep-alive\r\n\r\n"
        b"GET /a b ?x=1 1 "
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 19\r\nConnection: close\r\n\r\n"
        b"POST /p ? None body"
    )


def test_http10_without_keep_alive_closes(serve):
    port = serve(echo_app)
    assert exchange(port, b"GET / HTTP/1.0\r\n\r\n") == (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\nConnection: close\r\n\r\n"
        b"GET / ? None "
    )


def test_garbage_gets_400_and_app_errors_get_500(serve, capsys):
    assert exchange(serve(echo_app), b"NONSENSE\r\n\r\n") == (
        b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    assert exchange(serve(broken_app), b"GET / HTTP/1.1\r\n\r\n") == (
        b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    assert "RuntimeError: bug" in capsys.readouterr().err
