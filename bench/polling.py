"""Polling benchmark: one worker against the sandbox carriers, and adaptive vs fixed-2h API calls.

Part 1 (throughput): 20,000 active shipments across all carriers in a SQLite database, sandbox
carriers in a separate process, realistic event counts (timelines started 0-60 h ago); one worker
process polls until nothing is due. Prints shipments/s, events/s, API calls and peak memory.

Part 2 (schedule): simulates every sandbox scenario's timeline under the adaptive policy and under a
fixed 2-hour schedule; prints polls per shipment-day and the freshness of at-risk parcels.

    python bench/polling.py [--shipments 20000] [--simulate 4000]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests  # noqa: E402

from carriers.numbers import make_tracking_number  # noqa: E402
from carriers.registry import CARRIERS  # noqa: E402
from carriers.sandbox.scenarios import DEFAULT_WEIGHTS, MILESTONE_STATUS, PROMISED_HOURS, Scenario, steps_for  # noqa: E402
from planning.poll_policy import PollPolicy, PollState, poll_interval  # noqa: E402


def _serve_sandbox(conn) -> None:
    from carriers.sandbox.server import SandboxServer, SandboxSettings

    server = SandboxServer(SandboxSettings(port=0, speed=1.0)).start()
    conn.send(server.url)
    while True:
        time.sleep(3600)


def _register(url: str, shipments: list[dict]) -> None:
    for start in range(0, len(shipments), 2000):
        requests.post(
            f"{url}/_sandbox/shipments", json=shipments[start : start + 2000], timeout=60
        ).raise_for_status()


def throughput(count: int) -> dict:
    """Poll `count` shipments once each through the real polling job; figures for one worker."""
    from sqlalchemy import insert, update

    from app import create_app
    from app.config import Config
    from app.extensions import db
    from app.models import Shipment, Shop
    from app.tracking.polling import poll_due_shipments

    parent, child = multiprocessing.Pipe()
    sandbox = multiprocessing.get_context("spawn").Process(target=_serve_sandbox, args=(child,), daemon=True)
    sandbox.start()
    url = parent.recv()
    rng = random.Random(5)
    codes = sorted(CARRIERS)
    weights = {scenario: w for scenario, w in DEFAULT_WEIGHTS.items() if w}
    now = datetime.now(UTC)
    numbers = [
        (codes[i % len(codes)], make_tracking_number(codes[i % len(codes)], 100000 + i)) for i in range(count)
    ]
    _register(
        url,
        [
            {
                "carrier": c,
                "tracking_number": n,
                "scenario": rng.choices(list(weights), list(weights.values()))[0],
                "created_at": (now - timedelta(hours=rng.uniform(0, 60))).isoformat(),
            }
            for c, n in numbers
        ],
    )
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(
            Config,
            SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder}/bench.db",
            SANDBOX_URL=url,
            POLL_MAX_SHIPMENTS_PER_RUN=2000,
            LOG_LEVEL="WARNING",
        )
        with app.app_context():
            db.create_all()
            shop = Shop(name="bench")
            db.session.add(shop)
            db.session.flush()
            db.session.execute(
                insert(Shipment),
                [
                    {
                        "shop_id": shop.id,
                        "carrier": c,
                        "tracking_number": n,
                        "status": "pending",
                        "poll_failures": 0,
                        "next_poll_at": now - timedelta(seconds=1),
                        "created_at": now,
                        "updated_at": now,
                        "promised_date": (now + timedelta(days=1)).date(),
                        "shipped_at": now - timedelta(hours=30),
                    }
                    for c, n in numbers
                ],
            )
            db.session.commit()
            # Warm-up (imports, first token fetches, model load) is not part of the sustained rate.
            warm = [s for s in numbers[: len(codes) * 4]]
            db.session.execute(
                update(Shipment)
                .where(Shipment.tracking_number.not_in([n for _, n in warm]))
                .values(next_poll_at=now + timedelta(seconds=1))
            )
            db.session.commit()
            poll_due_shipments(now=now)
            db.session.execute(
                update(Shipment)
                .values(next_poll_at=now - timedelta(seconds=1))
                .where(Shipment.last_checked_at.is_(None))
            )
            db.session.commit()
            started = time.perf_counter()
            totals = {"shipments": 0, "events": 0, "calls": 0, "errors": 0}
            while True:
                stats = poll_due_shipments(now=now)
                if not stats.calls:
                    break
                totals["shipments"] += stats.shipments
                totals["events"] += stats.events
                totals["calls"] += stats.calls
                totals["errors"] += sum(stats.errors.values())
            seconds = time.perf_counter() - started
    sandbox.terminate()
    totals["shipments"] += len(warm)
    return {
        **totals,
        "seconds": round(seconds, 2),
        "shipments_per_s": round(totals["shipments"] / seconds, 1),
        "events_per_s": round(totals["events"] / seconds, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def _timeline(scenario: Scenario, rng: random.Random) -> tuple[list[tuple[float, str]], float]:
    """A scenario's (hours, status) steps made realistic: labels printed before pickup, slower long-haul."""
    cross_border = rng.random() < 0.3
    pickup_wait = rng.uniform(0, 36)  # label created at registration; the carrier collects later
    stretch = rng.uniform(2.0, 4.0) if cross_border else 1.0
    steps = []
    for step in steps_for(scenario, cross_border):
        hours = 0.0 if step.hours == 0 else pickup_wait + step.hours * stretch
        steps.append((hours, MILESTONE_STATUS[step.milestone][0].value))
    return steps, pickup_wait + PROMISED_HOURS * stretch


