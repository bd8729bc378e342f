"""Backtest: train before a split date, predict every later shipment at handoff (and at each scan)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from carriers.model import Status
from planning.prediction import RiskModel, RiskSettings, RiskState, train
from planning.prediction.data import HistoryRecord, ScanEvent, Snapshot, build_snapshot
from planning.prediction.features import encode_shipments
from planning.prediction.io import ParseReport, read_events_csv, read_history_csv

ECE_BINS = 10


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = ECE_BINS) -> float:
    """Weighted mean |observed − predicted| over equal-width probability bins."""
    which = np.minimum((p * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            total += mask.sum() * abs(y[mask].mean() - p[mask].mean())
    return total / max(len(y), 1)


def score(
    late: np.ndarray, p_late: np.ndarray, delivered: np.ndarray, p50: np.ndarray, p90: np.ndarray
) -> dict[str, float | None]:
    """AUC, Brier, ECE of p_late; ETA MAE and p90 coverage (days as int64 day numbers) on delivered rows."""
    has_both = 0 < late.sum() < len(late)
    d = ~np.isnan(delivered)
    return {
        "auc": round(float(roc_auc_score(late, p_late)), 4) if has_both else None,
        "brier": round(float(np.mean((p_late - late) ** 2)), 4) if len(late) else None,
        "ece": round(float(expected_calibration_error(late, p_late)), 4) if len(late) else None,
        "eta_mae_days": round(float(np.mean(np.abs(p50[d] - delivered[d]))), 3) if d.any() else None,
        "p90_coverage": round(float(np.mean(delivered[d] <= p90[d])), 4) if d.any() else None,
    }


def _day_numbers(values: list[date | None]) -> np.ndarray:
    return np.array([np.nan if v is None else float(v.toordinal()) for v in values])


def _promise_baseline(
    train_recs: list[HistoryRecord], test_recs: list[HistoryRecord], settings: RiskSettings
) -> tuple[np.ndarray, np.ndarray]:
    """The promised date as ETA, with the historical late rate of promises of the same length."""
    tr = encode_shipments([r.shipment for r in train_recs], settings)
    te = encode_shipments([r.shipment for r in test_recs], settings)
    late = np.array([_is_late(r) for r in train_recs], dtype=float)
    overall = float(np.nanmean(late)) if len(late) else 0.1
    rates: dict[int, list[float]] = defaultdict(list)
    for days, value in zip(np.clip(tr.deadline_y, 0, 20).astype(int), late, strict=True):
        rates[int(days)].append(value)
    table = {k: (sum(v) + 10 * overall) / (len(v) + 10) for k, v in rates.items()}
    p = np.array([table.get(int(k), overall) for k in np.clip(te.deadline_y, 0, 20)])
    return p, _day_numbers([r.shipment.promised_date for r in test_recs])


def _is_late(r: HistoryRecord) -> bool:
    return r.delivered_at is None or r.delivered_at.date() > r.shipment.promised_date


def _lead_times(
    model: RiskModel, test: list[HistoryRecord], late: np.ndarray, events: list[ScanEvent]
) -> dict[str, float | int | None]:
    """Predict at handoff and after each scan: when late parcels were first flagged, how often on-time."""
    by_id: dict[str, list[ScanEvent]] = defaultdict(list)
    for e in events:
        by_id[e.shipment_id].append(e)
    snaps: list[Snapshot] = []
    owner: list[int] = []
    for i, r in enumerate(test):
        mine = sorted(by_id.get(r.shipment.shipment_id, []), key=lambda e: e.occurred_at)
        moments = [r.shipment.shipped_at] + [e.occurred_at for e in mine if e.status is not Status.DELIVERED]
        for at in moments:
            snaps.append(build_snapshot(r.shipment, mine, max(at, r.shipment.shipped_at)))
            owner.append(i)
    first_flag: dict[int, date] = {}
    for i, pred, snap in zip(owner, model.predict_many(snaps), snaps, strict=True):
        if pred.risk_state is not RiskState.ON_TRACK and i not in first_flag:
            first_flag[i] = snap.now.date()
    late_ids = [i for i in range(len(test)) if late[i]]
    on_time = [i for i in range(len(test)) if not late[i]]
    leads = [(test[i].shipment.promised_date - first_flag[i]).days for i in late_ids if i in first_flag]
    return {
        "n_predictions": len(snaps),
        "late_shipments": len(late_ids),
        "late_flagged_share": round(len(leads) / len(late_ids), 4) if late_ids else None,
        "flagged_before_promise_share": round(sum(d >= 0 for d in leads) / len(late_ids), 4)
        if late_ids
        else None,
        "lead_time_days_median": float(np.median(leads)) if leads else None,
        "lead_time_days_mean": round(float(np.mean(leads)), 3) if leads else None,
        "false_alarm_rate": round(sum(i in first_flag for i in on_time) / len(on_time), 4)
        if on_time
        else None,
    }


def run_backtest(
    history_path: Path | str,
    split_date: date,
    events_path: Path | str | None = None,
    settings: RiskSettings | None = None,
    *,
    live_outcomes: bool = True,
) -> dict:
    """Train on shipments shipped before `split_date`, score later ones at handoff; figures as a dict.

    With `live_outcomes` the model's recent performance also learns, strictly as of each handoff, the
    outcomes of test shipments known by then (as the running service would); its parameters never do.
    Without it the model sees no outcome after the split date. The top-level figures are the chosen
    variant's; `variants` holds both side by side.
    """
    s = settings or RiskSettings()
    records, report = read_history_csv(history_path)
    events: list[ScanEvent] = []
    if events_path is not None:
        events, ev_report = read_events_csv(events_path)
        report.rows_skipped += ev_report.rows_skipped
        report.examples.extend(ev_report.examples[: max(0, 5 - len(report.examples))])
    split = datetime.combine(split_date, datetime.min.time(), UTC)
    stamps = [r.shipment.shipped_at for r in records] + [r.delivered_at for r in records if r.delivered_at]
    data_end = max(stamps, default=split)
    train_recs = [r for r in records if r.shipment.shipped_at < split]
    # A test parcel counts once its outcome is known by the end of the data.
    test = [
        r
        for r in records
        if r.shipment.shipped_at >= split
        and (r.delivered_at is not None or data_end.date() > r.shipment.promised_date)
    ]
    out: dict = {"split_date": split_date.isoformat(), "n_train": len(train_recs), "n_test": len(test)}
    if not train_recs or not test:
        return out | {"error": "need shipments on both sides of the split date"} | _skips(report)
    known = {_is_late(r) for r in train_recs if r.delivered_at or r.shipment.promised_date < split_date}
    if len(known) < 2:
        # Nothing to tell late from on time before the split: lane statistics only, uncalibrated.
        s = replace(s, use_gbm=False, calibrate=False)
        out["note"] = "training outcomes are all of one kind: lane statistics only, no calibration"
    train_events = [e for e in events if e.occurred_at < split]
    frozen = train(train_recs, settings=s, now=split, events=train_events)
    live = frozen.with_outcomes(test, data_end)
    model = live if live_outcomes else frozen
    late = np.array([_is_late(r) for r in test], dtype=float)
    delivered = _day_numbers([r.delivered_at.date() if r.delivered_at else None for r in test])
    handoff = [Snapshot(shipment=r.shipment, now=r.shipment.shipped_at) for r in test]

    def figures(m: RiskModel) -> dict:
        preds = m.predict_many(handoff)
        p = np.array([x.p_late for x in preds])
        p50 = _day_numbers([x.eta_p50.date() for x in preds])
        p90 = _day_numbers([x.eta_p90.date() for x in preds])
        return score(late, p, delivered, p50, p90)

    lane_median = replace(s, use_gbm=False, calibrate=False, track_drift=False, p90_aim=0.9)
    baseline_model = train(train_recs, settings=lane_median, now=split)
    out |= {
        "late_rate": round(float(late.mean()), 4),
        "model_version": model.model_version,
        "live_outcomes": live_outcomes,
    }
    variants = {"live_outcomes": figures(live), "frozen_outcomes": figures(frozen)}
    out |= variants["live_outcomes" if live_outcomes else "frozen_outcomes"]
    out["variants"] = variants
    p_promise, promised = _promise_baseline(train_recs, test, s)
    out["baselines"] = {
        "promise": score(late, p_promise, delivered, promised, promised),
        "lane_median": figures(baseline_model),
    }
    if events_path is not None:
        out["events"] = _lead_times(model, test, late, events)
    return out | _skips(report)


def _skips(report: ParseReport) -> dict:
    return {
        "rows_skipped": report.rows_skipped,
        "skipped_examples": report.examples,
        "duplicates_dropped": report.duplicates,
    }
