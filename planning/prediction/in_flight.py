"""p_late for parcels on their way, learned from how parcels in the same position really ended.

The transit model's p_late (the handoff odds moved by the survival of the ETA grid) is smooth but its
tails are not: the evening before the promised day, with the van run still to come, it can say 0.99 for a
parcel that arrives the next morning like most of its kind. The in-flight calibration is fitted on the
history replayed as the service saw it — every parcel at handoff, after each scan and every STEP until
its promise ended or it arrived — and maps the model's view of a parcel on its way (its odds, business
days left and gone, time of day, silence, carrier signals) to how often parcels in that position were late.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier

from planning.prediction.data import HistoryRecord, ScanEvent, Snapshot, build_snapshot

STEP = timedelta(hours=6)  # the service re-scores every few minutes; a quarter of a day is close enough
# Each parcel's grid starts at its own phase (a golden-ratio sequence): with fixed carrier schedules a
# shared phase would show the calibration only a few times of day and a few silences per milestone.
_PHASE = 0.6180339887
# A parcel's position on its way, column by column, and how each may move P(late): 1 up, -1 down, 0 free.
COLUMNS = {
    "log_odds": 1,  # the transit model's odds
    "days_left": -1,  # business days until the promise ends
    "days_gone": 0,  # business days since handoff: a late parcel mostly shows it early on
    "time_of_day": 0,
    "silence": 0,  # business days since the last scan (or the handoff)
    "delay_signals": 1,  # carrier delay, weather, held, exception, failed attempt
    "at_customs": 0,  # routine on every cross-border parcel, so weighed apart from real delays
    "stuck": 1,
}
MONOTONE = tuple(COLUMNS.values())
SILENCE = list(COLUMNS).index("silence")
MIN_ROWS = 500


@dataclass(frozen=True)
class Replay:
    """Snapshots of `records` as the service would have seen them, and whose each one is."""

    snapshots: list[Snapshot]
    owners: np.ndarray  # index into the replayed records


def replay(
    records: Sequence[HistoryRecord], events: Iterable[ScanEvent], until: datetime | None = None
) -> Replay:
    """Each record at handoff, after each scan and every STEP (from its own phase) up to the end of its
    promised day or its delivery, whichever is first (and before `until`, when given)."""
    by_id: dict[str, list[ScanEvent]] = defaultdict(list)
    for e in events:
        by_id[e.shipment_id].append(e)
    snapshots, owners = [], []
    for i, record in enumerate(records):
        info = record.shipment
        end = min(info.promise_end, record.delivered_at or info.promise_end)
        if until is not None:
            end = min(end, until)
        mine = sorted(by_id.get(info.shipment_id, ()), key=lambda e: e.occurred_at)
        if end <= info.shipped_at:
            continue
        first = info.shipped_at + STEP * ((i * _PHASE) % 1)
        moments = {info.shipped_at} | {first + k * STEP for k in range(int((end - first) / STEP) + 1)}
        moments |= {e.occurred_at for e in mine if info.shipped_at < e.occurred_at < end}
        for at in sorted(m for m in moments if m < end):
            snapshots.append(build_snapshot(info, mine, at))
            owners.append(i)
    return Replay(snapshots, np.array(owners, dtype=np.int64))


@dataclass(frozen=True)
class InFlightCalibration:
    """A monotone boosted classifier from a parcel's position on its way to P(late)."""

    classifier: HistGradientBoostingClassifier

    @classmethod
    def fit(cls, features: np.ndarray, late: np.ndarray) -> InFlightCalibration | None:
        """Fit on N×len(MONOTONE) features and known outcomes (NaN skipped); None with too few rows or one class."""
        known = ~np.isnan(late)
        if known.sum() < MIN_ROWS or len(np.unique(late[known])) < 2:
            return None
        classifier = HistGradientBoostingClassifier(
            max_iter=150,
            learning_rate=0.08,
            min_samples_leaf=60,
            l2_regularization=1.0,
            monotonic_cst=list(MONOTONE),
            random_state=0,
        ).fit(features[known], late[known].astype(int))
        return cls(classifier)

    def predict(self, features: np.ndarray) -> np.ndarray:
        """P(late) per row."""
        return self.classifier.predict_proba(features)[:, 1]
