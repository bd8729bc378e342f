"""Prometheus counters the worker and the API update; served at /metrics by the web app, and by a worker
on its own port (`leveranse worker --metrics-port`), since each process counts only its own work."""

from __future__ import annotations

from prometheus_client import Counter, Histogram, start_http_server

carrier_calls = Counter("leveranse_carrier_calls_total", "Tracking API calls made", ["carrier", "outcome"])
shipments_polled = Counter("leveranse_shipments_polled_total", "Shipments polled", ["carrier", "outcome"])
events_ingested = Counter("leveranse_events_ingested_total", "New tracking events stored", ["source"])
webhooks_received = Counter(
    "leveranse_carrier_webhooks_total", "Carrier webhooks received", ["provider", "outcome"]
)
poll_batch_seconds = Histogram("leveranse_poll_batch_seconds", "Time to fetch one carrier batch", ["carrier"])


def serve_metrics(host: str, port: int) -> int:
    """Serve this process's counters over HTTP on a background thread; returns the bound port (0: any)."""
    server, _ = start_http_server(port, host)
    return server.server_port
