from __future__ import annotations

from datetime import date

import numpy as np

from carriers.sandbox.history import HistoryMode, generate_history
from planning.prediction.backtest import run_backtest
from planning.prediction.recent import decayed_sums

DAY = 86400.0

TINY = (
    "shipment_id,carrier,origin_postcode,origin_country,destination_postcode,destination_country,"
    "shipped_at,promised_date,delivered_at\n"
    "A1,x,01310,BR,20040,BR,2018-01-02T10:00,2018-01-20,2018-01-10T12:00\n"
    "A2,x,01310,BR,20040,BR,2018-01-03T10:00,2018-01-20,2018-01-11T12:00\n"
    "B1,x,01310,BR,20040,BR,2018-02-02T10:00,2018-02-20,2018-02-09T12:00\n"
)


def test_backtest_with_a_test_set_without_late_parcels_reports_null_auc(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text(TINY)
    out = run_backtest(path, date(2018, 1, 15))
    assert (out["n_train"], out["n_test"], out["late_rate"]) == (2, 1, 0.0)
    assert out["auc"] is None and out["baselines"]["promise"]["auc"] is None
    assert out["brier"] is not None and out["rows_skipped"] == 0


def test_decayed_sums_halve_per_half_life_and_keep_keys_apart():
    ref_keys = np.array([0, 0, 1])
    ref_ts = np.array([0.0, 7 * DAY, 7 * DAY])
    values = np.array([[1.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    got = decayed_sums(
        ref_keys, ref_ts, values, np.array([0, 0, 1, 2]), np.array([7, 14, 6, 14]) * DAY, 7 * DAY
    )
    assert np.allclose(got, [[1.5, 0.5], [0.75, 0.25], [0.0, 0.0], [0.0, 0.0]])


def test_marketplace_history_has_generous_promises_and_a_late_shipping_effect():
    history = generate_history(4000, seed=3, mode=HistoryMode.MARKETPLACE)
    records = [g.record for g in history]
    late = np.array(
        [r.delivered_at is None or r.delivered_at.date() > r.shipment.promised_date for r in records]
    )
    handling = np.array([(r.shipment.shipped_at - r.shipment.ordered_at).days for r in records])
    assert 0.05 <= late.mean() <= 0.12
    assert late[handling >= 5].mean() > 3 * late[handling <= 1].mean()
    assert {r.shipment.origin.country for r in records} == {"BR"}
    assert all(len(r.shipment.destination.postcode) == 5 for r in records)
    assert len({r.shipment.origin.postcode for r in records}) > 50  # many sellers
