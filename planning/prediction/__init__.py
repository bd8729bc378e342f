"""Delivery prediction: train a risk model on the service's own history, or start from the prior."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

from planning.prediction.data import HistoryRecord, RiskSettings, ScanEvent, Snapshot, build_snapshot
from planning.prediction.distribution import empirical_grid, quantile
from planning.prediction.drift import CHECK_LEVELS, COVER_LEVELS, Checks, checks_of
from planning.prediction.features import (
    DAY_S,
    ShipmentArrays,
    business_gap,
    day_fraction,
    encode_shipments,
    epoch,
    transit_clock,
)
from planning.prediction.in_flight import InFlightCalibration, replay
from planning.prediction.lanes import GroupColumns, LaneTable, Level
from planning.prediction.model import (
    CATEGORICAL,
    FORMAT_VERSION,
    Handoff,
    LogitCalibration,
    ModelFormatError,
    Prediction,
    RiskModel,
    RiskState,
    one_core,
    spread_of,
)
from planning.prediction.reasons import RiskReason
from planning.prediction.recent import MEMORY_HALF_LIVES, Outcomes, no_outcomes, outcomes_from

__all__ = [
    "HistoryRecord",
    "Level",
    "ModelFormatError",
    "Prediction",
    "RiskModel",
    "RiskReason",
    "RiskSettings",
    "RiskState",
    "ScanEvent",
    "Snapshot",
    "build_snapshot",
    "default_model",
    "train",
]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_CATEGORIES = 250


def _table(settings: RiskSettings) -> LaneTable:
    return LaneTable(settings.shrinkage, settings.min_group_size, settings.prior_scan_gap_days)


def default_model(settings: RiskSettings | None = None) -> RiskModel:
    """The day-one model: global priors only (domestic vs international), no history needed."""
    return RiskModel(
        settings=settings or RiskSettings(),
        trained_at=EPOCH,
        n_train=0,
        lanes=_table(settings or RiskSettings()),
        recent=no_outcomes(),
    )


def _vocab(values: np.ndarray) -> dict[str, int]:
    return {v: i for i, (v, _) in enumerate(Counter(values.tolist()).most_common(MAX_CATEGORIES))}


def _scan_gaps(
    arrays: ShipmentArrays, ids: Sequence[str], events: Iterable[ScanEvent], now: datetime
) -> np.ndarray:
    """Per shipment, the mean business days between consecutive scans (NaN without two scans)."""
    row_of = {sid: i for i, sid in enumerate(ids)}
    times: dict[int, list[float]] = defaultdict(list)
    for e in events:
        row = row_of.get(e.shipment_id)
        if row is not None and e.occurred_at <= now:
            times[row].append(e.occurred_at.timestamp())
    rows, starts, ends = [], [], []
    for row, ts in times.items():
        ts.sort()
        for a, b in zip(ts, ts[1:], strict=False):
            rows.append(row)
            starts.append(a)
            ends.append(b)
    out = np.full(len(ids), np.nan)
    if not rows:
        return out
    rows_a = np.array(rows)
    gaps = business_gap(arrays.select(rows_a), np.array(starts), np.array(ends))
    count = np.bincount(rows_a, minlength=len(ids))
    total = np.bincount(rows_a, weights=gaps, minlength=len(ids))
    seen = count > 0
    out[seen] = total[seen] / count[seen]
    return out


def _cover_curve(q: np.ndarray, log_y: np.ndarray) -> np.ndarray:
    """The share of deliveries on or before the date of each cover level's quantile."""
    if len(log_y) < 50:
        return COVER_LEVELS.copy()
    day = np.floor(np.expm1(log_y))
    return np.array(
        [np.mean(day <= np.floor(np.expm1(quantile(q, np.full(len(q), c))))) for c in COVER_LEVELS]
    )


