"""The backtest on marketplace-like history: blank carriers, one country, long promises, a slowdown after
the split, ties, duplicates and malformed rows: figures or a stated error, never a crash."""

from __future__ import annotations

import csv
import json
from datetime import date, datetime, timedelta

import pytest
from flask import Flask

from app.cli.risk import group
from carriers.sandbox.history import HistoryMode, generate_history
from planning.prediction.backtest import run_backtest
from planning.prediction.io import write_history_csv

SPLIT = date(2017, 6, 1)
FIGURES = {"auc", "brier", "ece", "eta_mae_days", "p90_coverage"}


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> tuple[list[str], list[list[str]]]:
    """A marketplace history (one country, many sellers, a few percent never delivered) as CSV rows."""
    path = tmp_path_factory.mktemp("history") / "h.csv"
    shipments = generate_history(1500, seed=7, start=date(2017, 1, 2), days=200, mode=HistoryMode.MARKETPLACE)
    write_history_csv(path, (s.record for s in shipments))
    with path.open(newline="") as fh:
        header, *rows = list(csv.reader(fh))
    return header, rows


def write(path, header: list[str], rows: list[list[str]]):
    with path.open("w", newline="") as fh:
        csv.writer(fh).writerows([header, *rows])
    return path


def col(header: list[str], rows: list[list[str]], name: str, value) -> list[list[str]]:
    """A copy of `rows` with column `name` set to value(row) (a function of the row as a dict)."""
    i = header.index(name)
    out = []
    for row in rows:
        row = list(row)
        row[i] = value(dict(zip(header, row, strict=True)))
        out.append(row)
    return out


def after_split(row: dict) -> bool:
    return datetime.fromisoformat(row["shipped_at"]).date() >= SPLIT


def test_the_base_history_is_one_country_with_undelivered_parcels(base):
    header, rows = base
    countries = {r[header.index(c)] for r in rows for c in ("origin_country", "destination_country")}
    assert countries == {"BR"}
    assert 0 < sum(not r[header.index("delivered_at")] for r in rows) < 0.1 * len(rows)


@pytest.mark.parametrize(
    "case",
    ["blank_or_unknown_carrier", "one_carrier_only_in_test", "promises_3_to_60_days", "date_only_ties"],
)
def test_awkward_columns_still_give_every_figure_for_both_variants(base, tmp_path, case):
    header, rows = base
    mutate = {
        "blank_or_unknown_carrier": lambda: col(
            header, rows, "carrier", lambda r: ["", "Correios", "?"][int(r["shipment_id"][-1], 36) % 3]
        ),
        "one_carrier_only_in_test": lambda: col(
            header, rows, "carrier", lambda r: "newco" if after_split(r) else ""
        ),
        "promises_3_to_60_days": lambda: col(
            header,
            rows,
            "promised_date",
            lambda r: (
                (
                    datetime.fromisoformat(r["ordered_at"])
                    + timedelta(days=3 + int(r["shipment_id"][-3:], 36) % 58)
                )
                .date()
                .isoformat()
            ),
        ),
        # exports with dates only: many parcels share the same handoff and delivery instant
        "date_only_ties": lambda: col(
            header,
            col(header, rows, "shipped_at", lambda r: r["shipped_at"][:10]),
            "delivered_at",
            lambda r: r["delivered_at"][:10],
        ),
    }[case]()
    out = run_backtest(write(tmp_path / "h.csv", header, mutate), SPLIT)
    assert "error" not in out and out["n_test"] > 100 and out["rows_skipped"] == 0
    for variant in ("live_outcomes", "frozen_outcomes"):
        assert set(out["variants"][variant]) == FIGURES
        assert all(value is not None for value in out["variants"][variant].values())
    assert 0.5 < out["auc"] <= 1.0


