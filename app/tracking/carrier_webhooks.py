"""Pushed tracking updates (EasyPost, AfterShip webhooks): matched to watched shipments, then the same
path as polling (`app.tracking.updates`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from app import metrics
from app.extensions import db
from app.models import Shipment
from app.models.types import utcnow
from app.tracking.updates import process_updates
from carriers.aliases import carrier_code_for
from carriers.model import TrackingUpdate
from carriers.numbers import normalise_number


@dataclass(frozen=True)
class WebhookOutcome:
    """How many updates matched a shipment we watch, and how many events were new."""

    matched: int
    unmatched: int
    new_events: int


def ingest_pushed_updates(updates: Sequence[TrackingUpdate], *, source: str = "webhook") -> WebhookOutcome:
    """Apply pushed updates to every watched shipment with that number (and carrier, when known)."""
    now = utcnow()
    unmatched = 0
    pairs: list[tuple[Shipment, TrackingUpdate]] = []
    for update in updates:
        query = select(Shipment).where(
            Shipment.tracking_number == normalise_number(update.tracking_number),
            Shipment.deleted_at.is_(None),
        )
        carrier = carrier_code_for(update.original_carrier)
        if carrier:
            query = query.where(Shipment.carrier == carrier)
        shipments = db.session.scalars(query).all()
        unmatched += not shipments
        pairs.extend((shipment, update) for shipment in shipments)
    new_events = sum(result.new_events for result in process_updates(pairs, source=source, now=now))
    metrics.events_ingested.labels(source).inc(new_events)
    return WebhookOutcome(matched=len(pairs), unmatched=unmatched, new_events=new_events)
