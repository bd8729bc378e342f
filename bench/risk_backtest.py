"""Benchmark: live vs frozen outcomes on generated parcel and marketplace histories, side by side.

Smaller than `prediction.py` (20,000 rows per mode) so it fits a few minutes on 2 cores; the parcel mode
also predicts after every scan (EVENTS.csv) for the warning share, false alarms and lead time.
"""

from __future__ import annotations

import json
import tempfile
import time
from datetime import date
from pathlib import Path

from carriers.sandbox.history import HistoryMode, generate_history
from planning.prediction.backtest import run_backtest
from planning.prediction.io import write_events_csv, write_history_csv

N = 20_000
# Per mode: first handoff date, days of history, split date (the marketplace's strike falls after it).
MODES = {
    HistoryMode.PARCEL: (date(2023, 1, 2), 540, date(2024, 3, 1)),
    HistoryMode.MARKETPLACE: (date(2017, 1, 2), 600, date(2018, 2, 23)),
}


def main() -> None:
    """Print one JSON line per mode: the figures of both variants and the baselines."""
    for mode, (start, days, split) in MODES.items():
        shipments = generate_history(N, seed=42, start=start, days=days, mode=mode)
        with tempfile.TemporaryDirectory() as tmp:
            history, events = Path(tmp) / "history.csv", Path(tmp) / "events.csv"
            write_history_csv(history, (s.record for s in shipments))
            write_events_csv(events, (e for s in shipments for e in s.events))
            started = time.perf_counter()
            out = run_backtest(history, split, events if mode is HistoryMode.PARCEL else None)
        keep = ("n_train", "n_test", "late_rate", "variants", "baselines", "events")
        figures = {k: out[k] for k in keep if k in out}
        print(json.dumps({"mode": mode, **figures, "seconds": round(time.perf_counter() - started, 1)}))


if __name__ == "__main__":
    main()