def test_after_a_sudden_slowdown_live_outcomes_beat_frozen_ones(base, tmp_path):
    header, rows = base
    slow = col(
        header,
        rows,
        "delivered_at",
        lambda r: (
            (datetime.fromisoformat(r["delivered_at"]) + timedelta(days=10)).isoformat()
            if r["delivered_at"] and after_split(r)
            else r["delivered_at"]
        ),
    )
    out = run_backtest(write(tmp_path / "h.csv", header, slow), SPLIT)
    live, frozen = out["variants"]["live_outcomes"], out["variants"]["frozen_outcomes"]
    assert out["late_rate"] > 0.5
    assert live["brier"] < frozen["brier"] and live["eta_mae_days"] < frozen["eta_mae_days"]
    frozen_run = run_backtest(tmp_path / "h.csv", SPLIT, live_outcomes=False)
    assert frozen_run["brier"] == frozen["brier"] and frozen_run["live_outcomes"] is False


def test_exact_duplicates_are_dropped_and_conflicting_ones_skipped(base, tmp_path):
    header, rows = base
    plain = run_backtest(write(tmp_path / "a.csv", header, rows), SPLIT)
    conflicting = list(rows[1])
    conflicting[header.index("delivered_at")] = ""
    doubled = rows + rows[:200] + [conflicting]
    out = run_backtest(write(tmp_path / "b.csv", header, doubled), SPLIT)
    assert out["duplicates_dropped"] == 200 and out["rows_skipped"] == 1
    assert out["skipped_examples"] == [f"line {len(doubled) + 1}: duplicate shipment_id {rows[1][0]!r}"]
    assert {k: out[k] for k in FIGURES | {"n_train", "n_test"}} == {
        k: plain[k] for k in FIGURES | {"n_train", "n_test"}
    }


def test_malformed_rows_are_counted_and_skipped(base, tmp_path):
    header, rows = base
    plain = run_backtest(write(tmp_path / "a.csv", header, rows), SPLIT)
    i = {name: header.index(name) for name in header}

    def broken(n: int, name: str, value: str) -> list[str]:
        row = list(rows[n])
        row[i["shipment_id"]] += "-bad"
        row[i[name]] = value
        return row

    bad = [
        broken(0, "delivered_at", "9999-12-31T23:59:59"),  # placeholder date
        broken(1, "shipped_at", "0001-01-01"),
        broken(2, "promised_date", "2016-01-01"),  # before the order
        broken(3, "promised_date", "2019-01-01"),  # a promise of years
        broken(4, "ordered_at", "2030-01-01"),  # ordered after handoff
        broken(5, "destination_lat", "inf"),
        broken(6, "shipped_at", "2017-03-05T10:00:00+25:00"),
        broken(7, "delivered_at", "2019-06-01"),  # over a year in transit
        ["just", "three", "cells"],
        ["x"] * 40,
    ]
    out = run_backtest(write(tmp_path / "b.csv", header, rows[:700] + bad + rows[700:]), SPLIT)
    assert out["rows_skipped"] == len(bad) and len(out["skipped_examples"]) == 5
    assert out["skipped_examples"][0] == "line 702: delivered_at out of range: '9999-12-31T23:59:59'"
    assert {k: out[k] for k in FIGURES} == {k: plain[k] for k in FIGURES}


def test_training_with_a_single_outcome_class_falls_back_to_lane_statistics(base, tmp_path):
    header, rows = base
    nothing = col(header, rows, "delivered_at", lambda r: r["delivered_at"] if after_split(r) else "")
    out = run_backtest(write(tmp_path / "h.csv", header, nothing), SPLIT)
    assert out["note"] == "training outcomes are all of one kind: lane statistics only, no calibration"
    assert out["n_test"] > 100 and out["brier"] is not None


def test_cli_reports_both_variants(base, tmp_path):
    header, rows = base
    path = write(tmp_path / "h.csv", header, rows + rows[:3])
    app = Flask(__name__)
    app.cli.add_command(group)
    args = ["risk", "backtest", str(path), "--split-date", SPLIT.isoformat(), "--frozen-outcomes"]
    out = json.loads(app.test_cli_runner().invoke(args=args).output)
    assert out["live_outcomes"] is False and out["duplicates_dropped"] == 3
    assert out["brier"] == out["variants"]["frozen_outcomes"]["brier"]
    assert set(out["variants"]) == {"live_outcomes", "frozen_outcomes"}
