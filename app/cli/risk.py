"""`leveranse risk …`: backtest the delivery-risk model, report on our own outcomes, generate history."""

from __future__ import annotations

import json
from datetime import date

import click
from flask.cli import with_appcontext

from app.cli import LazyChoice

# Only `report` reads the database; backtests and generated history are files in, files out.
group = click.Group("risk", help="Delivery-risk prediction: backtests, outcome report and sandbox history.")


def _date(ctx: click.Context, param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("expected YYYY-MM-DD") from None


@group.command("backtest")
@click.argument("history", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--split-date", required=True, callback=_date, help="Train on shipments shipped before this date."
)
@click.option(
    "--events", "events", type=click.Path(exists=True, dir_okay=False), help="EVENTS.csv for lead times."
)
@click.option(
    "--frozen-outcomes",
    is_flag=True,
    help="Recent performance from training outcomes only (default: also test outcomes known by then).",
)
def backtest_command(history: str, split_date: date, events: str | None, frozen_outcomes: bool) -> None:
    """Train before --split-date, predict later shipments at handoff, print the figures as JSON."""
    from planning.prediction.backtest import run_backtest

    try:
        result = run_backtest(history, split_date, events, live_outcomes=not frozen_outcomes)
    except ValueError as err:  # a missing required column: the file as a whole is unusable
        raise click.ClickException(str(err)) from None
    click.echo(json.dumps(result, indent=2))


@group.command("report")
@click.option("--since", callback=_date, help="First delivery date to include (YYYY-MM-DD).")
@click.option("--until", callback=_date, help="Last delivery date to include (YYYY-MM-DD).")
@click.option("--json", "as_json", is_flag=True, help="Print the whole report as JSON.")
@with_appcontext
def report_command(since: date | None, until: date | None, as_json: bool) -> None:
    """Delay warnings, at-risk queue, calibration and ETA error on our delivered shipments."""
    from app.risk.report import risk_report

    report = risk_report(since, until)
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    for line in format_report(report):
        click.echo(line)


def format_report(report: dict) -> list[str]:
    """The report as text: one line per group, the reliability table and the caveats."""
    from app.risk.report import format_share

    header = f"{'':<12} {'deliv':>6} {'late':>5} {'warned':>6} {'prec':>8} {'recall':>8} {'lead h':>7} "
    header += f"{'queue':>5} {'q.prec':>8} {'ECE':>6} {'MAE h':>7} {'p10-p90':>8}"
    lines = [header]

    def row(name: str, f: dict) -> str:
        w, q, c, e = f["warnings"], f["queue"], f["calibration"], f["eta"]
        lead = "–" if w["lead_time_hours_median"] is None else f"{w['lead_time_hours_median']:.1f}"
        ece = "–" if c["ece"] is None else f"{c['ece']:.3f}"
        mae = "–" if e["mae_hours"] is None else f"{e['mae_hours']:.1f}"
        return (
            f"{name[:12]:<12} {w['delivered']:>6} {w['late']:>5} {w['warned']:>6} "
            f"{format_share(w['precision']):>8} {format_share(w['recall']):>8} {lead:>7} {q['flagged']:>5} "
            f"{format_share(q['precision']):>8} {ece:>6} {mae:>7} {format_share(e['p10_p90_coverage']):>8}"
        )

    lines.append(row("all", report["overall"]))
    for title in ("by_carrier", "by_week"):
        lines.append(title.replace("_", " ") + ":")
        lines.extend(row(name, figures) for name, figures in report[title].items())
    lines.append("p_late reliability (last score before delivery):")
    for b in report["overall"]["calibration"]["table"]:
        if b["n"]:
            lines.append(
                f"  {b['bin']}  n={b['n']:<6} mean p={b['mean_p_late']:.3f}  late={b['observed_late']:.3f}"
            )
    told = report["overall"]["warnings"]
    lines.append(
        f"late parcels warned before their promise ended: {format_share(told['warned_before_deadline_share'])}"
        f" (lead h is their median); told only after it: {told['told_after_deadline']}"
    )
    first = report["at_first_score"]
    ece, mae = first["calibration"]["ece"], first["eta"]["mae_hours"]
    lines.append(
        f"at the first stored prediction ({first['calibration']['n']} shipments): ECE "
        f"{'–' if ece is None else f'{ece:.3f}'}, ETA MAE {'–' if mae is None else f'{mae:.1f}'} h, "
        f"p10-p90 {format_share(first['eta']['p10_p90_coverage'])}"
    )
    now = report["queue_now"]
    lines.append(
        f"queue now: {now['in_queue']} of {now['active']} active ({format_share(now['share'])}); "
        f"{now['warned_awaiting_outcome']} warned parcels still travelling"
    )
    lines.extend(f"note: {text}" for text in report["limitations"])
    return lines


def _history_modes() -> list[str]:
    from carriers.sandbox.history import HistoryMode

    return [m.value for m in HistoryMode]


@group.command("generate-history")
@click.argument("out", type=click.Path(dir_okay=False, writable=True))
@click.option(
    "--events", "events_out", type=click.Path(dir_okay=False, writable=True), help="Also write EVENTS.csv."
)
@click.option("--n", "n", default=10_000, show_default=True, type=click.IntRange(1, 2_000_000))
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--start", default="2023-01-02", show_default=True, callback=_date, help="First handoff date.")
@click.option("--days", default=540, show_default=True, type=click.IntRange(1, 3650), help="Days of history.")
@click.option(
    "--mode",
    type=LazyChoice(_history_modes),
    default="parcel",
    show_default=True,
    help="parcel: a shop with several carriers and scans; marketplace: many sellers, one carrier, no scans.",
)
def generate_history_command(
    out: str, events_out: str | None, n: int, seed: int, start: date, days: int, mode: str
) -> None:
    """Write a realistic synthetic HISTORY.csv (and EVENTS.csv) from the sandbox generator."""
    from carriers.sandbox.history import generate_history
    from planning.prediction.io import write_events_csv, write_history_csv

    shipments = generate_history(n, seed=seed, start=start, days=days, mode=mode)
    summary = {"history": out, "rows": write_history_csv(out, (s.record for s in shipments))}
    if events_out:
        summary |= {
            "events": events_out,
            "event_rows": write_events_csv(events_out, (e for s in shipments for e in s.events)),
        }
    click.echo(json.dumps(summary))
