"""Security headers on pages and the API; /metrics only for the monitoring system."""

from __future__ import annotations

from tests.factories import make_shipment, make_shop


def test_pages_cannot_be_framed_and_carry_a_content_security_policy(client, app) -> None:
    shop, _ = make_shop()
    shipment = make_shipment(shop, destination_postcode="0150")
    for path in (f"/t/{shipment.link_token}", "/track", "/staff/login"):
        response = client.get(path)
        assert response.status_code == 200, path
        policy = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in policy and "default-src 'self'" in policy
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_api_answers_are_not_sniffed_or_framed(client, auth) -> None:
    response = client.get("/api/v1/shipments", headers=auth)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"


def test_metrics_are_for_loopback_or_the_token_holder(client, app) -> None:
    assert client.get("/metrics").status_code == 200  # the test client is 127.0.0.1
    outside = client.get("/metrics", environ_overrides={"REMOTE_ADDR": "203.0.113.9"})
    assert outside.status_code == 403 and outside.mimetype == "application/problem+json"
    app.config["METRICS_TOKEN"] = "s3cret"
    assert client.get("/metrics").status_code == 403
    allowed = client.get("/metrics", headers={"Authorization": "Bearer s3cret"})
    assert allowed.status_code == 200 and b"leveranse" in allowed.data
