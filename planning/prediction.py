"""Delivery prediction: train a risk model on the service's own history, or start from the prior."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.isotonic import IsotonicRegression

from planning.prediction_data import HistoryRecord, RiskSettings, ScanEvent, Snapshot, build_snapshot
from planning.prediction_distribution import empirical_grid, quantile
from planning.prediction_features import (
    DAY_S,
    ShipmentArrays,
    business_gap,
    day_fraction,
    encode_shipments,
    epoch,
    to_day,
    transit_clock,
)
from planning.prediction_lanes import GroupColumns, LaneTable, Level
from planning.prediction_model import (
    CATEGORICAL,
    FORMAT_VERSION,
    Handoff,
    ModelFormatError,
    Prediction,
    RiskModel,
    RiskState,
    one_core,
    spread_of,
)
from planning.prediction_reasons import RiskReason
from planning.prediction_recent import MEMORY_HALF_LIVES, no_outcomes, outcomes_from

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


def _date_levels(q: np.ndarray, log_y: np.ndarray) -> tuple[float, float, float]:
    """Grid levels whose whole-day ETA dates cover closest to 10 % and 90 % of recent deliveries."""
    if len(log_y) < 50:
        return 0.1, 0.5, 0.9
    day = np.floor(np.expm1(log_y))
    candidates = np.round(np.arange(0.02, 0.99, 0.01), 2)
    cover = np.array(
        [np.mean(day <= np.floor(np.expm1(quantile(q, np.full(len(q), c))))) for c in candidates]
    )
    low = float(candidates[np.argmin(np.abs(cover - 0.1))])
    high = float(candidates[np.argmin(np.abs(cover - 0.9))])
    return low, 0.5, high


def train(
    records: Sequence[HistoryRecord],
    *,
    settings: RiskSettings | None = None,
    now: datetime,
    events: Iterable[ScanEvent] = (),
) -> RiskModel:
    """Learn a risk model from history known at `now` (later shipments and deliveries are ignored)."""
    s = settings or RiskSettings()
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
    now_day = np.datetime64(now.astimezone(UTC).date(), "D")
    late = np.where(
        delivered,
        to_day(delivered_ts) > arrays.promised_day,
        np.where(now_day > arrays.promised_day, 1.0, np.nan),
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

    with one_core(s):
        if s.use_gbm and len(fit_rows) >= s.min_train_for_gbm:
            model.vocab = {name: _vocab(getattr(arrays, name)) for name in CATEGORICAL}
            # Out-of-fold lane statistics: the boosted models never see a row's own outcome in a feature.
            halves = np.array_split(np.random.default_rng(0).permutation(fit_rows), 2)
            parts = [
                (mine, handoff(mine, table(other))) for mine, other in zip(halves, halves[::-1], strict=True)
            ]
            feats = np.full((len(recs), parts[0][1].features.shape[1]), np.nan)
            stats = np.full((len(recs), parts[0][1].stats.shape[1]), np.nan)
            for mine, h in parts:
                feats[mine], stats[mine] = h.features, h.stats
            _fit_boosted(model, feats, log_y, late, fit_rows)
            z_rows, z_feats, z_stats = fit_rows, feats[fit_rows], stats[fit_rows]
        fit_table = table(fit_rows) if n_cal else None
        if n_cal:
            h_cal = handoff(cal_rows, fit_table)
            if model.eta_model is not None:
                z_rows, z_feats, z_stats = cal_rows, h_cal.features, h_cal.stats
            model.calibrator = _isotonic(h_cal.p_late, late[cal_rows])
        if model.eta_model is not None:
            d = ~np.isnan(log_y[z_rows])
            z = (log_y[z_rows][d] - model.eta_model.predict(z_feats[d])) / spread_of(z_stats[d])
            model.residual_z = empirical_grid(z)
        if n_cal:
            cal_q = model._handoff(arrays.select(cal_rows), fit_table, ref_all, arrays.shipped_ts[cal_rows]).q
            d = ~np.isnan(log_y[cal_rows])
            model.eta_levels = _date_levels(cal_q[d], log_y[cal_rows][d])
    return model


def _isotonic(p: np.ndarray, late: np.ndarray) -> IsotonicRegression:
    known = ~np.isnan(late)
    return IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(p[known], late[known])


def _fit_boosted(
    model: RiskModel, feats: np.ndarray, log_y: np.ndarray, late: np.ndarray, rows: np.ndarray
) -> None:
    """The ETA median regressor and the p_late classifier on handoff features."""
    categorical = list(range(len(CATEGORICAL)))
    fit_d = rows[~np.isnan(log_y[rows])]
    model.eta_model = HistGradientBoostingRegressor(
        loss="absolute_error",
        categorical_features=categorical,
        max_iter=200,
        learning_rate=0.1,
        min_samples_leaf=40,
        early_stopping=True,
        random_state=0,
    ).fit(feats[fit_d], log_y[fit_d])
    fit_l = rows[~np.isnan(late[rows])]
    model.late_model = HistGradientBoostingClassifier(
        categorical_features=categorical,
        max_iter=300,
        learning_rate=0.06,
        min_samples_leaf=40,
        l2_regularization=1.0,
        early_stopping=True,
        random_state=0,
    ).fit(feats[fit_l], late[fit_l].astype(int))
