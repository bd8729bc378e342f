"""Recent performance as of any instant: exponentially decayed late rates and transit drift per group."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from planning.prediction.distribution import quantile
from planning.prediction.features import (
    DAY_S,
    GroupCodes,
    ShipmentArrays,
    clock_to_epoch,
)
from planning.prediction.lanes import TRANSIT, LaneTable

MEMORY_HALF_LIVES = 8  # older outcomes weigh under 0.4 % and are forgotten
RECENT_PSEUDO = 3.0  # decayed deliveries worth as much as the parent level's figure
LEVELS = ("carrier", "dest", "lane")  # coarse to fine; each level shrinks towards the one before


@dataclass(frozen=True)
class Outcomes:
    """What became known about past shipments, and when (NaN: not known yet)."""

    keys: dict[str, np.ndarray]  # group key per level (see LEVELS)
    late_ts: np.ndarray  # when late / on time became known: the delivery, or the promise passing
    late: np.ndarray
    slow_ts: np.ndarray  # when "slower than the lane's usual median" became known
    slow: np.ndarray
    delivered_ts: np.ndarray  # NaN when not delivered
    residual: np.ndarray  # log1p transit minus the lane's usual median, NaN when not delivered

    def __len__(self) -> int:
        return len(self.late)

    def select(self, rows: np.ndarray) -> Outcomes:
        """A subset of outcomes."""
        return Outcomes({k: v[rows] for k, v in self.keys.items()}, *(v[rows] for v in self._columns()))

    def _columns(self) -> list[np.ndarray]:
        return [self.late_ts, self.late, self.slow_ts, self.slow, self.delivered_ts, self.residual]

    def since(self, ts: float) -> Outcomes:
        """Only the outcomes with something known after `ts` (older ones no longer weigh anything)."""
        latest = np.fmax(np.fmax(self.late_ts, self.slow_ts), self.delivered_ts)
        return self.select(np.flatnonzero(latest > ts))

    @staticmethod
    def concat(parts: list[Outcomes]) -> Outcomes:
        """All outcomes of several sets."""
        columns = zip(*(p._columns() for p in parts), strict=True)
        return Outcomes(
            {k: np.concatenate([p.keys[k] for p in parts]) for k in LEVELS},
            *(np.concatenate(c) for c in columns),
        )


def decayed_sums(
    ref_keys: np.ndarray,
    ref_ts: np.ndarray,
    ref_values: np.ndarray,
    keys: np.ndarray,
    ts: np.ndarray,
    half_life_s: float,
) -> np.ndarray:
    """Per query row, Σ values·2^(−age / half-life) over references with the same key in the memory window.

    `ref_values` is N×C (its first column is usually ones: the decayed count). Queries are taken in blocks
    one window long, each with its own time base, so the weights stay small and the sums exact.
    """
    out = np.zeros((len(keys), ref_values.shape[1]))
    if len(ref_keys) == 0 or len(keys) == 0:
        return out
    window = MEMORY_HALF_LIVES * half_life_s
    order = np.lexsort((ref_ts, ref_keys))
    k, t, v = ref_keys[order], ref_ts[order], ref_values[order]
    t0 = min(float(t[0]), float(np.min(ts))) - window
    stride = 2.0 * (max(float(np.max(t)), float(np.max(ts))) - t0) + 2.0
    axis = k * stride + (t - t0)
    block = np.floor((ts - t0) / window)
    for b in np.unique(block):
        q = np.flatnonzero(block == b)
        base = t0 + b * window
        inside = (t > base - window) & (t < base + window)
        if not inside.any():
            continue  # nothing known in reach of this block: its sums stay zero
        w = np.where(inside, np.exp2((t - base) / half_life_s), 0.0)
        csum = np.vstack([np.zeros((1, v.shape[1])), np.cumsum(w[:, None] * v, axis=0)])
        hi = np.searchsorted(axis, keys[q] * stride + (ts[q] - t0), side="right")
        lo = np.searchsorted(axis, keys[q] * stride + (ts[q] - window - t0), side="right")
        out[q] = (csum[hi] - csum[lo]) * np.exp2(-(ts[q] - base) / half_life_s)[:, None]
    return out


@dataclass(frozen=True)
class RecentFigures:
    """Recent performance per query row and level (see LEVELS), each level shrunk towards the coarser."""

    late_rate: dict[str, np.ndarray]
    slow_share: dict[str, np.ndarray]  # share of recent parcels not delivered within the lane's median
    drift: dict[str, np.ndarray]  # decayed mean transit residual (log1p business days)
    raw_lane_late: np.ndarray  # the lane's own recent late rate, NaN when it had too few outcomes


def _rate(
    ref_k: np.ndarray, when: np.ndarray, value: np.ndarray, query: tuple[np.ndarray, np.ndarray], h: float
) -> np.ndarray:
    known = ~np.isnan(when) & (ref_k >= 0)
    ones = np.ones(int(known.sum()))
    return decayed_sums(ref_k[known], when[known], np.column_stack([ones, value[known]]), *query, h)


def recent_figures(
    ref: Outcomes, keys: GroupCodes, ts: np.ndarray, usual_late: np.ndarray, half_life_days: float
) -> RecentFigures:
    """Recent late rate, slowness and transit drift at each query row's instant `ts`, from what was known."""
    h = half_life_days * DAY_S
    out: RecentFigures = RecentFigures({}, {}, {}, np.full(len(ts), np.nan))
    parents = {"late": usual_late, "slow": np.full(len(ts), 0.5), "drift": np.zeros(len(ts))}
    for level in LEVELS:
        ref_k = keys.lookup(level, ref.keys[level])
        query = (keys.codes[level], ts)
        sums = {
            "late": _rate(ref_k, ref.late_ts, ref.late, query, h),
            "slow": _rate(ref_k, ref.slow_ts, ref.slow, query, h),
            "drift": _rate(ref_k, ref.delivered_ts, ref.residual, query, h),
        }
        for name, target in (("late", out.late_rate), ("slow", out.slow_share), ("drift", out.drift)):
            total = sums[name]
            target[level] = (total[:, 1] + RECENT_PSEUDO * parents[name]) / (total[:, 0] + RECENT_PSEUDO)
            parents[name] = target[level]
    late = sums["late"]
    out.raw_lane_late[:] = np.where(
        late[:, 0] >= RECENT_PSEUDO, late[:, 1] / np.maximum(late[:, 0], 1e-9), np.nan
    )
    return out


