"""Three real `leveranse worker` processes on one PostgreSQL database against the sandbox carriers.

Chaos: about 20 % of carrier calls fail (timeouts, 5xx, 429 with Retry-After, malformed bodies, partial
batches), two workers are SIGKILLed mid-run and restarted, then the faults stop. Afterwards: no deadlock,
every scan the sandbox served is stored once, no parcel was asked about twice for one due time except
the crashed workers' own claims, no risk message was queued for a finished parcel, and each crash sent
at most one e-mail twice. Scale: 5,000 shipments, each polled exactly once per due time.

Skipped unless LEVERANSE_TEST_DATABASE_URL names a PostgreSQL database; CI runs them (marker `chaos`).
Each takes about 2 minutes on two cores.
"""

from __future__ import annotations

import email
import email.policy
import os
import random
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select, text, update

from app.extensions import db
from app.models import DeliveryAttempt, Notification, Shipment, TrackingEvent
from app.notify.settings import default_settings
from carriers.model import TERMINAL_STATUSES
from carriers.numbers import make_tracking_number
from carriers.registry import CARRIERS
from carriers.sandbox.faults import FaultKind, FaultSpec
from carriers.sandbox.request_log import LoggedRequest
from carriers.sandbox.scenarios import DEFAULT_WEIGHTS
from carriers.sandbox.server import SandboxServer, SandboxSettings
from notifications.mail_sandbox import MailSandbox
from notifications.model import Trigger
from tests.factories import make_shop
from tests.worker_fleet import WorkerFleet

pytestmark = [
    pytest.mark.chaos,
    pytest.mark.skipif(
        not os.environ.get("LEVERANSE_TEST_DATABASE_URL", "").startswith("postgresql"),
        reason="needs a PostgreSQL database in LEVERANSE_TEST_DATABASE_URL",
    ),
    pytest.mark.timeout(300),
]

SPEED = 120.0  # sandbox seconds per real second: a real minute is two hours of parcel life
SHIPMENTS = 600
# The shortest wait the poll policy sets after a clean answer (at risk: 105 min, less 10 % jitter), with
# room for the clocks of three processes: a second call sooner is a second poll for the same due time.
MIN_GAP = timedelta(minutes=90)
FAULTS = (  # about 20 % of tracking requests, every kind the sandbox serves
    FaultSpec(FaultKind.SERVER_ERROR, probability=0.05),
    FaultSpec(FaultKind.RATE_LIMIT, probability=0.04, retry_after=1),
    FaultSpec(FaultKind.TIMEOUT, probability=0.04, delay=1.5),
    FaultSpec(FaultKind.MALFORMED, probability=0.04),
    FaultSpec(FaultKind.PARTIAL, probability=0.05),
)
RISK_TRIGGERS = (Trigger.PREDICTED_DELAY.value, Trigger.STUCK.value, Trigger.BACK_ON_TRACK.value)


def _worker_env(database_url: str, tmp_path, **settings: object) -> dict[str, str]:
    env = {
        "DATABASE_URL": database_url,
        "INSTANCE_DIR": str(tmp_path),
        "SECRET_KEY": "chaos-test-key",
        "CARRIER_MODE": "sandbox",
        "CLOCK": "sandbox",
        "GEOCODER_URL": "http://127.0.0.1:9",
        "WEBHOOKS_ALLOW_PRIVATE": "1",
        "POLL_INTERVAL_SECONDS": "0.5",
        "LOG_LEVEL": "WARNING",
    }
    env.update({key: str(value) for key, value in settings.items()})
    return {f"LEVERANSE_{key}": value for key, value in env.items()}


