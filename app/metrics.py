"""Prometheus counters the worker and the API update; served at /metrics by the web app, and by a worker
on its own port (`leveranse worker --metrics-port`), since each process counts only its own work."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, start_http_server

carrier_calls = Counter("leveranse_carrier_calls_total", "Tracking API calls made", ["carrier", "outcome"])
shipments_polled = Counter("leveranse_shipments_polled_total", "Shipments polled", ["carrier", "outcome"])
events_ingested = Counter("leveranse_events_ingested_total", "New tracking events stored", ["source"])
webhooks_received = Counter(
    "leveranse_carrier_webhooks_total", "Carrier webhooks received", ["provider", "outcome"]
)
poll_batch_seconds = Histogram("leveranse_poll_batch_seconds", "Time to fetch one carrier batch", ["carrier"])
job_runs = Counter("leveranse_job_runs_total", "Background job runs", ["job", "outcome"])
job_seconds = Histogram("leveranse_job_seconds", "Time one background job run took", ["job"])
job_last_finished = Gauge(
    "leveranse_job_last_finished_timestamp_seconds",
    "When a run of the job last ended (Unix time)",
    ["job", "outcome"],
)


def record_job_run(job: str, outcome: str, seconds: float) -> None:
    """Count one run of `job` (outcome `ok`, `failed`, or `skipped` for a singleton another worker runs)
    and how long it took."""
    job_runs.labels(job, outcome).inc()
    job_seconds.labels(job).observe(seconds)
    job_last_finished.labels(job, outcome).set_to_current_time()


def serve_metrics(host: str, port: int) -> int:
    """Serve this process's counters over HTTP on a background thread; returns the bound port (0: any)."""
    server, _ = start_http_server(port, host)
    return server.server_port
