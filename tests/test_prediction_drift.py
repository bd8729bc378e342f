from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pytest

from planning.prediction.data import Place, RiskSettings, ShipmentInfo
from planning.prediction.distribution import PGRID, UNIT_Z, quantile
from planning.prediction.drift import (
    CHECK_LEVELS,
    COVER_LEVELS,
    Checks,
    checks_of,
    levels_for,
    recent_shares,
    recent_shift,
)
from planning.prediction.features import GroupCodes, encode_shipments

DAY = 86400.0


def info(sid: str) -> ShipmentInfo:
    return ShipmentInfo(
        shipment_id=sid,
        carrier="bring",
        service="servicepakke",
        origin=Place("NO", "0150"),
        destination=Place("NO", "5003"),
        ordered_at=datetime(2024, 3, 4, 5, tzinfo=UTC),
        shipped_at=datetime(2024, 3, 4, 6, tzinfo=UTC),  # Monday, before the cut-off: the clock starts today
        promised_date=date(2024, 3, 8),
    )


def test_checks_are_known_when_their_eta_passes_delivered_or_not():
    arrays = encode_shipments([info("early"), info("missing")], RiskSettings())
    q = np.tile(np.log1p(4 * PGRID), (2, 1))  # ETA levels 0.1 / 0.25 / 0.5 / 0.75 ≈ 0.4 / 1 / 2 / 3 days
    delivered = np.array([datetime(2024, 3, 4, 20, tzinfo=UTC).timestamp(), np.nan])
    now = datetime(2024, 3, 6, 12, tzinfo=UTC).timestamp()
    got = checks_of(arrays, q, delivered, now, CHECK_LEVELS, dated=False)
    known = ~np.isnan(got.known_ts)
    # The early parcel's later checks stay unknown although it has arrived: fast parcels are not known first.
    assert known.tolist() == [[True, True, True, False, False, False]] * 2
    assert got.hit[known].reshape(2, 3).tolist() == [[0.0, 1.0, 1.0], [0.0, 0.0, 0.0]]
    dated = checks_of(arrays, q, delivered, now, CHECK_LEVELS, dated=True)
    assert (dated.known_ts[~np.isnan(dated.known_ts)] % DAY == 0).all()  # known at midnight after the date


def _checks(hits: np.ndarray, ts: float) -> Checks:
    n = len(hits)
    keys = {
        "carrier": np.array(["c"] * n, dtype=object),
        "dest": np.array(["c|d"] * n, dtype=object),
        "lane": np.array(["c|s|o|d"] * n, dtype=object),
    }
    return Checks(keys, np.full(hits.shape, ts), hits)


def _hits(shares: np.ndarray, n: int = 400) -> np.ndarray:
    return (np.arange(n)[:, None] < np.round(shares * n)[None, :]).astype(float)


KEYS = {
    "carrier": np.array(["c", "x"], dtype=object),
    "dest": np.array(["c|d", "x|d"], dtype=object),
    "lane": np.array(["c|s|o|d", "x|s|o|d"], dtype=object),
}
QUERY = GroupCodes.of(KEYS)


def test_shift_is_zero_on_target_and_recovers_a_slowdown():
    ts = np.array([10 * DAY, 10 * DAY])
    on_target = _checks(_hits(CHECK_LEVELS), 9 * DAY)
    shift, stretch = recent_shift(on_target, QUERY, ts, 3.0, UNIT_Z)
    assert shift == pytest.approx([0.0, 0.0], abs=0.01)
    assert stretch == pytest.approx([1.0, 1.0], abs=0.02)
    # Recent parcels ran half a spread behind the grid: each level now covers what level − 0.5 did.
    grid = UNIT_Z[None, :]
    behind = np.array([_cdf_unit(quantile(grid, np.array([v]))[0] - 0.5) for v in CHECK_LEVELS])
    shift, stretch = recent_shift(_checks(_hits(behind), 9 * DAY), QUERY, ts, 3.0, UNIT_Z)
    assert shift[0] == pytest.approx(0.5, abs=0.08)
    assert stretch[0] == pytest.approx(1.0, abs=0.15)
    assert (shift[1], stretch[1]) == (0.0, 1.0)  # another carrier: nothing known, no move


def _cdf_unit(z: float) -> float:
    return float(np.interp(z, UNIT_Z, PGRID))


def test_rows_of_one_lane_at_one_instant_are_computed_once_with_the_same_result():
    checks = _checks(_hits(np.array([0.05, 0.2, 0.4, 0.7, 0.85, 0.95])), 9 * DAY)
    keys = GroupCodes.of({k: np.concatenate([v, v, v]) for k, v in KEYS.items()})
    ts = np.array([10, 10, 10, 10, 12, 12]) * DAY
    shares, counts = recent_shares(checks, keys, ts, 3.0, CHECK_LEVELS)
    alone, alone_counts = recent_shares(checks, QUERY, np.array([10, 10]) * DAY, 3.0, CHECK_LEVELS)
    assert np.array_equal(shares[:2], alone) and np.array_equal(shares[2:4], alone)
    assert np.array_equal(counts[:2], alone_counts)
    assert counts[0, 0] == pytest.approx(400 * 2 ** (-1 / 3))
    assert counts[4, 0] == pytest.approx(400 * 2 ** (-1))


def test_levels_for_reads_the_coverage_curve():
    on_target = np.tile(COVER_LEVELS, (1, 1))
    generous = np.tile(np.minimum(COVER_LEVELS + 0.1, 1.0), (1, 1))
    assert levels_for(on_target, (0.1, 0.9))[0].tolist() == pytest.approx([0.1, 0.9])
    # Dates now cover more than their levels: lower levels do; never below half the lowest level.
    assert levels_for(generous, (0.1, 0.9))[0].tolist() == pytest.approx([0.01, 0.8])
