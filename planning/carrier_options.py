"""Carrier services at checkout: the honest promise (next cut-off + transit table) and its p_on_time (pure).

The promised date comes from the shop's transit table; the prediction model says how likely a parcel
handed over at the next cut-off arrives by then, and its arrival window (p10..p90).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from planning.calendar import add_business_days, is_business_day
from planning.prediction.data import Place, ShipmentInfo, Snapshot
from planning.prediction.model import Prediction

Predict = Callable[[Sequence[Snapshot]], list[Prediction]]


@dataclass(frozen=True)
class CarrierService:
    """A carrier service the shop ships with: price, daily cut-off at the depot, transit business days."""

    carrier: str
    service: str
    label: str
    price: Decimal
    currency: str
    cutoff: time
    transit_days: int


@dataclass(frozen=True)
class CarrierOffer:
    """A carrier service for this order: hand-over, promised date, arrival window and p_on_time."""

    service: CarrierService
    handover_at: datetime
    promised_date: date
    earliest: date
    expected: date
    latest: date
    p_on_time: float
    reasons: tuple[str, ...]


def next_handover(order_time: datetime, cutoff: time, zone: ZoneInfo, country: str) -> datetime:
    """The first cut-off at or after the order, on a business day of the origin country."""
    local = order_time.astimezone(zone)
    day = local.date()
    if local.time() >= cutoff or not is_business_day(day, [country]):
        day = add_business_days(day + timedelta(days=1), 0, [country])
    return datetime.combine(day, cutoff, zone)


def offer_carriers(
    services: Sequence[CarrierService],
    origin: Place,
    destination: Place,
    order_time: datetime,
    zone: ZoneInfo,
    predict: Predict,
) -> list[CarrierOffer]:
    """Each service with its promise and the model's arrival window and p_on_time, in one prediction call."""
    countries = [origin.country, destination.country]
    plans = []
    for service in services:
        handover = next_handover(order_time, service.cutoff, zone, origin.country)
        promised = add_business_days(handover.date(), service.transit_days, countries)
        info = ShipmentInfo(
            shipment_id=f"{service.carrier}:{service.service}",
            carrier=service.carrier,
            service=service.service,
            origin=origin,
            destination=destination,
            ordered_at=order_time,
            shipped_at=handover,
            promised_date=promised,
        )
        plans.append((service, handover, promised, Snapshot(shipment=info, now=handover)))
    predictions = predict([snapshot for *_, snapshot in plans]) if plans else []
    offers = []
    for (service, handover, promised, _), prediction in zip(plans, predictions, strict=True):
        earliest, expected, latest = (
            moment.astimezone(zone).date()
            for moment in (prediction.eta_p10, prediction.eta_p50, prediction.eta_p90)
        )
        reason = (
            f"handed to {service.carrier} at {handover.isoformat()}; {service.transit_days} business days"
        )
        offers.append(
            CarrierOffer(
                service,
                handover,
                promised,
                earliest,
                expected,
                latest,
                round(1.0 - prediction.p_late, 3),
                (reason, *prediction.reasons),
            )
        )
    return offers
