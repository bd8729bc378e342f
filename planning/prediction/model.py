"""The risk model: ETA distribution, p_late, p_lost, risk state and reasons for in-flight shipments."""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

import numpy as np
import sklearn
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from carriers.model import Reason, Status
from planning.prediction.data import (
    ARRIVED,
    EXCEPTION_SIGNAL,
    HistoryRecord,
    RiskSettings,
    RiskState,
    Snapshot,
)
from planning.prediction.distribution import (
    UNIT_Z,
    cdf,
    conditional_quantile,
    quantile,
    survival_ratio,
)
from planning.prediction.drift import (
    CHECK_LEVELS,
    COVER_LEVELS,
    Checks,
    checks_of,
    levels_for,
    no_checks,
    recent_shares,
    recent_shift,
)
from planning.prediction.features import (
    DAY_S,
    ShipmentArrays,
    business_gap,
    clock_to_epoch,
    day_fraction,
    encode_shipments,
    epoch,
    transit_clock,
)
from planning.prediction.in_flight import InFlightCalibration
from planning.prediction.lanes import (
    GAP,
    HOUR_P10,
    HOUR_P90,
    LATE,
    LEVELS,
    LOST,
    TRANSIT,
    LaneTable,
    Level,
)
from planning.prediction.reasons import (
    CARRIER_DAMAGED,
    CARRIER_LOST,
    REFUSED,
    RiskReason,
    RowFacts,
    judge,
)
from planning.prediction.recent import LEVELS as RECENT_LEVELS
from planning.prediction.recent import (
    Outcomes,
    RecentFigures,
    outcomes_from,
    recent_figures,
)

# 4: the pickled classes moved into the planning.prediction package (their module paths changed).
# 5: deadlines at the end of the promised day in the destination's zone; states for returns and arrivals.
# 6: p_late on the way from an in-flight calibration fitted on replayed history.
FORMAT_VERSION = 7
MAGIC = b"LEVERANSE-RISK"
DELAY_SIGNALS = frozenset(
    {Reason.CARRIER_DELAY, Reason.CUSTOMS, Reason.WEATHER, Reason.HELD, EXCEPTION_SIGNAL}
)
# When a parcel is already past its whole distribution, the ETA still lies ahead of now (business days).
MIN_AHEAD = (0.05, 0.25, 1.0)
# A parcel past its lane's whole transit distribution is still more often late than lost.
LATE_NOT_LOST = 0.05
# Statuses after which the parcel will not be delivered: the state they leave the delay model for.
LEFT_BY_STATUS = {
    Status.RETURNING: RiskState.RETURNING,
    Status.RETURNED: RiskState.CLAIM_CANDIDATE,
    Status.EXPIRED: RiskState.CLAIM_CANDIDATE,
    Status.CANCELLED: RiskState.CANCELLED,
}
# The ETA median keeps to its side of the deadline by at least this much (seconds).
DEADLINE_MARGIN_S = 60.0
# Columns the boosted models treat as categories (codes from the model's vocabulary).
CATEGORICAL = ("carrier", "service", "origin_region", "dest_region")


STATES = tuple(RiskState)  # by the codes _finish selects
LEVEL_OF = (*LEVELS, Level.PRIOR)  # by the index a lane-table lookup returns


class ModelFormatError(ValueError):
    """Stored model bytes are not a model this code can load (wrong format or library version)."""


@dataclass(frozen=True)
class Prediction:
    """The prediction for one shipment at `computed_at`."""

    shipment_id: str
    eta_p10: datetime
    eta_p50: datetime
    eta_p90: datetime
    window: tuple[datetime, datetime] | None  # time window on the expected day, once that day has come
    p_late: float
    p_lost: float
    risk_state: RiskState
    details: tuple[RiskReason, ...]
    fallback_level: Level
    computed_at: datetime
    model_version: str

    @property
    def eta_dates(self) -> tuple[date, date, date]:
        """The p10 / p50 / p90 arrival dates (UTC)."""
        return self.eta_p10.date(), self.eta_p50.date(), self.eta_p90.date()

    @property
    def reasons(self) -> tuple[str, ...]:
        """The reasons as English sentences."""
        return tuple(r.text for r in self.details)


