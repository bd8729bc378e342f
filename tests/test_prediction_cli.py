from __future__ import annotations

import json

from flask import Flask

from app.cli.risk import group


def test_generate_history_then_backtest_prints_the_figures(tmp_path):
    app = Flask(__name__)
    app.cli.add_command(group)
    runner = app.test_cli_runner()
    history, events = tmp_path / "h.csv", tmp_path / "e.csv"
    args = ["risk", "generate-history", str(history), "--events", str(events), "--n", "3000", "--seed", "5"]
    made = runner.invoke(args=args + ["--days", "200"])
    assert made.exit_code == 0, made.output
    assert json.loads(made.output)["rows"] == 3000
    with history.open("a") as fh:
        fh.write("broken,row\n")
    args = ["risk", "backtest", str(history), "--split-date", "2023-06-01", "--events", str(events)]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    figures = {"auc", "brier", "ece", "eta_mae_days", "p90_coverage"}
    assert figures | {"n_train", "n_test", "late_rate", "baselines", "events", "rows_skipped"} <= set(out)
    assert set(out["baselines"]) == {"promise", "lane_median"}
    assert all(set(b) == figures for b in out["baselines"].values())
    assert set(out["events"]) == {
        "n_predictions",
        "late_shipments",
        "late_flagged_share",
        "flagged_before_promise_share",
        "lead_time_days_median",
        "lead_time_days_mean",
        "false_alarm_rate",
    }
    assert out["n_train"] + out["n_test"] <= 3000 and out["n_test"] > 0
    assert out["rows_skipped"] == 1 and out["skipped_examples"] == ["line 3002: shipped_at is empty"]


def test_backtest_rejects_a_bad_split_date(tmp_path):
    app = Flask(__name__)
    app.cli.add_command(group)
    path = tmp_path / "h.csv"
    path.write_text("x\n")
    result = app.test_cli_runner().invoke(args=["risk", "backtest", str(path), "--split-date", "June"])
    assert result.exit_code == 2
    assert "expected YYYY-MM-DD" in result.output