def outcomes_from(
    arrays: ShipmentArrays, delivered_ts: np.ndarray, log_transit: np.ndarray, lanes: LaneTable, now_ts: float
) -> Outcomes:
    """What is known at `now_ts` about these shipments: deliveries, promises passed, usual transit run out."""
    delivered = ~np.isnan(delivered_ts) & (delivered_ts <= now_ts)
    delivered_ts = np.where(delivered, delivered_ts, np.nan)
    promise_end = arrays.promise_end_ts
    late = np.where(delivered, delivered_ts >= promise_end, True)
    late_ts = np.where(late, promise_end, delivered_ts)
    stats, _, _ = lanes.lookup(arrays.lane_keys())
    usual = quantile(stats[:, TRANSIT], np.full(len(arrays), 0.5))
    usual_ts = clock_to_epoch(arrays, np.expm1(usual)[:, None])[:, 0]
    slow = np.where(delivered, delivered_ts > usual_ts, True)
    slow_ts = np.where(slow, usual_ts, delivered_ts)
    late_ts[late_ts > now_ts] = np.nan
    slow_ts[slow_ts > now_ts] = np.nan
    rows = np.flatnonzero(~np.isnan(late_ts) | ~np.isnan(slow_ts))
    return Outcomes(
        {k: v[rows] for k, v in arrays.groups.items()},
        late_ts[rows],
        late[rows].astype(float),
        slow_ts[rows],
        slow[rows].astype(float),
        delivered_ts[rows],
        (log_transit - usual)[rows],
    )


def no_outcomes() -> Outcomes:
    """An empty set of outcomes (the day-one model)."""
    return Outcomes({k: np.empty(0, dtype=object) for k in LEVELS}, *([np.empty(0)] * 6))
