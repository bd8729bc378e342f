"""Benchmark: backtests on 100,000 generated shipments per history mode, and re-scoring 100,000 in flight."""

from __future__ import annotations

import json
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from carriers.sandbox.history import HistoryMode, generate_history
from planning.prediction import Snapshot, train
from planning.prediction.backtest import run_backtest
from planning.prediction.data import build_snapshot
from planning.prediction.io import write_events_csv, write_history_csv

N = 100_000
# Per mode: first order date, days of history, split date (the marketplace's strike falls after the split).
MODES = {
    HistoryMode.PARCEL: (date(2023, 1, 2), 540, date(2024, 3, 1)),
    HistoryMode.MARKETPLACE: (date(2017, 1, 2), 600, date(2018, 2, 23)),
}


def _timed(fn, *args, **kwargs) -> dict:
    started = time.perf_counter()
    figures = fn(*args, **kwargs)
    return figures | {"seconds": round(time.perf_counter() - started, 1)}


def main() -> None:
    """Print the figures as JSON lines."""
    for mode, (start, days, split) in MODES.items():
        started = time.perf_counter()
        shipments = generate_history(N, seed=42, start=start, days=days, mode=mode)
        print(json.dumps({"mode": mode, "generated": N, "seconds": round(time.perf_counter() - started, 1)}))
        with tempfile.TemporaryDirectory() as tmp:
            history, events = Path(tmp) / "history.csv", Path(tmp) / "events.csv"
            write_history_csv(history, (s.record for s in shipments))
            write_events_csv(events, (e for s in shipments for e in s.events))
            print(json.dumps({"mode": mode, "backtest": _timed(run_backtest, history, split)}))
            frozen = _timed(run_backtest, history, split, live_outcomes=False)
            print(json.dumps({"mode": mode, "backtest_frozen_outcomes": frozen}))
            if mode is HistoryMode.PARCEL:
                print(
                    json.dumps(
                        {"mode": mode, "backtest_with_events": _timed(run_backtest, history, split, events)}
                    )
                )
        if mode is HistoryMode.PARCEL:
            _scoring(shipments, split)


def _scoring(shipments, split: date) -> None:
    now = datetime.combine(split, datetime.min.time(), UTC)
    model = train([s.record for s in shipments], now=now)
    snaps: list[Snapshot] = [
        build_snapshot(s.record.shipment, s.events, s.record.shipment.shipped_at + timedelta(days=1))
        for s in shipments
    ]
    started = time.perf_counter()
    preds = model.predict_many(snaps)
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {"scored": len(preds), "seconds": round(seconds, 2), "per_second": round(len(preds) / seconds)}
        )
    )


if __name__ == "__main__":
    main()
