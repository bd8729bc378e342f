"""When a customer is told "your parcel is running late", and when staff see a parcel in the at-risk
queue: p_late thresholds chosen on history.

A customer is warned only from a threshold at which, on history, at least RISK_WARN_PRECISION of the
warned parcels really were late; the staff's `at_risk` state starts lower, from the threshold at which at
least RISK_QUEUE_PRECISION of the queued parcels were (so staff see trouble early, but the queue is not
the whole book). The history is replayed as the service would have seen it: a model trained on the
older part predicts each newer parcel at handoff, after every scan and every 6 hours until its promise
ends (or it arrives); a parcel counts as warned from the first prediction at or above the threshold.
The chosen thresholds and the recall and lead time they buy are stored with the model (its summary JSON).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime

import numpy as np
from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.models import RiskModelRecord, TrackingEvent
from app.risk.model_store import risk_settings
from carriers.model import Reason, Status
from planning.prediction import HistoryRecord, RiskModel, RiskSettings, ScanEvent, train
from planning.prediction.in_flight import replay
from planning.prediction.reasons import has_evidence

SUMMARY_KEY = "warning_policy"
QUEUE_KEY = "queue_policy"
CANDIDATES = tuple(round(0.05 + 0.01 * i, 2) for i in range(95))  # 0.05 … 0.99
# Customers are told "late" only when the model itself says late is likelier than not: the ETA in the
# message then lies after the promised day (p_late and the ETA agree), never before it.
WARN_FLOOR = 0.5
HOLDOUT_SHARE = 0.25
# Back on track only once p_late is well below the warning threshold, so a parcel near it does not flap.
CLEAR_FACTOR = 0.5
WILSON_Z = 1.2816  # one-sided 90 %
_CACHE_KEY = "leveranse_warning_policy"


@dataclass(frozen=True)
class WarningTrack:
    """One past parcel as the policy replays it: p_late at each moment before its promise ended."""

    moments: tuple[datetime, ...]
    p_late: tuple[float, ...]
    deadline: datetime  # the end of the promised day
    was_late: bool


@dataclass(frozen=True)
class WarningPolicy:
    """The threshold customers are warned from, and what it bought on the history it was chosen on."""

    threshold: float
    target_precision: float
    source: str  # "history" (our deliveries), "generated" (the demo's history) or "calibration" (none)
    met_target: bool = True
    precision: float | None = None
    recall: float | None = None
    median_lead_days: float | None = None
    warned: int = 0
    late: int = 0
    shipments: int = 0

    @property
    def clear_below(self) -> float:
        """p_late under which a warned parcel is back on track (hysteresis)."""
        return round(self.threshold * CLEAR_FACTOR, 4)

    def to_summary(self) -> dict:
        """The JSON stored in RiskModelRecord.summary[SUMMARY_KEY]."""
        return asdict(self)


def _was_late(record: HistoryRecord) -> bool:
    return record.delivered_at is None or record.delivered_at >= record.shipment.promise_end


def precision_lower_bound(precision: float, n: int, z: float = WILSON_Z) -> float:
    """The lower end of the Wilson score interval of a share `precision` seen on `n` cases."""
    centre = precision + z * z / (2 * n)
    spread = z * math.sqrt(precision * (1 - precision) / n + z * z / (4 * n * n))
    return (centre - spread) / (1 + z * z / n)


def warning_tracks(
    model: RiskModel, records: Sequence[HistoryRecord], events: Sequence[ScanEvent]
) -> list[WarningTrack]:
    """Replay `records` through `model`: p_late at handoff, after each scan and every STEP, up to the
    end of the promised day in the destination's zone or delivery, whichever is first.

    A moment at which the parcel could not be flagged at any threshold (below even odds with nothing about
    the parcel itself to show: planning/prediction/reasons.judge) counts as p_late 0.
    """
    played = replay(records, events)
    per_record: dict[int, list[tuple[datetime, float]]] = defaultdict(list)
    for i, snapshot, prediction in zip(
        played.owners.tolist(), played.snapshots, model.predict_many(played.snapshots), strict=True
    ):
        flaggable = prediction.p_late >= 0.5 or has_evidence(prediction.details)
        per_record[i].append((snapshot.now, prediction.p_late if flaggable else 0.0))
    return [
        WarningTrack(
            moments=tuple(at for at, _ in per_record[i]),
            p_late=tuple(p for _, p in per_record[i]),
            deadline=record.shipment.promise_end,
            was_late=_was_late(record),
        )
        for i, record in enumerate(records)
        if per_record[i]
    ]


def evaluate_threshold(tracks: Sequence[WarningTrack], threshold: float) -> dict:
    """Warned parcels, their precision, the recall of late ones and the median lead time (days before the
    promise ended that a late parcel's customer was first warned)."""
    warned = late_warned = 0
    leads = []
    for track in tracks:
        first = next((at for at, p in zip(track.moments, track.p_late, strict=True) if p >= threshold), None)
        if first is None:
            continue
        warned += 1
        if track.was_late:
            late_warned += 1
            leads.append((track.deadline - first).total_seconds() / 86400)
    late = sum(t.was_late for t in tracks)
    return {
        "warned": warned,
        "late": late,
        "precision": round(late_warned / warned, 4) if warned else None,
        "recall": round(late_warned / late, 4) if late else None,
        "median_lead_days": round(float(np.median(leads)), 2) if leads else None,
    }


def choose_policy(
    tracks: Sequence[WarningTrack],
    *,
    target_precision: float,
    min_warnings: int,
    source: str,
    floor: float = CANDIDATES[0],
) -> WarningPolicy | None:
    """The lowest threshold (from `floor`) with at least `min_warnings` warnings whose precision meets the target with
    confidence: the lower bound of its 90 % Wilson interval, over all warnings at or above the threshold
    (so neither one noisy bin nor a lucky small sample decides).

    When no threshold reaches the target, the most precise one (`met_target` False); None when no
    threshold gives `min_warnings` warnings.
    """
    judged = [(t, evaluate_threshold(tracks, t)) for t in CANDIDATES if t >= floor]
    judged = [(t, figures) for t, figures in judged if figures["warned"] >= min_warnings]
    if not judged:
        return None
    chosen = next(
        ((t, f) for t, f in judged if precision_lower_bound(f["precision"], f["warned"]) >= target_precision),
        None,
    )
    met = chosen is not None
    threshold, figures = chosen or max(judged, key=lambda item: (item[1]["precision"], -item[0]))
    return WarningPolicy(
        threshold=threshold,
        target_precision=target_precision,
        source=source,
        met_target=met,
        shipments=len(tracks),
        **figures,
    )


def holdout_tracks(
    records: Sequence[HistoryRecord], events: Sequence[ScanEvent], settings: RiskSettings
) -> list[WarningTrack]:
    """The newest HOLDOUT_SHARE of `records` replayed through a model trained on the older rest."""
    ordered = sorted(records, key=lambda r: r.shipment.shipped_at)
    cut = int(len(ordered) * (1 - HOLDOUT_SHARE))
    if cut == 0 or cut == len(ordered):
        return []
    split = ordered[cut].shipment.shipped_at
    train_recs, test = ordered[:cut], ordered[cut:]
    model = train(
        train_recs, settings=settings, now=split, events=[e for e in events if e.occurred_at < split]
    )
    data_end = max(r.delivered_at or r.shipment.promise_end for r in ordered)
    return warning_tracks(model.with_outcomes(test, data_end), test, events)


@dataclass(frozen=True)
class Policies:
    """The customer-warning and the staff-queue thresholds chosen on one replayed history."""

    warning: WarningPolicy | None
    queue: WarningPolicy | None

    def summary(self, summary: dict | None) -> dict | None:
        """A model summary that also carries both policies."""
        out = with_policy(summary, self.warning)
        if self.queue is not None:
            out = {**(out or {}), QUEUE_KEY: self.queue.to_summary()}
        return out

    def settle(self, model: RiskModel) -> RiskModel:
        """`model` with its at-risk threshold set from the queue policy (when it met its target)."""
        if self.queue is None or not self.queue.met_target:
            return model
        return replace(model, settings=replace(model.settings, at_risk_p_late=self.queue.threshold))


def choose_policies(
    records: Sequence[HistoryRecord], events: Sequence[ScanEvent], settings: RiskSettings, *, source: str
) -> Policies:
    """Both thresholds, from one replay of the history's newest part."""
    tracks = holdout_tracks(records, events, settings)
    config = current_app.config
    minimum = config["RISK_WARN_MIN_WARNINGS"]
    return Policies(
        warning=choose_policy(
            tracks,
            target_precision=config["RISK_WARN_PRECISION"],
            min_warnings=minimum,
            source=source,
            floor=WARN_FLOOR,
        ),
        queue=choose_policy(
            tracks, target_precision=config["RISK_QUEUE_PRECISION"], min_warnings=minimum, source=source
        ),
    )


def scan_events(shipment_ids: Sequence[int], chunk: int = 5000) -> list[ScanEvent]:
    """Our stored scans of these shipments, as the prediction reads them."""
    found = []
    for start in range(0, len(shipment_ids), chunk):
        rows = db.session.execute(
            select(
                TrackingEvent.shipment_id,
                TrackingEvent.occurred_at,
                TrackingEvent.status,
                TrackingEvent.reason,
            ).where(
                TrackingEvent.shipment_id.in_(shipment_ids[start : start + chunk]),
                TrackingEvent.informational.is_(False),
                TrackingEvent.status != Status.UNKNOWN.value,
            )
        )
        found += [
            ScanEvent(str(sid), at, Status(status), Reason(reason) if reason else None)
            for sid, at, status, reason in rows
        ]
    return found


def policies_for_history(records: Sequence[HistoryRecord], events: Sequence[ScanEvent]) -> Policies:
    """The policies chosen on our own delivered shipments; when they give too few warnings to judge, those
    stored with the newest model that has them (the demo's generated history, or an earlier run)."""
    chosen = choose_policies(records, events, risk_settings(), source="history")
    summaries = list(db.session.scalars(select(RiskModelRecord.summary).order_by(RiskModelRecord.id.desc())))
    return Policies(
        warning=chosen.warning or next(filter(None, map(stored_policy, summaries)), None),
        queue=chosen.queue or next(filter(None, (stored_policy(s, QUEUE_KEY) for s in summaries)), None),
    )


def with_policy(summary: dict | None, policy: WarningPolicy | None) -> dict | None:
    """A model summary that also carries `policy`."""
    if policy is None:
        return summary
    return {**(summary or {}), SUMMARY_KEY: policy.to_summary()}


def stored_policy(summary: dict | None, key: str = SUMMARY_KEY) -> WarningPolicy | None:
    """The (customer-warning, or with QUEUE_KEY the staff-queue) policy stored in a model's summary."""
    data = (summary or {}).get(key)
    return WarningPolicy(**data) if data else None


def current_policy() -> WarningPolicy:
    """The policy stored with the newest model (cached per model); without one, trust calibration: warn
    from p_late = the target precision."""
    latest = db.session.execute(
        select(RiskModelRecord.id, RiskModelRecord.trained_at).order_by(RiskModelRecord.id.desc()).limit(1)
    ).first()
    target = current_app.config["RISK_WARN_PRECISION"]
    key = (tuple(latest) if latest else None, target)
    cached = current_app.extensions.get(_CACHE_KEY)
    if cached is not None and cached[0] == key:
        return cached[1]
    policy = stored_policy(db.session.get(RiskModelRecord, latest[0]).summary) if latest else None
    if policy is None or policy.target_precision != target:
        policy = WarningPolicy(threshold=target, target_precision=target, source="calibration")
    current_app.extensions[_CACHE_KEY] = (key, policy)
    return policy
