"""The polling job: claim due shipments, fetch them from carriers in threads, ingest them here."""

from __future__ import annotations

import logging
import time
from collections import Counter as Tally
from collections import defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError

from app import metrics
from app.database import is_postgresql
from app.extensions import db
from app.models import Shipment
from app.models.types import utcnow
from app.process_figures import record_carrier_call
from app.tracking.carrier_clients import get_carrier
from app.tracking.ingest import select_update
from app.tracking.updates import PollHint, process_no_update, process_updates
from carriers.errors import CarrierError, TrackingFailure, TrackingNotFound
from carriers.model import TrackingUpdate
from carriers.numbers import normalise_number

log = logging.getLogger(__name__)


@dataclass
class PollStats:
    """What one polling run did."""

    shipments: int = 0
    events: int = 0
    calls: int = 0
    status_changes: int = 0
    errors: Tally = field(default_factory=Tally)

    def add(self, other: PollStats) -> None:
        """Count what `other` (one committed chunk) did."""
        self.shipments += other.shipments
        self.events += other.events
        self.calls += other.calls
        self.status_changes += other.status_changes
        self.errors.update(other.errors)


def claim_due_shipments(carrier: str, limit: int, now: datetime) -> list[tuple[int, str]]:
    """Lease up to `limit` due shipments of one carrier (their ids and numbers) so no other worker polls them.

    One UPDATE … WHERE id IN (SELECT … LIMIT n [FOR UPDATE SKIP LOCKED]) RETURNING id: atomic on
    SQLite (one writer at a time) and, on PostgreSQL, concurrent workers skip each other's rows.
    """
    due = (
        select(Shipment.id)
        .where(Shipment.carrier == carrier, Shipment.deleted_at.is_(None), Shipment.next_poll_at <= now)
        .order_by(Shipment.next_poll_at)
        .limit(limit)
    )
    if is_postgresql():
        due = due.with_for_update(skip_locked=True)
    lease_until = now + timedelta(seconds=current_app.config["POLL_LEASE_SECONDS"])
    claim = (
        update(Shipment)
        .where(Shipment.id.in_(due.scalar_subquery()))
        .values(next_poll_at=lease_until)
        .returning(Shipment.id, Shipment.tracking_number)
        .execution_options(synchronize_session=False)
    )
    claimed = [(row.id, row.tracking_number) for row in db.session.execute(claim)]
    db.session.commit()
    return claimed


def due_carriers(now: datetime) -> list[str]:
    """Carriers that have at least one shipment due."""
    query = (
        select(Shipment.carrier)
        .where(Shipment.deleted_at.is_(None), Shipment.next_poll_at <= now)
        .group_by(Shipment.carrier)
    )
    return list(db.session.scalars(query))


