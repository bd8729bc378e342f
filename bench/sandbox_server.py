"""Raw throughput of the sandbox carrier server over loopback keep-alive connections.

Usage (from the repo root): python -m bench.sandbox_server [--seconds 5] [--clients 4] [--numbers 20000]
The server runs in this process; the clients (plain http.client, one thread each) run in a child
process so they do not share the server's GIL. Prints single-number requests/s overall and per
carrier, and the numbers/s of one client sending FedEx 30-number batches.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import threading
import time
from urllib.parse import urlencode

from carriers.sandbox import SandboxServer, SandboxSettings

CREDS = SandboxSettings().credentials
SINGLE_CARRIERS = ("bring", "dhl", "postnord")


def _single_request(carrier: str, number: str) -> tuple[str, dict[str, str]]:
    """Path and headers of one single-number tracking request."""
    if carrier == "bring":
        headers = {"X-Mybring-API-Uid": CREDS.api_uid, "X-Mybring-API-Key": CREDS.api_key}
        return "/bring/tracking/api/v2/tracking.json?" + urlencode({"q": number}), headers
    if carrier == "dhl":
        return f"/dhl/track/shipments?trackingNumber={number}", {"DHL-API-Key": CREDS.api_key}
    query = urlencode({"id": number, "locale": "en", "apikey": CREDS.api_key})
    return f"/postnord/rest/shipment/v5/trackandtrace/findByIdentifier.json?{query}", {}


def _single_client(port: int, carrier: str, prefix: str, n_numbers: int, seconds: float, out: list) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port)
    done, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        path, headers = _single_request(carrier, f"{prefix}{done % n_numbers:08d}")
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"{carrier}: HTTP {response.status}")
        done += 1
    conn.close()
    out.append((carrier, done))


def _fedex_client(port: int, seconds: float, out: list) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port)
    form = {
        "grant_type": "client_credentials",
        "client_id": CREDS.client_id,
        "client_secret": CREDS.client_secret,
    }
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    conn.request("POST", "/fedex/oauth/token", body=urlencode(form), headers=headers)
    token = json.loads(conn.getresponse().read())["access_token"]
    numbers = [{"trackingNumberInfo": {"trackingNumber": f"FX{i:010d}"}} for i in range(30)]
    body = json.dumps({"trackingInfo": numbers})
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    done, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        conn.request("POST", "/fedex/track/v1/trackingnumbers", body=body, headers=headers)
        conn.getresponse().read()
        done += 1
    out.append(("fedex", done * 30))


def _run_clients(port: int, clients: int, n_numbers: int, seconds: float, fedex: bool, queue) -> None:
    out: list = []
    if fedex:
        threads = [threading.Thread(target=_fedex_client, args=(port, seconds, out))]
    else:
        threads = [
            threading.Thread(
                target=_single_client,
                args=(port, SINGLE_CARRIERS[k % 3], f"C{k}", n_numbers, seconds, out),
            )
            for k in range(clients)
        ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    queue.put(out)


def _measure(port: int, clients: int, n_numbers: int, seconds: float, fedex: bool) -> list:
    queue = multiprocessing.Queue()
    process = multiprocessing.Process(
        target=_run_clients, args=(port, clients, n_numbers, seconds, fedex, queue)
    )
    process.start()
    results = queue.get()
    process.join()
    return results


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--numbers", type=int, default=20000)
    args = parser.parse_args()
    with SandboxServer(SandboxSettings(speed=600)) as server:
        singles = _measure(server.port, args.clients, args.numbers, args.seconds, fedex=False)
        total = sum(n for _, n in singles)
        print(f"single-number requests: {total / args.seconds:,.0f} req/s, {args.clients} keep-alive clients")
        for carrier in SINGLE_CARRIERS:
            count = sum(n for c, n in singles if c == carrier)
            print(f"  {carrier:9s} {count / args.seconds:,.0f} req/s")
        (fedex,) = _measure(server.port, 1, args.numbers, args.seconds, fedex=True)
        print(f"fedex 30-number batches: {fedex[1] / args.seconds:,.0f} numbers/s, 1 client")
        stats = server.stats()
        print(f"served {stats['total_requests']:,} requests, {len(server.app.store):,} shipments in memory")


if __name__ == "__main__":
    main()