def _seed(sandbox: SandboxServer, count: int, *, emails: bool, seed: int) -> dict[str, int]:
    """`count` shipments spread over every carrier and scenario, started 30–60 h ago (many reach their
    last mile during the run), all due now; returns shipment ids by tracking number."""
    rng = random.Random(seed)
    shop, _ = make_shop("Chaos shop")
    settings = default_settings(shop.id)
    settings.channels = ["email"]
    db.session.add(settings)
    db.session.commit()
    codes = sorted(CARRIERS)
    weights = {scenario: weight for scenario, weight in DEFAULT_WEIGHTS.items() if weight}
    now = sandbox.now()
    rows = []
    for i in range(count):
        code = codes[i % len(codes)]
        number = make_tracking_number(code, 300000 + seed * 100000 + i)
        started = now - timedelta(hours=rng.uniform(30, 60))
        scenario = rng.choices(list(weights), list(weights.values()))[0]
        sandbox.register(code, number, scenario, created_at=started)
        rows.append(
            {
                "shop_id": shop.id,
                "carrier": code,
                "tracking_number": number,
                "status": "pending",
                "poll_failures": 0,
                "next_poll_at": now,
                "created_at": started,
                "updated_at": now,
                "shipped_at": started,
                "promised_date": (started + timedelta(hours=44)).date(),
                "customer_email": f"kunde{i}@example.no" if emails else None,
                "customer_timezone": "UTC",
                "customer_language": "en",
            }
        )
    db.session.execute(insert(Shipment), rows)
    db.session.commit()
    return dict(db.session.execute(select(Shipment.tracking_number, Shipment.id)).all())


def _watch_risk_messages() -> None:
    """A database trigger notes every risk message inserted while its parcel is finished, as committed
    at that moment: a worker that decided on a stale read would be caught here."""
    terminal = ", ".join(f"'{status.value}'" for status in sorted(TERMINAL_STATUSES))
    risk = ", ".join(f"'{trigger}'" for trigger in RISK_TRIGGERS)
    for statement in (
        "CREATE TABLE chaos_risk_violation (notification_id int, shipment_id int, trigger text, status text)",
        f"""CREATE FUNCTION chaos_check_risk() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO chaos_risk_violation
            SELECT NEW.id, s.id, NEW.trigger, s.status FROM shipment s
            WHERE s.id = NEW.shipment_id AND s.status IN ({terminal});
          RETURN NULL;
        END $$""",
        f"""CREATE TRIGGER chaos_check_risk AFTER INSERT ON notification FOR EACH ROW
        WHEN (NEW.trigger IN ({risk})) EXECUTE FUNCTION chaos_check_risk()""",
    ):
        db.session.execute(text(statement))
    db.session.commit()


def _unwatch_risk_messages() -> None:
    db.session.rollback()
    db.session.execute(text("DROP TRIGGER IF EXISTS chaos_check_risk ON notification"))
    db.session.execute(text("DROP FUNCTION IF EXISTS chaos_check_risk()"))
    db.session.execute(text("DROP TABLE IF EXISTS chaos_risk_violation"))
    db.session.commit()


def _by_number(entries: list[LoggedRequest]) -> dict[str, list[LoggedRequest]]:
    found: dict[str, list[LoggedRequest]] = defaultdict(list)
    for entry in entries:
        found[entry.tracking_number].append(entry)
    for calls in found.values():
        calls.sort(key=lambda e: (e.at, e.seq))
    return found


def _repeated_polls(entries: list[LoggedRequest]) -> list[tuple[LoggedRequest, LoggedRequest]]:
    """Pairs (clean answer, next call for the same number sooner than any schedule allows)."""
    pairs = []
    for calls in _by_number(entries).values():
        for first, second in zip(calls, calls[1:], strict=False):
            if first.served and second.at - first.at < MIN_GAP:
                pairs.append((first, second))
    return pairs


def _kill_mid_run(fleet: WorkerFleet, sandbox: SandboxServer, slot: int, seconds: float = 20) -> None:
    """SIGKILL a worker right after the sandbox saw it ask for something, then start a new one."""
    port = fleet.workers[slot].port
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        recent = sandbox.requests()[-300:]
        if any(e.port == port and time.time() - e.wall < 0.1 for e in recent):
            break
        time.sleep(0.02)
    fleet.kill(slot)
    fleet.start(slot)


