"""Benchmark: delay warnings replayed on generated histories, without and with the in-flight calibration.

The newest quarter of each history is replayed as the service sees it (handoff, every scan, every 6 h);
per variant: the customer-warning and staff-queue thresholds chosen for their precision targets, the
precision, recall and median lead time they buy, the time-averaged share of the book in the queue, the
calibration error (ECE) of p_late and the ETA p50 error on the replayed moments.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import date

import numpy as np

from app.risk.warning_policy import HOLDOUT_SHARE, WARN_FLOOR, choose_policy, warning_tracks
from carriers.sandbox.history import HistoryMode, generate_history
from planning.prediction import RiskSettings, train
from planning.prediction.in_flight import replay
from planning.prediction.reasons import has_evidence

N = 20_000
WARN_TARGET, QUEUE_TARGET = 0.8, 0.5
MODES = {HistoryMode.PARCEL: (date(2024, 1, 1), 240), HistoryMode.MARKETPLACE: (date(2017, 1, 2), 240)}


def _ece(p: np.ndarray, late: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error over equal-width p bins."""
    which = np.minimum((p * bins).astype(int), bins - 1)
    return float(
        sum(abs(p[which == b].mean() - late[which == b].mean()) * (which == b).sum() for b in range(bins))
        / len(p)
    )


def _variant(model, test, events) -> dict:
    tracks = warning_tracks(model, test, events)
    warn = choose_policy(
        tracks, target_precision=WARN_TARGET, min_warnings=30, source="generated", floor=WARN_FLOOR
    )
    queue = choose_policy(tracks, target_precision=QUEUE_TARGET, min_warnings=30, source="generated")
    played = replay(test, events)
    predictions, _, moving = model.predict_with_position(played.snapshots)
    p = np.array([x.p_late for x in predictions])[moving]
    flaggable = np.array([x.p_late >= 0.5 or has_evidence(x.details) for x in predictions])[moving]
    late = np.array([r.delivered_at is None or r.delivered_at >= r.shipment.promise_end for r in test], float)
    owner_late = late[played.owners][moving]
    delivered = [test[i].delivered_at for i in played.owners[moving]]
    p50 = [x.eta_p50 for x, m in zip(predictions, moving, strict=True) if m]
    errors = [abs((a - b).total_seconds()) / 86400 for a, b in zip(delivered, p50, strict=True) if a]
    return {
        "warning": {
            k: getattr(warn, k)
            for k in ("threshold", "met_target", "precision", "recall", "median_lead_days", "warned")
        },
        "queue": {k: getattr(queue, k) for k in ("threshold", "met_target", "precision", "recall", "warned")},
        "queue_share_of_book": round(float(np.mean((p >= queue.threshold) & flaggable)), 4),
        "ece_p_late": round(_ece(p, owner_late), 4),
        "eta_p50_mae_days": round(float(np.mean(errors)), 3),
        "late_parcels": int(late.sum()),
        "replayed_parcels": len(tracks),
    }


def main() -> None:
    """Print one JSON line per history mode and variant."""
    for mode, (start, days) in MODES.items():
        started = time.perf_counter()
        generated = generate_history(N, seed=7, start=start, days=days, mode=mode)
        records, events = [g.record for g in generated], [e for g in generated for e in g.events]
        ordered = sorted(records, key=lambda r: r.shipment.shipped_at)
        cut = int(len(ordered) * (1 - HOLDOUT_SHARE))
        split = ordered[cut].shipment.shipped_at
        model = train(ordered[:cut], settings=RiskSettings(), now=split, events=events)
        data_end = max(r.delivered_at or r.shipment.promise_end for r in ordered)
        model = model.with_outcomes(ordered[cut:], data_end)
        for name, variant in (("before", replace(model, in_flight=None)), ("after", model)):
            figures = _variant(variant, ordered[cut:], events)
            print(json.dumps({"mode": mode, "variant": name, **figures}))
        print(json.dumps({"mode": mode, "seconds": round(time.perf_counter() - started, 1)}))


if __name__ == "__main__":
    main()
