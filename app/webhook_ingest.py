"""Carrier/aggregator webhooks feed the same ingest path as polling."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from app import metrics
from app.extensions import db
from app.ingest import apply_update
from app.models import Shipment
from app.models.types import utcnow
from app.polling import normalise_number
from app.risk import rescore
from app.schedule import reschedule
from carriers.aliases import carrier_code_for
from carriers.model import TrackingUpdate


@dataclass(frozen=True)
class WebhookOutcome:
    """How many updates matched a shipment we watch, and how many events were new."""

    matched: int
    unmatched: int
    new_events: int


def ingest_pushed_updates(updates: Sequence[TrackingUpdate], *, source: str = "webhook") -> WebhookOutcome:
    """Apply pushed updates to every watched shipment with that number (and carrier, when known)."""
    now = utcnow()
    matched = unmatched = new_events = 0
    touched: list[Shipment] = []
    for update in updates:
        query = select(Shipment).where(
            Shipment.tracking_number == normalise_number(update.tracking_number),
            Shipment.deleted_at.is_(None),
        )
        carrier = carrier_code_for(update.original_carrier)
        if carrier:
            query = query.where(Shipment.carrier == carrier)
        shipments = db.session.scalars(query).all()
        if not shipments:
            unmatched += 1
        for shipment in shipments:
            outcome = apply_update(shipment, update, source=source, now=now)
            shipment.last_checked_at = now
            touched.append(shipment)
            matched += 1
            new_events += outcome.new_events
    rescore(touched, now)
    for shipment in touched:
        reschedule(shipment, now)
    metrics.events_ingested.labels(source).inc(new_events)
    return WebhookOutcome(matched=matched, unmatched=unmatched, new_events=new_events)