def _chunks(items: Sequence[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def _fetch(client, numbers: list[str]) -> tuple[list[TrackingUpdate | TrackingFailure] | CarrierError, float]:
    started = time.perf_counter()
    try:
        result: list | CarrierError = client.track(numbers)
    except CarrierError as error:
        result = error
    return result, time.perf_counter() - started


def poll_due_shipments(now: datetime | None = None) -> PollStats:
    """One run of the polling job over every carrier with due shipments."""
    now = now or utcnow()
    config = current_app.config
    stats = PollStats()
    budget = config["POLL_MAX_SHIPMENTS_PER_RUN"]
    work: list[tuple[str, list[str]]] = []
    for carrier in due_carriers(now):
        if carrier not in config["CARRIERS"]:
            continue
        claimed = claim_due_shipments(carrier, budget, now)
        budget -= len(claimed)
        numbers = sorted({normalise_number(number) for _, number in claimed})
        client = get_carrier(carrier)
        work.extend((carrier, batch) for batch in _chunks(numbers, client.batch_size))
        if budget <= 0:
            break
    if not work:
        return stats
    chunk = config["POLL_INGEST_CHUNK"]
    with ThreadPoolExecutor(max_workers=config["POLL_FETCH_THREADS"]) as pool:
        futures = {
            pool.submit(_fetch, get_carrier(carrier), batch): (carrier, batch) for carrier, batch in work
        }
        done: list[FetchedBatch] = []
        for remaining, future in enumerate(as_completed(futures), start=1):
            carrier, batch = futures[future]
            result, seconds = future.result()
            metrics.poll_batch_seconds.labels(carrier).observe(seconds)
            record_carrier_call(carrier, result.kind if isinstance(result, CarrierError) else "ok", seconds)
            stats.calls += 1
            done.append(FetchedBatch(carrier, batch, result))
            if sum(len(item.numbers) for item in done) >= chunk or remaining == len(futures):
                # One transaction per chunk: a crash loses only uncommitted work, re-polled after the lease.
                _ingest_chunk(done, stats, now)
                done = []
    return stats


def _ingest_chunk(batches: list[FetchedBatch], stats: PollStats, now: datetime) -> None:
    """Ingest one chunk in its own transaction; a database failure (a deadlock, a lost connection) is
    retried once with the answers already fetched, so the carrier is not asked again. If it fails twice the
    chunk's shipments are released for the next run instead of staying hidden until their lease ends."""
    for attempt in range(2):
        counted = PollStats()
        try:
            _ingest_results(batches, counted)
            db.session.commit()
            stats.add(counted)
            return
        except DBAPIError as error:
            db.session.rollback()
            log.warning("ingest of %d batches failed (attempt %d): %s", len(batches), attempt + 1, error.orig)
    stats.errors["ingest_failed"] += 1
    for batch in batches:
        db.session.execute(
            update(Shipment)
            .where(Shipment.carrier == batch.carrier, Shipment.tracking_number.in_(batch.numbers))
            .values(next_poll_at=now)
            .execution_options(synchronize_session=False)
        )
    db.session.commit()


@dataclass(frozen=True)
class FetchedBatch:
    """One carrier call's answer (or its error) for the numbers it asked about."""

    carrier: str
    numbers: list[str]
    result: list[TrackingUpdate | TrackingFailure] | CarrierError


def _watched_shipments(batches: list[FetchedBatch]) -> dict[tuple[str, str], list[Shipment]]:
    """The shipments behind a chunk's numbers, one query per carrier (several shops may share a number)."""
    numbers: dict[str, set[str]] = defaultdict(set)
    for batch in batches:
        numbers[batch.carrier].update(batch.numbers)
    found: dict[tuple[str, str], list[Shipment]] = defaultdict(list)
    for carrier, wanted in numbers.items():
        query = select(Shipment).where(
            Shipment.carrier == carrier, Shipment.tracking_number.in_(wanted), Shipment.deleted_at.is_(None)
        )
        for shipment in db.session.scalars(query):
            found[(carrier, shipment.tracking_number)].append(shipment)
    return found


def _ingest_results(batches: list[FetchedBatch], stats: PollStats) -> None:
    now = utcnow()
    pairs: list[tuple[Shipment, TrackingUpdate]] = []
    watched = _watched_shipments(batches)
    for batch in batches:
        shipments = [s for number in batch.numbers for s in watched.get((batch.carrier, number), ())]
        if isinstance(batch.result, CarrierError):
            error = batch.result
            metrics.carrier_calls.labels(batch.carrier, error.kind).inc()
            log.warning(
                "%s batch of %d failed: %s (%s)", batch.carrier, len(batch.numbers), error.kind, error.message
            )
            stats.errors[error.kind] += 1
            _record_failure(shipments, error, now)
            continue
        metrics.carrier_calls.labels(batch.carrier, "ok").inc()
        updates: dict[str, list[TrackingUpdate]] = defaultdict(list)
        failures: dict[str, CarrierError] = {}
        for item in batch.result:
            if isinstance(item, TrackingFailure):
                failures[normalise_number(item.tracking_number)] = item.error
            else:
                updates[normalise_number(item.tracking_number)].append(item)
        for shipment in shipments:
            key = normalise_number(shipment.tracking_number)
            chosen = select_update(shipment, updates.get(key, []))
            stats.shipments += 1
            if chosen is None:
                error = failures.get(key) or TrackingNotFound(
                    f"{batch.carrier} answered nothing for this number"
                )
                stats.errors[error.kind] += 1
                _record_failure([shipment], error, now)
                continue
            pairs.append((shipment, chosen))
            metrics.shipments_polled.labels(batch.carrier, "ok").inc()
    for shipment, _ in pairs:
        shipment.poll_failures = 0
        shipment.last_error = None
    results = process_updates(pairs, source="poll", now=now)
    new_events = sum(result.new_events for result in results)
    stats.status_changes += sum(result.status_changed for result in results)
    stats.events += new_events
    metrics.events_ingested.labels("poll").inc(new_events)


def _record_failure(shipments: list[Shipment], error: CarrierError, now: datetime) -> None:
    not_found = isinstance(error, TrackingNotFound)
    for shipment in shipments:
        metrics.shipments_polled.labels(shipment.carrier, error.kind).inc()
        shipment.poll_failures += 1
        shipment.last_error = f"{error.kind}: {error.message}"[:300]
        if not_found:
            shipment.last_checked_at = now
    process_no_update(shipments, PollHint(not_found=not_found, retry_after=error.retry_after), now)