def _risk(status: str, hours: float, last_scan: float, promised: float) -> str | None:
    """A stand-in for the prediction: late after the promise, stuck after a day without scans."""
    if status in {"delivered", "returned", "returning", "available_for_pickup"}:
        return None  # an outcome is known, or the parcel waits for the customer
    if status not in {"info_received", "pending"} and hours - last_scan > 24:
        return "stuck"
    if hours > promised:
        return "late"
    return "at_risk" if status == "exception" else None


def _run(
    timeline, promised: float, schedule: str, policy: PollPolicy, horizon: float, rng
) -> tuple[int, list[float]]:
    """Polls spent on one shipment and the staleness of each change seen while it was at risk."""
    start = datetime(2026, 11, 23, tzinfo=UTC)
    hours, seen, polls, stale = rng.uniform(0, 0.5), -1, 0, []
    final_at = timeline[-1][0] if timeline and timeline[-1][1] in {"delivered", "returned"} else None
    changed_at = 0.0
    while hours < horizon:
        polls += 1
        visible = [i for i, (at, _) in enumerate(timeline) if at <= hours]
        index = visible[-1] if visible else -1
        status = timeline[index][1] if index >= 0 else "pending"
        for j in range(seen + 1, index + 1):
            at = timeline[j][0]
            previous_scan = timeline[j - 1][0] if j else 0.0
            if _risk(timeline[j - 1][1] if j else "pending", at, previous_scan, promised) in {
                "at_risk",
                "late",
            }:
                stale.append(hours - at)
        if index != seen:
            seen, changed_at = index, hours
        if schedule == "fixed_2h":
            if final_at is not None and index == len(timeline) - 1:
                break
            hours += 2
            continue
        last_scan = timeline[index][0] if index >= 0 else 0.0
        state = PollState(
            "bring",
            status,
            risk_state=_risk(status, hours, last_scan, promised),
            expected_at=start + timedelta(hours=promised),
            status_changed_at=start + timedelta(hours=changed_at),
        )
        interval = poll_interval(state, start + timedelta(hours=hours), policy)
        if interval is None:
            break
        hours += interval.total_seconds() / 3600
    return polls, stale


def simulate(count: int, horizon_hours: float = 240.0) -> dict:
    """Polls per shipment-day and at-risk freshness: adaptive policy vs a fixed 2-hour rhythm.

    Both schedules are charged the same shipment-days (registration to the final event, or the
    horizon for parcels that never arrive); the fixed one stops at the final event, the adaptive one
    also pays its grace re-check.
    """
    weights = {scenario: w for scenario, w in DEFAULT_WEIGHTS.items() if w}
    rng = random.Random(9)
    lives = []
    for _ in range(count):
        scenario = rng.choices(list(weights), list(weights.values()))[0]
        timeline, promised = _timeline(scenario, rng)
        lives.append((timeline, promised))
    days = sum(
        (t[-1][0] if t and t[-1][1] in {"delivered", "returned"} else horizon_hours) / 24 for t, _ in lives
    )
    result = {}
    for schedule in ("adaptive", "fixed_2h"):
        polls, stale = 0, []
        run_rng = random.Random(3)
        for timeline, promised in lives:
            spent, staleness = _run(timeline, promised, schedule, PollPolicy(), horizon_hours, run_rng)
            polls += spent
            stale += staleness
        result[schedule] = {
            "polls_per_shipment_day": round(polls / days, 2),
            "at_risk_changes_seen": len(stale),
            "at_risk_mean_staleness_h": round(sum(stale) / max(1, len(stale)), 2),
            "at_risk_p90_staleness_h": round(sorted(stale)[int(0.9 * (len(stale) - 1))], 2)
            if stale
            else None,
        }
    result["adaptive_share_of_fixed_calls"] = round(
        result["adaptive"]["polls_per_shipment_day"] / result["fixed_2h"]["polls_per_shipment_day"], 3
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shipments", type=int, default=20000)
    parser.add_argument("--simulate", type=int, default=4000)
    args = parser.parse_args()
    print(json.dumps({"schedule": simulate(args.simulate)}, indent=2))
    print(json.dumps({"throughput": throughput(args.shipments)}, indent=2))


if __name__ == "__main__":
    main()