@dataclass(frozen=True)
class Handoff:
    """Figures for shipments at the moment of handoff."""

    stats: np.ndarray
    level: np.ndarray
    q: np.ndarray  # quantile grids of log1p(transit business days)
    p_late: np.ndarray
    recent: RecentFigures
    features: np.ndarray | None
    shift: np.ndarray  # recent drift added to the ETA grid (log1p business days, N×grid)
    scores: np.ndarray  # N×2 p_late before calibration: the model's, and the lane table's (drift applied)


def spread_of(stats: np.ndarray) -> np.ndarray:
    """Each row's lane spread (q90 − q10 of log1p transit), floored so residuals stay finite."""
    q, n = stats[:, TRANSIT], len(stats)
    return np.maximum(quantile(q, np.full(n, 0.9)) - quantile(q, np.full(n, 0.1)), 0.05)


def one_core(settings: RiskSettings) -> threadpool_limits:
    """Limit the boosted models' OpenMP threads (a busy shared worker only slows down with more)."""
    return threadpool_limits(limits=settings.threads, user_api="openmp")


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


@dataclass(frozen=True)
class LogitCalibration:
    """Platt scaling on log-odds, stacked: the model's score and the lane's own odds of missing the promise.

    Fitted on the most recent slice (unseen by the boosted model), it sets the level and sharpness of
    p_late and how far to trust the lane table over the boosted model, and keeps the ranking smooth.
    """

    weights: tuple[float, ...]
    intercept: float

    @classmethod
    def fit(cls, scores: np.ndarray, late: np.ndarray) -> LogitCalibration:
        """Fit on N×k probabilities and known outcomes (NaN outcomes are skipped)."""
        known = ~np.isnan(late)
        fitted = LogisticRegression(C=1e4).fit(_logit(scores[known]), late[known].astype(int))
        return cls(tuple(float(w) for w in fitted.coef_[0]), float(fitted.intercept_[0]))

    def predict(self, scores: np.ndarray) -> np.ndarray:
        """Calibrated probabilities for N×k scores."""
        return _sigmoid(_logit(scores) @ np.array(self.weights) + self.intercept)


