"""The risk model: ETA distribution, p_late, p_lost, risk state and reasons for in-flight shipments."""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

import numpy as np
import sklearn
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.isotonic import IsotonicRegression
from threadpoolctl import threadpool_limits

from carriers.model import Reason, Status
from planning.prediction_data import EXCEPTION_SIGNAL, HistoryRecord, RiskSettings, Snapshot
from planning.prediction_distribution import (
    UNIT_Z,
    cdf,
    conditional_quantile,
    quantile,
    survival_ratio,
)
from planning.prediction_features import (
    DAY_S,
    ShipmentArrays,
    business_gap,
    clock_to_epoch,
    day_fraction,
    encode_shipments,
    epoch,
    transit_clock,
)
from planning.prediction_lanes import (
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
from planning.prediction_reasons import RiskReason, RowFacts, explain
from planning.prediction_recent import LEVELS as RECENT_LEVELS
from planning.prediction_recent import (
    Outcomes,
    RecentFigures,
    outcomes_of,
    recent_figures,
)

FORMAT_VERSION = 2
MAGIC = b"LEVERANSE-RISK"
DELAY_SIGNALS = frozenset(
    {Reason.CARRIER_DELAY, Reason.CUSTOMS, Reason.WEATHER, Reason.HELD, EXCEPTION_SIGNAL}
)
# When a parcel is already past its whole distribution, the ETA still lies ahead of now (business days).
MIN_AHEAD = (0.05, 0.25, 1.0)
# A parcel past its lane's whole transit distribution is still more often late than lost.
LATE_NOT_LOST = 0.05
# Columns the boosted models treat as categories (codes from the model's vocabulary).
CATEGORICAL = ("carrier", "service", "origin_region", "dest_region")


class RiskState(StrEnum):
    """The derived risk of a shipment."""

    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    LATE = "late"
    STUCK = "stuck"
    LOST = "lost"


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


@dataclass
class RiskModel:
    """A trained (or prior) risk model; serialise with `to_bytes`, never mutate after training."""

    settings: RiskSettings
    trained_at: datetime
    n_train: int
    lanes: LaneTable
    recent: Outcomes
    vocab: dict[str, dict[str, int]] = field(default_factory=dict)
    eta_model: HistGradientBoostingRegressor | None = None
    residual_z: np.ndarray = field(default_factory=lambda: UNIT_Z.copy())
    late_model: HistGradientBoostingClassifier | None = None
    calibrator: IsotonicRegression | None = None
    eta_levels: tuple[float, float, float] = (0.1, 0.5, 0.9)  # grid levels whose dates cover 10/50/90 %
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
        final: bool = True,
    ) -> Handoff:
        stats, level, lane_n = lanes.lookup(arrays.lane_keys())
        recent = recent_figures(
            ref, arrays.group_keys(), asof_ts, stats[:, LATE], self.settings.recent_half_life_days
        )
        features = self._matrix(arrays, stats, level, lane_n, recent) if self.vocab else None
        q = stats[:, TRANSIT]
        if self.eta_model is not None and features is not None:
            q = (
                self.eta_model.predict(features)[:, None]
                + spread_of(stats)[:, None] * self.residual_z[None, :]
            )
        if self.late_model is not None and features is not None:
            p = self.late_model.predict_proba(features)[:, 1]
        else:
            p = survival_ratio(q, arrays.deadline_log, np.zeros(len(arrays)))
        if final and self.calibrator is not None:
            p = self.calibrator.predict(p)
        return Handoff(stats, level, q, p, recent, features)

    def handoff(self, arrays: ShipmentArrays) -> Handoff:
        """Handoff figures with the model's own lane table, as of each handoff, from outcomes known then."""
        return self._handoff(arrays, self.lanes, self.recent, arrays.shipped_ts)

    def with_outcomes(self, records: Sequence[HistoryRecord], now: datetime) -> RiskModel:
        """A copy that also knows the outcomes of `records` known at `now` (fresh recent performance).

        Pass the shipments of the last few weeks; predictions only use outcomes known before each handoff.
        """
        known = outcomes_of(records, self.settings, self.lanes, now)
        return replace(self, recent=Outcomes.concat([self.recent, known]))

    # -- prediction ----------------------------------------------------------------------------------

    def predict(self, snapshot: Snapshot) -> Prediction:
        """Predict one in-flight shipment."""
        return self.predict_many([snapshot])[0]

    def predict_many(self, snapshots: Sequence[Snapshot]) -> list[Prediction]:
        """Predict many in-flight shipments at once (vectorised)."""
        if not snapshots:
            return []
        s = self.settings
        arrays = encode_shipments([x.shipment for x in snapshots], s)
        with one_core(s):
            h = self.handoff(arrays)
        n = len(snapshots)
        now_ts = epoch([x.now for x in snapshots])
        last_ts = np.array(
            [x.now.timestamp() if x.last_event_at is None else x.last_event_at.timestamp() for x in snapshots]
        )
        scanned = np.array([x.last_event_at is not None for x in snapshots])
        status = [x.status for x in snapshots]
        out_for_delivery = np.array([st is Status.OUT_FOR_DELIVERY for st in status])
        elapsed = transit_clock(arrays, now_ts)
        last_elapsed = np.where(scanned, transit_clock(arrays, last_ts), 0.0)
        dwell = np.where(scanned, business_gap(arrays, last_ts, now_ts), elapsed)
        e_log, d_log = np.log1p(elapsed), arrays.deadline_log

        q = h.q.copy()
        # Out for delivery: today, within the carrier's usual delivery hours.
        if out_for_delivery.any():
            today = np.floor(elapsed[out_for_delivery])
            hours = h.stats[out_for_delivery][:, [HOUR_P10, HOUR_P90]]
            spread = (hours[:, 1] - hours[:, 0])[:, None]
            q[out_for_delivery] = np.log1p(
                today[:, None] + hours[:, :1] + spread * (np.linspace(0, 1, q.shape[1]) ** 1.0)
            )
        eta_y = np.column_stack(
            [
                np.maximum(np.expm1(conditional_quantile(q, p, e_log)), elapsed + ahead)
                for p, ahead in zip(self.eta_levels, MIN_AHEAD, strict=False)
            ]
        )
        eta_ts = clock_to_epoch(arrays, eta_y)

        # p_late: the handoff odds, moved by what time has told since, and by the carrier's signals.
        base = survival_ratio(q, d_log, np.zeros(n))
        now_ratio = survival_ratio(q, d_log, e_log)
        signal_count = np.array(
            [len(x.signals & DELAY_SIGNALS) + (x.status is Status.FAILED_ATTEMPT) for x in snapshots]
        )
        normal_gap = np.maximum(h.stats[:, GAP], 0.25)
        stuck = dwell > np.maximum(s.stuck_dwell_factor * normal_gap, s.stuck_min_business_days)
        log_odds = (
            _logit(h.p_late) + _logit(now_ratio) - _logit(base) + s.signal_log_odds * (signal_count + stuck)
        )
        p_late = np.where(out_for_delivery, now_ratio, 1 / (1 + np.exp(-log_odds)))
        today = (now_ts // DAY_S).astype(np.int64).astype("datetime64[D]")
        p_late = np.where(today > arrays.promised_day, 1.0, p_late)

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

        return [
            self._row(
                snapshots[i], arrays, h, i, eta_ts[i], p_late[i], p_lost[i], dwell[i], normal_gap[i], stuck[i]
            )
            for i in range(n)
        ]

    def _row(
        self,
        snap: Snapshot,
        arrays: ShipmentArrays,
        h: Handoff,
        i: int,
        eta_ts: np.ndarray,
        p_late: float,
        p_lost: float,
        dwell: float,
        gap: float,
        stuck: bool,
    ) -> Prediction:
        s = self.settings
        info = snap.shipment
        etas = [datetime.fromtimestamp(float(t), UTC) for t in eta_ts]
        signals = snap.signals
        if Reason.LOST.value in signals:
            p_lost = max(p_lost, s.carrier_lost_p)
        if Reason.DAMAGED.value in signals:
            p_lost = max(p_lost, s.carrier_damaged_p)
        today = snap.now.date()
        if snap.status is Status.DELIVERED:
            delivered = (snap.last_event_at or snap.now).date()
            p_late, p_lost = float(delivered > info.promised_date), 0.0
        elif snap.status in (Status.RETURNING, Status.RETURNED, Status.EXPIRED):
            p_late, p_lost = 1.0, 0.0
        elif snap.status is Status.CANCELLED:
            p_late, p_lost = 0.0, 0.0
        state = self._state(snap, float(p_late), float(p_lost), bool(stuck))
        km = snap.km_remaining
        if (
            km is None
            and snap.status in (Status.PENDING, Status.INFO_RECEIVED)
            and not np.isnan(arrays.distance_km[i])
        ):
            km = float(arrays.distance_km[i])
        recent = h.recent.raw_lane_late[i]
        facts = RowFacts(
            status=snap.status,
            signals=signals,
            today=today,
            promised=info.promised_date,
            eta_p50=etas[1].date(),
            dwell_business_days=float(dwell) if snap.last_event_at is not None else 0.0,
            normal_gap_days=float(gap),
            km_to_go=km,
            recent_late_rate=None if np.isnan(recent) else float(recent),
            usual_late_rate=float(h.stats[i, LATE]),
            recent_half_life_days=s.recent_half_life_days,
        )
        window = None
        if etas[1].date() == today or snap.status is Status.OUT_FOR_DELIVERY:
            day = datetime.combine(etas[1].date(), datetime.min.time(), UTC)
            start = max(day + timedelta(days=float(h.stats[i, HOUR_P10])), snap.now)
            end = max(day + timedelta(days=float(h.stats[i, HOUR_P90])), start + timedelta(hours=1))
            window = (start, end)
        return Prediction(
            shipment_id=info.shipment_id,
            eta_p10=etas[0],
            eta_p50=etas[1],
            eta_p90=etas[2],
            window=window,
            p_late=round(float(p_late), 4),
            p_lost=round(float(p_lost), 4),
            risk_state=state,
            details=explain(facts),
            fallback_level=LEVELS[h.level[i]] if h.level[i] < len(LEVELS) else Level.PRIOR,
            computed_at=snap.now,
            model_version=self.model_version,
        )

    def _state(self, snap: Snapshot, p_late: float, p_lost: float, stuck: bool) -> RiskState:
        s = self.settings
        if snap.status is Status.DELIVERED:
            return RiskState.LATE if p_late >= 1.0 else RiskState.ON_TRACK
        if snap.status is Status.CANCELLED:
            return RiskState.ON_TRACK
        if p_lost >= s.lost_p_lost:
            return RiskState.LOST
        if snap.now.date() > snap.shipment.promised_date or p_late >= 1.0:
            return RiskState.LATE
        if stuck and snap.status not in (Status.AVAILABLE_FOR_PICKUP, Status.RETURNED):
            return RiskState.STUCK
        if p_late >= s.at_risk_p_late:
            return RiskState.AT_RISK
        return RiskState.ON_TRACK
