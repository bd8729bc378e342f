"""Per-group statistics with hierarchical fallback: lane → carrier-service → carrier → global prior."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from planning.prediction.distribution import GRID, PGRID, grid_from

Chain = tuple[tuple[str, ...], ...]  # group keys from finest (lane) to coarsest (global)


class Level(StrEnum):
    """The finest level whose own history backs a figure."""

    LANE = "lane"
    CARRIER_SERVICE = "carrier_service"
    CARRIER = "carrier"
    GLOBAL = "global"
    PRIOR = "prior"


LEVELS = (Level.LANE, Level.CARRIER_SERVICE, Level.CARRIER, Level.GLOBAL)

# Column layout of a group's statistics vector.
TRANSIT = slice(0, GRID)  # quantile grid of log1p(transit business days)
HOUR_P10, HOUR_P90 = GRID, GRID + 1  # delivery time of day (fraction of the UTC day)
LATE, LOST, GAP = GRID + 2, GRID + 3, GRID + 4  # late rate, lost rate, normal business days between scans
WIDTH = GRID + 5


def group_quantiles(
    codes: np.ndarray, values: np.ndarray, n: int, probs: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per group (codes 0…n−1): linear quantiles at `probs` (NaN for an empty group), and the counts."""
    order = np.lexsort((values, codes))
    x, g = values[order], codes[order]
    count = np.bincount(g, minlength=n)
    start = np.concatenate([[0], np.cumsum(count)[:-1]])
    pos = start[:, None] + probs[None, :] * np.maximum(count - 1, 0)[:, None]
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, start[:, None] + np.maximum(count - 1, 0)[:, None])
    if len(x) == 0:
        return np.full((n, len(probs)), np.nan), count
    lo_c, hi_c = np.clip(lo, 0, len(x) - 1), np.clip(hi, 0, len(x) - 1)
    q = x[lo_c] + (pos - lo) * (x[hi_c] - x[lo_c])
    return np.where(count[:, None] > 0, q, np.nan), count


def prior_vector(international: bool, scan_gap_days: float) -> np.ndarray:
    """Day-one figures: next-day-ish domestic, about a week abroad, 10 % late, 0.5 % lost."""
    low, mid, high = (3.5, 5.5, 11.0) if international else (1.4, 2.5, 4.5)
    out = np.empty(WIDTH)
    out[TRANSIT] = grid_from(np.log1p(mid), np.log1p(high) - np.log1p(low))
    out[[HOUR_P10, HOUR_P90, LATE, LOST, GAP]] = [0.35, 0.7, 0.1, 0.005, scan_gap_days]
    return out


@dataclass(frozen=True)
class GroupColumns:
    """Row-level observations feeding the group statistics (NaN where unknown)."""

    log_transit: np.ndarray
    hour: np.ndarray
    late: np.ndarray
    lost: np.ndarray
    scan_gap: np.ndarray

    def select(self, rows: np.ndarray) -> GroupColumns:
        """A subset of rows."""
        return GroupColumns(*(v[rows] for v in vars(self).values()))


class LaneTable:
    """Shrunken statistics per group; lookups walk the fallback chain."""

    def __init__(self, shrinkage: float, min_group_size: int, scan_gap_days: float) -> None:
        self.shrinkage = shrinkage
        self.min_group_size = min_group_size
        self.index: dict[tuple[str, ...], int] = {}
        self.blended = np.empty((0, WIDTH))
        self.counts = np.empty(0)
        self.priors = {scope: prior_vector(scope == "intl", scan_gap_days) for scope in ("domestic", "intl")}

    def fit(self, chains: Sequence[Chain], cols: GroupColumns) -> LaneTable:
        """Learn every group's statistics, each shrunk towards its parent's (vectorised per level)."""
        depth = len(chains[0]) if chains else 0
        keys: list[tuple[str, ...]] = []
        blocks: list[np.ndarray] = []
        counts: list[np.ndarray] = []
        parent_codes: np.ndarray | None = None
        parent_block = np.empty((0, WIDTH))
        # Coarsest first, so each parent is blended before its children.
        for d in reversed(range(depth)):
            table: dict[tuple[str, ...], int] = {}
            codes = np.array([table.setdefault(c[d], len(table)) for c in chains], dtype=np.int64)
            first_row = np.full(len(table), -1)
            first_row[codes[::-1]] = np.arange(len(codes))[::-1]
            level_keys = list(table)
            if parent_codes is None:
                base = np.array([self.priors[k[-1]] for k in level_keys])
            else:
                base = parent_block[parent_codes[first_row]]
            parent_block = self._blend(codes, len(table), cols, base)
            parent_codes = codes
            keys.extend(level_keys)
            blocks.append(parent_block)
            counts.append(np.bincount(codes, minlength=len(table)).astype(float))
        self.index = {key: i for i, key in enumerate(keys)}
        self.blended = np.vstack(blocks) if blocks else np.empty((0, WIDTH))
        self.counts = np.concatenate(counts) if counts else np.empty(0)
        return self

    def _blend(self, codes: np.ndarray, n: int, cols: GroupColumns, base: np.ndarray) -> np.ndarray:
        k = self.shrinkage
        out = base.copy()
        seen = ~np.isnan(cols.log_transit)
        grid, n_transit = group_quantiles(codes[seen], cols.log_transit[seen], n, PGRID)
        hours, _ = group_quantiles(codes[seen], cols.hour[seen], n, np.array([0.1, 0.9]))
        w = (n_transit / (n_transit + k))[:, None]
        has = n_transit > 0
        out[has, TRANSIT] = (w * grid + (1 - w) * base[:, TRANSIT])[has]
        out[has, HOUR_P10 : HOUR_P90 + 1] = (w * hours + (1 - w) * base[:, HOUR_P10 : HOUR_P90 + 1])[has]
        for col, values in ((LATE, cols.late), (LOST, cols.lost), (GAP, cols.scan_gap)):
            ok = ~np.isnan(values)
            total = np.bincount(codes[ok], weights=values[ok], minlength=n)
            count = np.bincount(codes[ok], minlength=n)
            out[:, col] = (total + k * base[:, col]) / (count + k)
        return out

    def lookup(self, chains: Sequence[Chain]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per row: statistics vector, index in LEVELS of the level used (4 = prior), the lane's count."""
        stats = np.empty((len(chains), WIDTH))
        level = np.empty(len(chains), dtype=np.int64)
        lane_n = np.zeros(len(chains))
        for row, chain in enumerate(chains):
            found = None
            level[row] = len(LEVELS)
            for depth, key in enumerate(chain):
                i = self.index.get(key)
                if i is None:
                    continue
                if found is None:
                    found = i
                if self.counts[i] >= self.min_group_size:
                    level[row] = depth
                    break
            stats[row] = self.priors[chain[-1][-1]] if found is None else self.blended[found]
            lane_i = self.index.get(chain[0])
            lane_n[row] = 0.0 if lane_i is None else self.counts[lane_i]
        return stats, level, lane_n