def _wait_quiet(fleet: WorkerFleet, sandbox: SandboxServer, seconds: float) -> None:
    """Until no carrier call and no due outbox row for 3 s (or `seconds` pass)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        fleet.check_alive()
        last = sandbox.requests()[-1:]
        busy = db.session.scalar(select(func.count()).where(Notification.state.in_(["pending", "sending"])))
        db.session.rollback()
        if (not last or time.time() - last[0].wall > 3) and not busy:
            return
        time.sleep(0.5)


def _polled(count: int) -> int:
    done = db.session.scalar(select(func.count()).where(Shipment.last_checked_at.is_not(None)))
    db.session.rollback()
    return done if done < count else count


def _run_chaos(app, database_url, tmp_path, sandbox, fleet_box) -> dict:
    with MailSandbox() as inbox:
        numbers = _seed(sandbox, SHIPMENTS, emails=True, seed=1)
        _watch_risk_messages()
        db.session.remove()
        for spec in FAULTS:
            sandbox.add_fault(spec)
        env = _worker_env(
            database_url,
            tmp_path,
            CARRIER_TIMEOUT_SECONDS=1.0,
            # Leases are in service time: at 120× these are 15 s and 30 s of real time.
            POLL_LEASE_SECONDS=1800,
            OUTBOX_LEASE_SECONDS=3600,
            POLL_MAX_SHIPMENTS_PER_RUN=200,
            RISK_RESCORE_INTERVAL_SECONDS=15,
            NOTIFY_SCAN_INTERVAL_SECONDS=10,
            CLAIM_DETECT_INTERVAL_SECONDS=15,
            CLAIM_PROGRESS_INTERVAL_SECONDS=15,
            SMTP_HOST=inbox.host,
            SMTP_PORT=inbox.port,
        )
        fleet = fleet_box(WorkerFleet(sandbox, env, tmp_path))
        for slot in range(3):
            fleet.start(slot)
        fleet.wait_ready()
        sandbox.set_speed(SPEED)  # parcel time starts when every worker is up
        started = time.monotonic()
        # First crash once a third of the parcels has been polled, the second once every parcel has been.
        for slot, share in ((0, 1 / 3), (1, 1.0)):
            deadline = time.monotonic() + 60
            while _polled(len(numbers)) < share * len(numbers) and time.monotonic() < deadline:
                fleet.check_alive()
                time.sleep(0.2)
            _kill_mid_run(fleet, sandbox, slot)
        fleet.wait_ready()
        time.sleep(max(0.0, 10 - (time.monotonic() - started)))
        faults = sandbox.stats()["total_faults"]
        sandbox.clear_faults()
        # Calm: longer than both leases, so every crashed worker's claims and sends are taken over.
        time.sleep(35)
        fleet.check_alive()
        sandbox.set_speed(0)
        time.sleep(3)  # the workers' clocks re-read the sandbox every 2 s
        _wait_quiet(fleet, sandbox, 30)
        fleet.stop()
        return {"numbers": numbers, "faults": faults, "mail": list(inbox.messages), "fleet": fleet}


@pytest.fixture
def sandbox():
    start = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)
    with SandboxServer(SandboxSettings(speed=0, start=start, fault_seed=7)) as running:
        yield running


@pytest.fixture
def fleet_box():
    """Whatever fleet the test starts is stopped afterwards, even when it fails."""
    fleets: list[WorkerFleet] = []

    def keep(fleet: WorkerFleet) -> WorkerFleet:
        fleets.append(fleet)
        return fleet

    yield keep
    for fleet in fleets:
        fleet.stop()


def test_three_workers_with_faults_and_two_crashes_lose_and_double_nothing(
    app, database_url, tmp_path, sandbox, fleet_box
) -> None:
    try:
        run = _run_chaos(app, database_url, tmp_path, sandbox, fleet_box)
        violations = db.session.execute(text("SELECT * FROM chaos_risk_violation")).all()
    finally:
        _unwatch_risk_messages()
    fleet: WorkerFleet = run["fleet"]
    logs = fleet.logs()
    assert "deadlock" not in logs.lower(), "a worker hit a deadlock"
    assert "Traceback" not in logs, logs[logs.index("Traceback") - 2000 :][:6000]
    assert " failed (attempt " not in logs, "an ingest transaction failed"
    assert run["faults"] > 50, "the sandbox served too few faults for a chaos test"

    entries = sandbox.requests()
    numbers: dict[str, int] = run["numbers"]
    assert {e.tracking_number for e in entries} == set(numbers), "some parcels were never polled"

    # Events: none doubled, and every scan of the newest clean answer is stored.
    doubled = db.session.execute(
        select(TrackingEvent.shipment_id, TrackingEvent.content_hash)
        .group_by(TrackingEvent.shipment_id, TrackingEvent.content_hash)
        .having(func.count() > 1)
    ).all()
    assert doubled == []
    stored = dict(
        db.session.execute(
            select(TrackingEvent.shipment_id, func.count()).group_by(TrackingEvent.shipment_id)
        ).all()
    )
    served = {
        number: max((e.scans for e in calls if e.served), default=0)
        for number, calls in _by_number(entries).items()
    }
    wrong = {
        n: (served[n], stored.get(numbers[n], 0)) for n in served if served[n] != stored.get(numbers[n], 0)
    }
    assert wrong == {}, (
        f"scans served vs events stored differ for {len(wrong)} parcels: {list(wrong.items())[:10]}"
    )

    # Carrier calls: a second call within one due window only for what a crashed worker had claimed.
    repeated = _repeated_polls(entries)
    foreign = [(a.to_json(), b.to_json()) for a, b in repeated if a.port not in fleet.killed_ports]
    assert foreign == [], f"{len(foreign)} parcels polled twice for one due time: {foreign[:5]}"
    assert len(repeated) <= 2 * 200, "more repeats than the crashed workers could have claimed"

    # Risk messages: none queued while the parcel was finished; and there were risk messages to check.
    assert violations == []
    risk_messages = db.session.scalar(select(func.count()).where(Notification.trigger.in_(RISK_TRIGGERS)))
    assert risk_messages > 0, "no risk message was queued: the check above proved nothing"

    # E-mails: each crash may re-send at most the one message it was sending.
    ids = Counter(
        email.message_from_bytes(raw, policy=email.policy.default)["Message-ID"] for _, _, raw in run["mail"]
    )
    assert len(ids) > 30, "too few e-mails were sent for the crash check to mean anything"
    duplicates = sum(n - 1 for n in ids.values())
    twice = {message_id for message_id, n in ids.items() if n > 1}
    explained = set(
        db.session.scalars(
            select(Notification.provider_id)
            .join(DeliveryAttempt, DeliveryAttempt.notification_id == Notification.id)
            .where(Notification.provider_id.in_(twice), DeliveryAttempt.outcome == "interrupted")
        )
    )
    assert twice <= explained, (
        f"e-mails sent twice without a crash cutting their attempt: {twice - explained}"
    )
    assert duplicates <= len(fleet.killed_ports), f"{duplicates} e-mails sent twice after 2 crashes"
    states = dict(
        db.session.execute(select(Notification.state, func.count()).group_by(Notification.state)).all()
    )
    assert "sending" not in states and "pending" not in states, states
    print(
        f"\nchaos: {len(entries)} numbers asked, {run['faults']} faults, {len(repeated)} repeats after "
        f"crashes, {risk_messages} risk messages, {sum(ids.values())} e-mails ({duplicates} twice), "
        f"{sum(stored.values())} events"
    )


def test_three_workers_poll_5000_shipments_once_per_due_time(app, database_url, tmp_path, fleet_box) -> None:
    with SandboxServer(SandboxSettings(speed=1.0)) as sandbox:
        numbers = _seed(sandbox, 5000, emails=False, seed=2)
        db.session.remove()
        env = _worker_env(database_url, tmp_path, CLOCK="wall", POLL_MAX_SHIPMENTS_PER_RUN=1000)
        fleet = fleet_box(WorkerFleet(sandbox, env, tmp_path))
        for slot in range(3):
            fleet.start(slot)
        fleet.wait_ready()
        timings = []
        for round_number in (1, 2):
            since = datetime.now(UTC)  # round 1: every shipment is due from seeding on
            if round_number == 2:
                # A second due time for every shipment at once.
                db.session.execute(update(Shipment).values(next_poll_at=since))
                db.session.commit()
            else:
                since = datetime.min.replace(tzinfo=UTC)
            started = time.monotonic()
            deadline = started + 90
            while True:
                fleet.check_alive()
                done = db.session.scalar(select(func.count()).where(Shipment.last_checked_at >= since))
                db.session.rollback()
                if done == len(numbers):
                    break
                assert time.monotonic() < deadline, f"round {round_number}: only {done} polled in 90 s"
                time.sleep(0.2)
            timings.append(time.monotonic() - started)
        time.sleep(2)  # a double poll would show now
        fleet.stop()
        entries = sandbox.requests()
    calls = Counter(e.tracking_number for e in entries)
    assert set(calls) == set(numbers)
    wrong = {number: n for number, n in calls.items() if n != 2}
    assert wrong == {}, (
        f"{len(wrong)} shipments not polled exactly once per due time: {list(wrong.items())[:10]}"
    )
    assert all(e.served for e in entries)
    logs = fleet.logs()
    assert "deadlock" not in logs.lower() and "Traceback" not in logs
    print(f"\nscale: 5,000 shipments per round in {timings[0]:.1f} s and {timings[1]:.1f} s with 3 workers")
