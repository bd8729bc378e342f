"""Recent transit drift from censored evidence: how far recent parcels ran behind the model's own ETAs.

For each past shipment and each check level v, "delivered by the model's v-quantile" becomes known when
that instant has passed, whether the parcel has arrived or not: a parcel still travelling past its
p50 date tells the model it is slow long before its delivery does. Counting every check only once its date
has passed (never earlier, at delivery) keeps fast parcels from being known first. The share of recent
parcels inside each level, against the level itself, gives a shift and stretch of the residual
distribution that the model applies to its ETA grid. Dated checks of the ETAs it then gave say which
grid levels' dates recently covered 10, 50 and 90 % of parcels (a rolling conformal correction).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from planning.prediction.distribution import quantile
from planning.prediction.features import DAY_S, GroupCodes, ShipmentArrays, clock_to_epoch
from planning.prediction.recent import LEVELS, decayed_sums

CHECK_LEVELS = np.array([0.1, 0.25, 0.5, 0.75, 0.9, 0.97])
# Dated checks of the ETA the customer sees: which grid levels' dates recently covered how many parcels.
COVER_LEVELS = np.array([0.02, 0.08, 0.2, 0.7, 0.8, 0.85, 0.9, 0.95])
SHIFT_PSEUDO = 10.0  # decayed checks worth as much as the coarser level's share
STRETCH_PSEUDO = 0.5  # how firmly the stretch is held at 1, relative to the checks' total weight
STRETCH_RANGE = (0.7, 2.5)
SHARE_CLIP = 0.01  # shares this close to 0 or 1 only bound the shift; they are clipped to stay finite


@dataclass(frozen=True)
class Checks:
    """Per past shipment and check level: when it became known whether it arrived by that ETA, and if."""

    keys: dict[str, np.ndarray]  # group key per level (see planning.prediction.recent.LEVELS)
    known_ts: np.ndarray  # N×len(CHECK_LEVELS), NaN while not known
    hit: np.ndarray  # N×len(CHECK_LEVELS), 1.0 when delivered by the check's instant

    def __len__(self) -> int:
        return len(self.hit)

    @staticmethod
    def concat(parts: list[Checks]) -> Checks:
        """All checks of several sets."""
        return Checks(
            {k: np.concatenate([p.keys[k] for p in parts]) for k in LEVELS},
            np.concatenate([p.known_ts for p in parts]),
            np.concatenate([p.hit for p in parts]),
        )


def no_checks(width: int) -> Checks:
    """An empty set of checks (the day-one model)."""
    return Checks({k: np.empty(0, dtype=object) for k in LEVELS}, np.empty((0, width)), np.empty((0, width)))


def checks_of(
    arrays: ShipmentArrays,
    q: np.ndarray,
    delivered_ts: np.ndarray,
    now_ts: float,
    levels: np.ndarray,
    *,
    dated: bool,
) -> Checks:
    """The checks known at `now_ts` of shipments whose handoff ETA grids (log1p transit) are `q`.

    A plain check is "delivered by the v-quantile instant"; a dated one "delivered on or before the date
    the v-quantile falls on", as customers read an ETA date.
    """
    n = len(arrays)
    y = np.column_stack([np.expm1(quantile(q, np.full(n, v))) for v in levels])
    due = clock_to_epoch(arrays, np.maximum(y, 0.0))
    if dated:
        due = (np.floor(due / DAY_S) + 1) * DAY_S
    arrived = np.nan_to_num(delivered_ts, nan=np.inf)[:, None]
    hit = (arrived < due if dated else arrived <= due).astype(float)
    known_ts = np.where(due <= now_ts, due, np.nan)
    rows = np.flatnonzero(~np.isnan(known_ts).all(axis=1))
    return Checks({k: v[rows] for k, v in arrays.groups.items()}, known_ts[rows], hit[rows])


def recent_shares(
    checks: Checks, keys: GroupCodes, ts: np.ndarray, half_life_days: float, prior: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per query row and check level: the decayed share of hits known at `ts`, and the carrier-wide count.

    Shares are shrunk carrier → destination → lane, each towards the coarser one, the first to `prior`.
    """
    n, width = len(ts), len(prior)
    shares, counts = np.tile(prior, (n, 1)), np.zeros((n, width))
    if len(checks) == 0 or n == 0:
        return shares, counts
    # Rows of one lane at one instant share their figures (re-scoring all parcels at `now`): once each.
    first, inverse = _distinct(keys.codes["lane"], ts)
    if len(first) < n:
        shares, counts = recent_shares(checks, keys.select(first), ts[first], half_life_days, prior)
        return shares[inverse], counts[inverse]
    h = half_life_days * DAY_S
    codes = {level: keys.lookup(level, checks.keys[level]) for level in LEVELS}
    for j in range(width):
        when, hit = checks.known_ts[:, j], checks.hit[:, j]
        for level in LEVELS:
            ref_k = codes[level]
            known = ~np.isnan(when) & (ref_k >= 0)
            values = np.column_stack([np.ones(int(known.sum())), hit[known]])
            got = decayed_sums(ref_k[known], when[known], values, keys.codes[level], ts, h)
            shares[:, j] = (got[:, 1] + SHIFT_PSEUDO * shares[:, j]) / (got[:, 0] + SHIFT_PSEUDO)
            if level == LEVELS[0]:
                counts[:, j] = got[:, 0]
    return shares, counts