@dataclass
class RiskModel:
    """A trained (or prior) risk model; serialise with `to_bytes`, never mutate after training."""

    settings: RiskSettings
    trained_at: datetime
    n_train: int
    lanes: LaneTable
    recent: Outcomes
    checks: Checks = field(default_factory=lambda: no_checks(len(CHECK_LEVELS)))  # drift checks
    cover: Checks = field(default_factory=lambda: no_checks(len(COVER_LEVELS)))  # dated ETA checks
    vocab: dict[str, dict[str, int]] = field(default_factory=dict)
    eta_model: HistGradientBoostingRegressor | None = None
    residual_z: np.ndarray = field(default_factory=lambda: UNIT_Z.copy())
    late_model: HistGradientBoostingClassifier | None = None
    calibrator: LogitCalibration | None = None
    in_flight: InFlightCalibration | None = None  # p_late on the way, from replayed history
    cover_curve: np.ndarray = field(default_factory=COVER_LEVELS.copy)  # share covered by each level's date
    model_version: str = "prior"

    # -- serialisation -------------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """Versioned bytes to store in the database or the instance folder."""
        header = f"{FORMAT_VERSION}:{sklearn.__version__}\n".encode()
        return MAGIC + header + pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL)

    @classmethod
    def from_bytes(cls, blob: bytes) -> RiskModel:
        """Load bytes from `to_bytes`; raises ModelFormatError for another format or scikit-learn version."""
        if not blob.startswith(MAGIC) or b"\n" not in blob:
            raise ModelFormatError("not a Leveranse risk model")
        header, body = blob[len(MAGIC) :].split(b"\n", 1)
        expected = f"{FORMAT_VERSION}:{sklearn.__version__}".encode()
        if header != expected:
            raise ModelFormatError(
                f"model format {header.decode(errors='replace')}, this code reads {expected.decode()}"
            )
        model = pickle.loads(body)  # only our own header-checked bytes reach here
        if not isinstance(model, cls):
            raise ModelFormatError("payload is not a RiskModel")
        return model

    # -- handoff figures -----------------------------------------------------------------------------

    def _matrix(
        self, arrays: ShipmentArrays, stats: np.ndarray, level: np.ndarray, lane_n: np.ndarray, recent
    ) -> np.ndarray:
        qh = stats[:, TRANSIT]
        n = len(arrays)
        handoff_day = np.floor(arrays.shipped_ts / DAY_S)
        shipped = arrays.shipped_ts
        q50 = quantile(qh, np.full(n, 0.5))
        columns = [
            *(
                np.array([self.vocab[name].get(v, np.nan) for v in getattr(arrays, name)], dtype=float)
                for name in CATEGORICAL
            ),
            arrays.international.astype(float),
            arrays.distance_km,
            np.mod(handoff_day + 3, 7),  # weekday, Monday = 0
            day_fraction(shipped) * 24,
            arrays.start_day.astype(np.int64) - handoff_day,
            arrays.deadline_y,
            arrays.deadline_y - np.expm1(q50),  # slack against the lane's usual transit
            (arrays.promised_day.astype(np.int64) - arrays.start_day.astype(np.int64)).astype(float),
            (arrays.promised_day.astype(np.int64) - np.floor(arrays.ordered_ts / DAY_S)),  # promise length
            (shipped - arrays.ordered_ts) / DAY_S,  # handling: order to handoff
            q50,
            quantile(qh, np.full(n, 0.9)) - quantile(qh, np.full(n, 0.1)),
            stats[:, LATE],
            stats[:, LOST],
            np.log1p(lane_n),
            level.astype(float),
            *(recent.late_rate[k] for k in RECENT_LEVELS),
            *(recent.slow_share[k] for k in RECENT_LEVELS),
            *(recent.drift[k] for k in RECENT_LEVELS),
            survival_ratio(qh, arrays.deadline_log, np.zeros(n)),
        ]
        return np.column_stack(columns)

    def _handoff(
        self,
        arrays: ShipmentArrays,
        lanes: LaneTable,
        ref: Outcomes,
        asof_ts: np.ndarray,
        *,
        checks: Checks | None = None,
        shift_ts: np.ndarray | None = None,
        final: bool = True,
    ) -> Handoff:
        """Figures at handoff; with `checks`, moved by the drift they show at `shift_ts` (or handoff)."""
        stats, level, lane_n = lanes.lookup(arrays.lane_keys())
        recent = recent_figures(
            ref, arrays.group_codes, asof_ts, stats[:, LATE], self.settings.recent_half_life_days
        )
        features = self._matrix(arrays, stats, level, lane_n, recent) if self.vocab else None
        q = stats[:, TRANSIT]
        if self.eta_model is not None and features is not None:
            q = (
                self.eta_model.predict(features)[:, None]
                + spread_of(stats)[:, None] * self.residual_z[None, :]
            )
        shift = np.zeros(q.shape)
        if checks is not None and self.settings.track_drift:
            shift = self.drift(checks, arrays, stats, asof_ts if shift_ts is None else shift_ts)
        zero = np.zeros(len(arrays))
        lane = survival_ratio(stats[:, TRANSIT] + shift, arrays.deadline_log, zero)
        if self.late_model is not None and features is not None:
            p = self.late_model.predict_proba(self.late_features(arrays, features, q, shift))[:, 1]
        else:
            p = survival_ratio(q + shift, arrays.deadline_log, zero)
        scores = np.column_stack([p, lane])
        if final and self.calibrator is not None:
            p = self.calibrator.predict(scores)
        return Handoff(stats, level, q + shift, p, recent, features, shift, scores)

    def drift(self, checks: Checks, arrays: ShipmentArrays, stats: np.ndarray, ts: np.ndarray) -> np.ndarray:
        """The move (log1p business days, N×grid) of each row's ETA grid that the checks known at `ts` show."""
        z = self.residual_z
        shift, stretch = recent_shift(checks, arrays.group_codes, ts, self.settings.drift_half_life_days, z)
        return spread_of(stats)[:, None] * (shift[:, None] + (stretch[:, None] - 1) * z[None, :])

    @staticmethod
    def late_features(
        arrays: ShipmentArrays, features: np.ndarray, q: np.ndarray, shift: np.ndarray
    ) -> np.ndarray:
        """The p_late classifier's inputs: handoff features, the drift, and the promise odds it moves."""
        zero = np.zeros(len(arrays))
        before = survival_ratio(q, arrays.deadline_log, zero)
        after = survival_ratio(q + shift, arrays.deadline_log, zero)
        middle = shift[:, shift.shape[1] // 2]
        return np.column_stack([features, middle, after - before, after])

    def handoff(self, arrays: ShipmentArrays, now_ts: np.ndarray | None = None) -> Handoff:
        """Handoff figures with the model's own lane table from outcomes known at each handoff.

        The drift correction uses the checks known at `now_ts` (default: the handoff): time passing
        with parcels still on their way is itself evidence.
        """
        return self._handoff(
            arrays, self.lanes, self.recent, arrays.shipped_ts, checks=self.checks, shift_ts=now_ts
        )

    def with_outcomes(self, records: Sequence[HistoryRecord], now: datetime) -> RiskModel:
        """A copy that also knows the outcomes of `records` known at `now` (fresh recent performance).

        Pass the shipments of the last few weeks; predictions only use outcomes known before each handoff.
        """
        if not records:
            return self
        arrays = encode_shipments([r.shipment for r in records], self.settings)
        delivered_ts = epoch([r.delivered_at for r in records])
        delivered_ts[delivered_ts > now.timestamp()] = np.nan
        ok = ~np.isnan(delivered_ts)
        log_y = np.full(len(records), np.nan)
        log_y[ok] = np.log1p(transit_clock(arrays.select(np.flatnonzero(ok)), delivered_ts[ok]))
        known = outcomes_from(arrays, delivered_ts, log_y, self.lanes, now.timestamp())
        model = replace(self, recent=Outcomes.concat([self.recent, known]))
        return model.with_checks(arrays, self.lanes, model.recent, delivered_ts, now.timestamp())

    def with_checks(
        self, arrays: ShipmentArrays, lanes: LaneTable, ref: Outcomes, delivered_ts: np.ndarray, now_ts: float
    ) -> RiskModel:
        """A copy that also holds the drift and dated ETA checks of these shipments known at `now_ts`."""
        if not self.settings.track_drift:
            return self
        h = self._handoff(arrays, lanes, ref, arrays.shipped_ts, final=False)
        fresh = checks_of(arrays, h.q, delivered_ts, now_ts, CHECK_LEVELS, dated=False)
        checks = Checks.concat([self.checks, fresh])
        given = h.q + self.drift(checks, arrays, h.stats, arrays.shipped_ts)
        dated = checks_of(arrays, given, delivered_ts, now_ts, COVER_LEVELS, dated=True)
        return replace(self, checks=checks, cover=Checks.concat([self.cover, dated]))

    def eta_levels(self, arrays: ShipmentArrays, now_ts: np.ndarray) -> np.ndarray:
        """Per row, the grid levels for p10 / p50 / p90: the outer ones those whose dates recently covered
        10 and 90 % of parcels, the middle one the median (the whole-day ETA closest to most deliveries).
        """
        shares = np.tile(self.cover_curve, (len(arrays), 1))
        if self.settings.track_drift:
            half_life = self.settings.drift_half_life_days
            shares = recent_shares(self.cover, arrays.group_codes, now_ts, half_life, self.cover_curve)[0]
        outer = levels_for(shares, (0.1, self.settings.p90_aim))
        return np.column_stack([outer[:, 0], np.full(len(arrays), 0.5), outer[:, 1]])

    # -- prediction ----------------------------------------------------------------------------------

    def predict(self, snapshot: Snapshot) -> Prediction:
        """Predict one in-flight shipment."""
        return self.predict_many([snapshot])[0]

    def predict_many(self, snapshots: Sequence[Snapshot]) -> list[Prediction]:
        """Predict many in-flight shipments at once (vectorised)."""
        if not snapshots:
            return []
        return self.predict_with_position(snapshots)[0]

    def predict_with_position(
        self, snapshots: Sequence[Snapshot]
    ) -> tuple[list[Prediction], np.ndarray, np.ndarray]:
        """Predictions, each parcel's position on its way (the in-flight calibration's inputs), and
        which rows are still moving (not out for delivery, arrived, returned or past their promise)."""
        s = self.settings
        arrays = encode_shipments([x.shipment for x in snapshots], s)
        now_ts = epoch([x.now for x in snapshots])
        with one_core(s):
            h = self.handoff(arrays, now_ts)
        n = len(snapshots)
        last_ts = np.array(
            [x.now.timestamp() if x.last_event_at is None else x.last_event_at.timestamp() for x in snapshots]
        )
        scanned = np.array([x.last_event_at is not None for x in snapshots])
        status = [x.status for x in snapshots]
        past = now_ts >= arrays.promise_end_ts
        elapsed = transit_clock(arrays, now_ts)
        last_elapsed = np.where(scanned, transit_clock(arrays, last_ts), 0.0)
        # On the van today; a van scan from an earlier day that was never followed up is just silence.
        out_for_delivery = np.array([st is Status.OUT_FOR_DELIVERY for st in status]) & (
            np.floor(last_elapsed) == np.floor(elapsed)
        )
        # Silence since the last scan, or since handoff for a parcel the carrier has not scanned yet.
        dwell = business_gap(
            arrays, np.where(scanned, last_ts, np.minimum(arrays.shipped_ts, now_ts)), now_ts
        )
        e_log, d_log = np.log1p(elapsed), arrays.deadline_log

        q = h.q.copy()
        ahead = np.tile(MIN_AHEAD, (n, 1))
        # Out for delivery: the rest of today within the carrier's usual delivery hours, and before the
        # promise ends when that is today.
        if out_for_delivery.any():
            rows = out_for_delivery
            day0 = np.floor(elapsed[rows])
            hours = h.stats[rows][:, [HOUR_P10, HOUR_P90]]
            start = np.maximum(elapsed[rows], day0 + hours[:, 0])
            end = np.maximum(day0 + hours[:, 1], start + 1 / 24)
            deadline = arrays.deadline_y[rows]
            end = np.where(past[rows], end, np.minimum(end, deadline - DEADLINE_MARGIN_S / DAY_S))
            # A promise ending before the transit clock starts (handed over after the cut-off on the last
            # business day before it) leaves no window: the van's run ends now, never before.
            end = np.maximum(end, elapsed[rows])
            start = np.minimum(start, end)
            steps = np.linspace(0, 1, q.shape[1])[None, :]
            q[rows] = np.log1p(start[:, None] + (end - start)[:, None] * steps)
            ahead[rows] = 0.0
        levels = self.eta_levels(arrays, now_ts)
        eta_y = np.column_stack(
            [
                np.maximum(np.expm1(conditional_quantile(q, levels[:, k], e_log)), elapsed + ahead[:, k])
                for k in range(3)
            ]
        )
        eta_ts = clock_to_epoch(arrays, eta_y)

        # p_late: the handoff odds, moved by what time has told since, and by the carrier's signals.
        base = survival_ratio(q, d_log, np.zeros(n))
        now_ratio = survival_ratio(q, d_log, e_log)
        signal_count = np.array(
            [len(x.signals & DELAY_SIGNALS) + (x.status is Status.FAILED_ATTEMPT) for x in snapshots]
        )
        at_customs = np.array([Reason.CUSTOMS.value in x.signals for x in snapshots], dtype=float)
        normal_gap = np.maximum(h.stats[:, GAP], 0.25)
        stuck = dwell > np.maximum(s.stuck_dwell_factor * normal_gap, s.stuck_min_business_days)
        log_odds = (
            _logit(h.p_late) + _logit(now_ratio) - _logit(base) + s.signal_log_odds * (signal_count + stuck)
        )
        position = np.column_stack(  # in_flight.COLUMNS
            [
                np.clip(log_odds, -12, 12),
                arrays.deadline_y - elapsed,
                elapsed,
                elapsed - np.floor(elapsed),
                dwell,
                signal_count - at_customs,
                at_customs,
                stuck,
            ]
        )
        moving = (
            ~out_for_delivery
            & ~past
            & np.array([x.status not in ARRIVED and _left_state(x) is None for x in snapshots])
        )
        p_late = 1 / (1 + np.exp(-log_odds))
        if self.in_flight is not None and moving.any():
            p_late[moving] = self.in_flight.predict(position[moving])
        # "Late" is a fact, not a prediction: below certainty until the promised day is over.
        p_late = np.minimum(p_late, 0.9999)
        # Out for delivery: late only if the van brings it back, and on the promised day itself.
        promised_today = np.array(
            [x.now.astimezone(x.shipment.zone).date() == x.shipment.promised_date for x in snapshots]
        )
        miss = s.out_for_delivery_miss_p
        p_late = np.where(out_for_delivery, np.where(promised_today, miss, miss * miss), p_late)
        p_late = np.where(past, 1.0, p_late)

        # p_lost: prior loss rate against how unlikely the silence is for a parcel still moving.
        prior = np.clip(h.stats[:, LOST], 1e-5, 0.5)
        not_delivered = (1 - np.clip(cdf(q, e_log), 0, 0.999)) / (
            1 - np.clip(cdf(q, np.log1p(last_elapsed)), 0, 0.999)
        )
        # Silence is measured in units of the normal gap, but never less than a business day.
        unit = np.maximum(normal_gap, 1.0)
        silence = np.exp(-np.maximum(dwell - unit, 0) / (1.5 * unit))
        alive = np.clip(not_delivered, LATE_NOT_LOST, 1) * np.where(scanned, silence, 1.0)
        p_lost = prior / (prior + (1 - prior) * alive)

        predictions = self._finish(
            snapshots, arrays, h, eta_ts, p_late, p_lost, dwell, normal_gap, stuck, now_ts
        )
        return predictions, position, moving

    def _finish(
        self,
        snapshots: Sequence[Snapshot],
        arrays: ShipmentArrays,
        h: Handoff,
        eta_ts: np.ndarray,
        p_late: np.ndarray,
        p_lost: np.ndarray,
        dwell: np.ndarray,
        gap: np.ndarray,
        stuck: np.ndarray,
        now_ts: np.ndarray,
    ) -> list[Prediction]:
        """Arrivals, returns and carrier signals, risk states, reasons and the Prediction objects."""
        s = self.settings
        status = [x.status for x in snapshots]
        signals = [x.signals for x in snapshots]
        left = [_left_state(x) for x in snapshots]
        has_left = np.array([x is not None for x in left])
        # Arrival at the door or at the pickup point settles lateness: collecting later is not a delay.
        arrived_ts = np.array(
            [
                np.nan if st not in ARRIVED else (x.arrived_at or x.last_event_at or x.now).timestamp()
                for x, st in zip(snapshots, status, strict=True)
            ]
        )
        arrived = ~np.isnan(arrived_ts) & ~has_left
        end_ts = arrays.promise_end_ts
        arrived_late = arrived & (arrived_ts >= end_ts)
        p_late = np.select([has_left, arrived], [0.0, arrived_late.astype(float)], p_late)
        # A returning parcel can still be lost on its way back; the others are settled.
        settled = arrived | np.array([x in (RiskState.CLAIM_CANDIDATE, RiskState.CANCELLED) for x in left])
        p_lost = np.maximum(p_lost, [s.carrier_lost_p if CARRIER_LOST in g else 0.0 for g in signals])
        p_lost = np.maximum(p_lost, [s.carrier_damaged_p if CARRIER_DAMAGED in g else 0.0 for g in signals])
        p_lost = np.where(settled, 0.0, p_lost)
        eta_ts = np.where(arrived[:, None], arrived_ts[:, None], eta_ts)

        # p_late and the ETA agree: the median lies before the deadline exactly when p_late is below 0.5.
        p_late = np.round(p_late, 4)
        p_late = np.where(p_late == 0.5, 0.5001, p_late)
        p_lost = np.round(p_lost, 4)
        p50 = np.where(
            p_late < 0.5,
            np.minimum(eta_ts[:, 1], np.maximum(now_ts, end_ts - DEADLINE_MARGIN_S)),
            np.maximum(eta_ts[:, 1], end_ts + DEADLINE_MARGIN_S),
        )
        p50 = np.where(has_left, eta_ts[:, 1], p50)
        eta_ts = np.column_stack([np.minimum(eta_ts[:, 0], p50), p50, np.maximum(eta_ts[:, 2], p50)])

        past = now_ts >= end_ts
        code = {state: k for k, state in enumerate(STATES)}
        state = np.select(
            [
                has_left,
                arrived,
                p_lost >= s.lost_p_lost,
                past,
                stuck,
                p_late >= s.at_risk_p_late,
            ],
            [
                [code.get(x, 0) for x in left],
                np.where(arrived_late, code[RiskState.LATE], code[RiskState.ON_TRACK]),
                code[RiskState.LOST],
                code[RiskState.LATE],
                code[RiskState.STUCK],
                code[RiskState.AT_RISK],
            ],
            code[RiskState.ON_TRACK],
        )
        t10, t50, t90 = (eta_ts[:, k].tolist() for k in range(3))
        p_late_l, p_lost_l = p_late.tolist(), p_lost.tolist()
        levels = [LEVEL_OF[k] for k in h.level.tolist()]
        stamp = datetime.fromtimestamp
        out = []
        # Plain Python values for the per-row loop (numpy scalars are slow to index one by one).
        dwell_l, gap_l, usual_l = dwell.tolist(), gap.tolist(), h.stats[:, LATE].tolist()
        past_l, arrived_l, late_l = past.tolist(), arrived.tolist(), arrived_late.tolist()
        km_l = np.where(np.isnan(arrays.distance_km), -1.0, arrays.distance_km).tolist()
        recent_l = np.where(np.isnan(h.recent.raw_lane_late), -1.0, h.recent.raw_lane_late).tolist()
        for i, snap in enumerate(snapshots):
            info = snap.shipment
            risk = STATES[state[i]]
            e10, e50, e90 = stamp(t10[i], UTC), stamp(t50[i], UTC), stamp(t90[i], UTC)
            km = snap.km_remaining
            if km is None and km_l[i] >= 0 and status[i] in (Status.PENDING, Status.INFO_RECEIVED):
                km = km_l[i]
            silent = snap.last_event_at is not None or risk in (RiskState.STUCK, RiskState.LOST)
            facts = RowFacts(
                state=risk,
                status=status[i],
                signals=signals[i],
                today=snap.now.astimezone(info.zone).date(),
                promised=info.promised_date,
                past=past_l[i],
                eta_p50=e50.astimezone(info.zone).date(),
                arrived_late=late_l[i] if arrived_l[i] else None,
                p_late=p_late_l[i],
                scanned=snap.last_event_at is not None,
                dwell_business_days=dwell_l[i] if silent else 0.0,
                normal_gap_days=gap_l[i],
                km_to_go=km,
                recent_late_rate=None if recent_l[i] < 0 else recent_l[i],
                usual_late_rate=usual_l[i],
                recent_half_life_days=s.recent_half_life_days,
            )
            risk, details = judge(facts)
            out.append(
                Prediction(
                    shipment_id=info.shipment_id,
                    eta_p10=e10,
                    eta_p50=e50,
                    eta_p90=e90,
                    window=self._window(snap, h.stats[i], e50),
                    p_late=p_late_l[i],
                    p_lost=p_lost_l[i],
                    risk_state=risk,
                    details=details,
                    fallback_level=levels[i],
                    computed_at=snap.now,
                    model_version=self.model_version,
                )
            )
        return out

    @staticmethod
    def _window(snap: Snapshot, stats: np.ndarray, eta: datetime) -> tuple[datetime, datetime] | None:
        """The delivery window on the expected day, once that day has come (or the parcel is on the van)."""
        eta_day = eta.date()
        if eta_day != snap.now.date() and snap.status is not Status.OUT_FOR_DELIVERY:
            return None
        day = datetime.combine(eta_day, datetime.min.time(), UTC)
        start = max(day + timedelta(days=float(stats[HOUR_P10])), snap.now)
        end = max(day + timedelta(days=float(stats[HOUR_P90])), start + timedelta(hours=1))
        return start, end


def _left_state(snap: Snapshot) -> RiskState | None:
    """The state of a parcel that left the delay model (returns, refusals, cancellations), else None."""
    if snap.status is Status.EXCEPTION and REFUSED in snap.signals:
        return RiskState.RETURNING
    return LEFT_BY_STATUS.get(snap.status)