def train(
    records: Sequence[HistoryRecord],
    *,
    settings: RiskSettings | None = None,
    now: datetime,
    events: Iterable[ScanEvent] = (),
) -> RiskModel:
    """Learn a risk model from history known at `now` (later shipments and deliveries are ignored)."""
    s = settings or RiskSettings()
    events = [e for e in events if e.occurred_at <= now]
    recs = [r for r in records if r.shipment.shipped_at < now]
    if not recs:
        return default_model(s)
    arrays = encode_shipments([r.shipment for r in recs], s)
    now_ts = now.timestamp()
    delivered_ts = epoch(
        [r.delivered_at if r.delivered_at is not None and r.delivered_at <= now else None for r in recs]
    )
    delivered = ~np.isnan(delivered_ts)
    log_y = np.where(
        delivered,
        np.log1p(transit_clock(arrays, np.where(delivered, delivered_ts, arrays.shipped_ts))),
        np.nan,
    )
    # Late: delivered after the promised day ended where the parcel went (or still away once it has).
    late = np.where(
        delivered,
        delivered_ts >= arrays.promise_end_ts,
        np.where(now_ts >= arrays.promise_end_ts, 1.0, np.nan),
    )
    lost_known = arrays.shipped_ts < now_ts - s.lost_after_days * DAY_S
    cols = GroupColumns(
        log_transit=log_y,
        hour=np.where(delivered, day_fraction(delivered_ts), np.nan),
        late=late.astype(float),
        lost=np.where(delivered, 0.0, np.where(lost_known, 1.0, np.nan)),
        scan_gap=_scan_gaps(arrays, [r.shipment.shipment_id for r in recs], events, now),
    )
    chains = arrays.lane_keys()

    def table(rows: np.ndarray) -> LaneTable:
        return _table(s).fit([chains[i] for i in rows], cols.select(rows))

    full = table(np.arange(len(recs)))
    ref_all = outcomes_from(arrays, delivered_ts, log_y, full, now_ts)
    memory = MEMORY_HALF_LIVES * s.recent_half_life_days * DAY_S
    model = RiskModel(
        settings=s,
        trained_at=now,
        n_train=len(recs),
        lanes=full,
        recent=ref_all.since(now_ts - memory),
        model_version=f"risk-v{FORMAT_VERSION}-{now.astimezone(UTC):%Y%m%dT%H%M}-n{len(recs)}",
    )
    order = np.argsort(arrays.shipped_ts, kind="stable")
    n_cal = int(len(recs) * s.calibration_share) if s.calibrate else 0
    if n_cal < s.min_calibration_rows:
        n_cal = 0
    fit_rows, cal_rows = order[: len(order) - n_cal], order[len(order) - n_cal :]

    def handoff(rows: np.ndarray, lanes: LaneTable) -> Handoff:
        return model._handoff(arrays.select(rows), lanes, ref_all, arrays.shipped_ts[rows], final=False)

    drift_memory = MEMORY_HALF_LIVES * s.drift_half_life_days * DAY_S
    fit_table = table(fit_rows) if n_cal else full
    with one_core(s):
        checks = None
        if s.use_gbm and len(fit_rows) >= s.min_train_for_gbm:
            model.vocab = {name: _vocab(getattr(arrays, name)) for name in CATEGORICAL}
            # Out-of-fold lane statistics: the boosted models never see a row's own outcome in a feature.
            folds = np.array_split(np.random.default_rng(0).permutation(fit_rows), s.lane_folds)
            parts = [(mine, handoff(mine, table(np.setdiff1d(fit_rows, mine)))) for mine in folds]
            if n_cal:
                parts.append((cal_rows, handoff(cal_rows, fit_table)))
            feats = np.full((len(recs), parts[0][1].features.shape[1]), np.nan)
            stats = np.full((len(recs), parts[0][1].stats.shape[1]), np.nan)
            for mine, h in parts:
                feats[mine], stats[mine] = h.features, h.stats
            model.eta_model = _fit_eta(feats, log_y, fit_rows)
            # Residual spread on the most recent slice: the freshest picture of how wrong the median is.
            z_rows = cal_rows if n_cal else fit_rows
            d = z_rows[~np.isnan(log_y[z_rows])]
            model.residual_z = empirical_grid(
                (log_y[d] - model.eta_model.predict(feats[d])) / spread_of(stats[d])
            )
            q = (
                model.eta_model.predict(feats)[:, None]
                + spread_of(stats)[:, None] * model.residual_z[None, :]
            )
            shift = np.zeros(q.shape)
            if s.track_drift:
                checks = checks_of(arrays, q, delivered_ts, now_ts, CHECK_LEVELS, dated=False)
                shift = model.drift(checks, arrays, stats, arrays.shipped_ts)
            model.late_model = _fit_late(model.late_features(arrays, feats, q, shift), late, fit_rows)
        elif s.track_drift:
            start = arrays.shipped_ts[cal_rows].min() if n_cal else now_ts
            rows = np.flatnonzero(arrays.shipped_ts >= start - drift_memory)
            checks = _checks(model, arrays, rows, fit_table, ref_all, delivered_ts, now_ts)
        if n_cal:
            cal = arrays.select(cal_rows)
            h = model._handoff(cal, fit_table, ref_all, cal.shipped_ts, checks=checks, final=False)
            model.calibrator = LogitCalibration.fit(h.scores, late[cal_rows])
            d = ~np.isnan(log_y[cal_rows])
            model.cover_curve = _cover_curve(h.q[d], log_y[cal_rows][d])
        # The checks the model starts with: those that the drift of the last few weeks is read from.
        window = np.flatnonzero(arrays.shipped_ts >= now_ts - 2 * drift_memory)
        model = model.with_checks(arrays.select(window), full, ref_all, delivered_ts[window], now_ts)
        if n_cal and events:
            # Replayed with the lane table the calibration slice was not part of.
            unseen = replace(model, lanes=fit_table)
            model.in_flight = _fit_in_flight(unseen, [recs[i] for i in cal_rows], late[cal_rows], events, now)
    return model


