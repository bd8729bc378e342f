"""Parser throughput: every carrier fixture parsed repeatedly; prints payloads/s and events/s per carrier."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from carriers.errors import CarrierError
from carriers.model import TrackingUpdate
from carriers.registry import PARSERS

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "carriers"
ROUNDS = 300


def main() -> None:
    """Run the benchmark and print one line per carrier."""
    logging.disable(logging.WARNING)  # fixtures with unknown codes would log on every round
    for carrier in sorted(PARSERS):
        paths = sorted((FIXTURES / carrier).glob("*.json"))
        bodies = [p.read_bytes() for p in paths if ".expected" not in p.name]
        payloads = events = 0
        started = time.perf_counter()
        for _ in range(ROUNDS):
            for body in bodies:
                payloads += 1
                try:
                    results = PARSERS[carrier](body)
                except CarrierError:
                    continue
                events += sum(len(r.events) for r in results if isinstance(r, TrackingUpdate))
        seconds = time.perf_counter() - started
        print(f"{carrier:13s} {payloads / seconds:9.0f} payloads/s {events / seconds:10.0f} events/s")


if __name__ == "__main__":
    main()
