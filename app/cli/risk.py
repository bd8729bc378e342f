"""`leveranse risk …`: backtest the delivery-risk model and generate sandbox history files."""

from __future__ import annotations

import json
from datetime import date

import click
from flask.cli import AppGroup

from carriers.sandbox.history import HistoryMode, generate_history
from planning.prediction.backtest import run_backtest
from planning.prediction.io import write_events_csv, write_history_csv

group = AppGroup("risk", help="Delivery-risk prediction: backtests and sandbox history.")


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
    try:
        result = run_backtest(history, split_date, events, live_outcomes=not frozen_outcomes)
    except ValueError as err:  # a missing required column: the file as a whole is unusable
        raise click.ClickException(str(err)) from None
    click.echo(json.dumps(result, indent=2))


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
    type=click.Choice([m.value for m in HistoryMode]),
    default=HistoryMode.PARCEL.value,
    show_default=True,
    help="parcel: a shop with several carriers and scans; marketplace: many sellers, one carrier, no scans.",
)
def generate_history_command(
    out: str, events_out: str | None, n: int, seed: int, start: date, days: int, mode: str
) -> None:
    """Write a realistic synthetic HISTORY.csv (and EVENTS.csv) from the sandbox generator."""
    shipments = generate_history(n, seed=seed, start=start, days=days, mode=mode)
    summary = {"history": out, "rows": write_history_csv(out, (s.record for s in shipments))}
    if events_out:
        summary |= {
            "events": events_out,
            "event_rows": write_events_csv(events_out, (e for s in shipments for e in s.events)),
        }
    click.echo(json.dumps(summary))