def _distinct(codes: np.ndarray, ts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One row per distinct (code, instant), and for every row the index of its distinct row."""
    order = np.lexsort((ts, codes))
    new = np.ones(len(codes), dtype=bool)
    new[1:] = (codes[order][1:] != codes[order][:-1]) | (ts[order][1:] != ts[order][:-1])
    inverse = np.empty(len(codes), dtype=np.int64)
    inverse[order] = np.cumsum(new) - 1
    return order[new], inverse


def recent_shift(
    checks: Checks, keys: GroupCodes, ts: np.ndarray, half_life_days: float, z_grid: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per query row, the shift and stretch of the residual grid `z_grid` the checks known at `ts` show.

    Each level's recent share says where that level now lies on the grid; a line through those points
    (inverse-variance weights, so a share stuck at 0 or 1 weighs little; the stretch held towards 1) maps
    the grid to its recent version.
    """
    n = len(ts)
    shares, counts = recent_shares(checks, keys, ts, half_life_days, CHECK_LEVELS)
    grid = np.broadcast_to(z_grid, (n, len(z_grid)))
    sums = np.zeros((5, n))  # Σw, Σw·x, Σw·r, Σw·x², Σw·x·r with x the old place, r the move
    for j, v in enumerate(CHECK_LEVELS):
        g = np.clip(shares[:, j], SHARE_CLIP, 1 - SHARE_CLIP)
        x = quantile(grid, g)
        density = 0.02 / np.maximum(quantile(grid, g + 0.01) - quantile(grid, g - 0.01), 1e-6)
        w = counts[:, j] * density**2 / (g * (1 - g))
        r = quantile(grid, np.full(n, v)) - x
        sums += np.vstack([w, w * x, w * r, w * x * x, w * x * r])
    sw, sx, sr, sxx, sxr = sums
    ridge = STRETCH_PSEUDO * sw
    det = sw * (sxx + ridge) - sx * sx
    ok = det > 1e-12
    det = np.where(ok, det, 1.0)
    shift = np.where(ok, (sr * (sxx + ridge) - sx * sxr) / det, 0.0)
    stretch = np.where(ok, 1 + (sw * sxr - sx * sr) / det, 1.0)
    return shift, np.clip(stretch, *STRETCH_RANGE)


def levels_for(shares: np.ndarray, targets: tuple[float, ...]) -> np.ndarray:
    """Per row (N×len(COVER_LEVELS) shares), the grid level whose dated ETA covers each target (N×T)."""
    covered = np.maximum.accumulate(shares, axis=1)
    grid = np.asarray(COVER_LEVELS)
    out = np.empty((len(shares), len(targets)))
    for t, target in enumerate(targets):
        j = np.clip((covered < target).sum(axis=1), 1, len(grid) - 1)
        rows = np.arange(len(shares))
        lo, hi = covered[rows, j - 1], covered[rows, j]
        frac = np.clip((target - lo) / np.maximum(hi - lo, 1e-6), -1.0, 2.0)
        out[:, t] = grid[j - 1] + frac * (grid[j] - grid[j - 1])
    return np.clip(out, grid[0] / 2, 0.995)
