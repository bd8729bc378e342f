"""Security headers on every response: no sniffing, no referrer (tracking links carry signed tokens), and
for pages a content security policy that forbids framing, foreign scripts and foreign form targets."""

from __future__ import annotations

from flask import Flask, Response

PAGE_POLICY = "; ".join(
    (
        "default-src 'self'",
        "img-src 'self' data:",
        "style-src 'self' 'unsafe-inline'",  # e-mail previews in the outbox viewer carry inline styles
        "script-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
API_POLICY = "default-src 'none'; frame-ancestors 'none'"


def add_headers(response: Response) -> Response:
    """Set the headers, keeping any a view chose itself (e.g. a stricter policy for an attachment)."""
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("X-Frame-Options", "DENY")
    is_page = response.mimetype == "text/html"
    headers.setdefault("Content-Security-Policy", PAGE_POLICY if is_page else API_POLICY)
    return response


def register(app: Flask) -> None:
    """Add the headers to every response of `app`."""
    app.after_request(add_headers)