def _fit_in_flight(
    model: RiskModel,
    records: Sequence[HistoryRecord],
    late: np.ndarray,
    events: Sequence[ScanEvent],
    now: datetime,
) -> InFlightCalibration | None:
    """The in-flight calibration from `records` replayed up to `now` with their known outcomes."""
    played = replay(records, events, until=now)
    if not played.snapshots:
        return None
    _, position, moving = model.predict_with_position(played.snapshots)
    return InFlightCalibration.fit(position[moving], late[played.owners][moving])


def _checks(
    model: RiskModel,
    arrays: ShipmentArrays,
    rows: np.ndarray,
    lanes: LaneTable,
    ref: Outcomes,
    delivered_ts: np.ndarray,
    now_ts: float,
) -> Checks:
    """The drift checks of `rows` against the model's own handoff ETAs (with the lane table `lanes`)."""
    part = arrays.select(rows)
    q = model._handoff(part, lanes, ref, part.shipped_ts, final=False).q
    return checks_of(part, q, delivered_ts[rows], now_ts, CHECK_LEVELS, dated=False)


def _without_empty_columns(feats: np.ndarray) -> np.ndarray:
    """`feats` with columns that are missing on every row (e.g. no coordinates in the whole history) set
    to 0: the boosted models cannot bin a column without a value, and a constant one is never split on."""
    empty = np.isnan(feats).all(axis=0)
    if not empty.any():
        return feats
    out = feats.copy()
    out[:, empty] = 0.0
    return out


def _fit_eta(feats: np.ndarray, log_y: np.ndarray, rows: np.ndarray) -> HistGradientBoostingRegressor:
    """The ETA median regressor on handoff features."""
    fit = rows[~np.isnan(log_y[rows])]
    return HistGradientBoostingRegressor(
        loss="absolute_error",
        categorical_features=list(range(len(CATEGORICAL))),
        max_iter=200,
        learning_rate=0.1,
        min_samples_leaf=40,
        early_stopping=True,
        random_state=0,
    ).fit(_without_empty_columns(feats[fit]), log_y[fit])


def _fit_late(feats: np.ndarray, late: np.ndarray, rows: np.ndarray) -> HistGradientBoostingClassifier:
    """The p_late classifier on handoff features plus the drift figures."""
    fit = rows[~np.isnan(late[rows])]
    return HistGradientBoostingClassifier(
        categorical_features=list(range(len(CATEGORICAL))),
        max_iter=300,
        learning_rate=0.06,
        min_samples_leaf=40,
        l2_regularization=1.0,
        early_stopping=True,
        random_state=0,
    ).fit(_without_empty_columns(feats[fit]), late[fit].astype(int))
