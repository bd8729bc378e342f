"""Transit-time distributions as per-row quantile grids (log1p business days), with conditioning."""

from __future__ import annotations

from statistics import NormalDist

import numpy as np

GRID = 40
PGRID = (np.arange(GRID) + 0.5) / GRID  # 0.0125 … 0.9875
DP = 1.0 / GRID
P_FLOOR = 0.001
# Standard quantiles scaled so that q90 − q10 = 1: a grid's shape when nothing better is known.
UNIT_Z = np.array([NormalDist().inv_cdf(p) for p in PGRID]) / (2 * NormalDist().inv_cdf(0.9))


def grid_from(median: float, spread: float) -> np.ndarray:
    """A log-normal-shaped grid in log1p space from its median and q90 − q10 (both in log1p units)."""
    return median + spread * UNIT_Z


def empirical_grid(values: np.ndarray) -> np.ndarray:
    """Quantiles of a sample at the grid's probabilities."""
    return np.quantile(values, PGRID)


def cdf(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Row-wise F(v) for quantile grids `q` (N×G), linear inside the grid and extrapolated beyond it."""
    below = (q < v[:, None]).sum(axis=1)
    j = np.clip(below - 1, 0, GRID - 2)
    rows = np.arange(len(v))
    lo, hi = q[rows, j], q[rows, j + 1]
    width = np.maximum(hi - lo, 1e-9)
    f = PGRID[j] + (v - lo) / width * DP
    return np.clip(f, P_FLOOR, 1 - P_FLOOR)


def quantile(q: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Row-wise quantile at probabilities `p` (N,), linear inside the grid and extrapolated beyond it."""
    x = (np.clip(p, P_FLOOR, 1 - P_FLOOR) - PGRID[0]) / DP
    j = np.clip(np.floor(x).astype(int), 0, GRID - 2)
    rows = np.arange(len(p))
    lo, hi = q[rows, j], q[rows, j + 1]
    return lo + (x - j) * (hi - lo)


def conditional_quantile(q: np.ndarray, p: float | np.ndarray, elapsed_log: np.ndarray) -> np.ndarray:
    """Quantile `p` (one or per row) of the distribution given that the value exceeds `elapsed_log`."""
    u = cdf(q, elapsed_log)
    return np.maximum(quantile(q, u + p * (1 - u)), elapsed_log)


def survival_ratio(q: np.ndarray, threshold_log: np.ndarray, elapsed_log: np.ndarray) -> np.ndarray:
    """P(value > threshold | value > elapsed), row-wise; 1 where the threshold is already passed."""
    ratio = (1 - cdf(q, threshold_log)) / (1 - cdf(q, elapsed_log))
    return np.where(elapsed_log >= threshold_log, 1.0, np.clip(ratio, P_FLOOR, 1 - P_FLOOR))
