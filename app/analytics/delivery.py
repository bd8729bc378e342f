"""Delivery performance: on-time rate per week (by carrier, service or lane), transit-time percentiles,
time to first scan and exceptions by reason.

Definitions (the tests compute them by hand):
  on time          delivered on or before the promised day (UTC days), over delivered shipments with a
                   promised date, grouped by the week of delivery
  transit, calendar days   delivery day − ship day (UTC days)
  transit, business days   the Monday–Friday days after the ship day up to and including the delivery day
  first scan       hours from `shipped_at` to the earliest event that is not `info_received` (electronic
                   notice is not a scan), over the shipments shipped in the range
  exceptions       `exception` events of the shipments shipped in the range, by reason
Percentiles are nearest rank: the ⌈q·n⌉-th smallest value.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import case, func, select

from app.analytics.filters import Filters, nearest_rank, share
from app.analytics.sql import day_number, epoch_seconds, week_number, whole
from app.extensions import db
from app.models import Shipment, TrackingEvent
from carriers.model import Status

DIMENSIONS = ("carrier", "service", "lane")
NO_SERVICE = "(no service)"
UNKNOWN_COUNTRY = "??"


@dataclass(frozen=True)
class WeeklyRate:
    """Delivered and on-time counts of one group in one week."""

    week: int
    group: str
    delivered: int
    on_time: int

    @property
    def rate(self) -> float | None:
        """On time ÷ delivered."""
        return share(self.on_time, self.delivered)


@dataclass(frozen=True)
class Percentiles:
    """p50 and p90 of one carrier's values, over `count` shipments."""

    carrier: str
    count: int
    p50: float | None
    p90: float | None


@dataclass(frozen=True)
class TransitTimes:
    """One carrier's transit-time percentiles in calendar and business days."""

    carrier: str
    delivered: int
    calendar: Percentiles
    business: Percentiles


@dataclass(frozen=True)
class FirstScan:
    """One carrier's hours to first scan, and how many shipments shipped in the range have none yet."""

    hours: Percentiles
    shipped: int
    unscanned: int


@dataclass(frozen=True)
class ExceptionReason:
    """Exception scans with one reason and the shipments they hit."""

    reason: str
    events: int
    shipments: int
    shipped: int

    @property
    def shipment_share(self) -> float | None:
        """Shipments hit ÷ shipments shipped in the range."""
        return share(self.shipments, self.shipped)


def shipment_scope(filters: Filters) -> list:
    """Shipments not deleted, of the filters' shop and carrier."""
    where = [Shipment.deleted_at.is_(None)]
    if filters.shop_id is not None:
        where.append(Shipment.shop_id == filters.shop_id)
    if filters.carrier is not None:
        where.append(Shipment.carrier == filters.carrier)
    return where


def delivered_scope(filters: Filters) -> list:
    """Shipments delivered in the range."""
    return [
        *shipment_scope(filters),
        Shipment.delivered_at >= filters.start,
        Shipment.delivered_at < filters.end,
    ]


def shipped_scope(filters: Filters) -> list:
    """Shipments shipped in the range."""
    return [*shipment_scope(filters), Shipment.shipped_at >= filters.start, Shipment.shipped_at < filters.end]


@dataclass(frozen=True)
class OnTimeCell:
    """Delivered and on-time counts of one week × carrier × service × lane."""

    week: int
    carrier: str
    service: str | None
    origin: str | None
    destination: str | None
    delivered: int
    on_time: int


def on_time_cells(filters: Filters) -> list[OnTimeCell]:
    """One grouped scan for all three dimensions (the page folds it three ways)."""
    week = week_number(Shipment.delivered_at).label("week")
    on_time = func.sum(
        case((day_number(Shipment.delivered_at) <= day_number(Shipment.promised_date), 1), else_=0)
    )
    groups = (week, Shipment.carrier, Shipment.service, Shipment.origin_country, Shipment.destination_country)
    query = (
        select(*groups, func.count(), on_time)
        .where(*delivered_scope(filters), Shipment.promised_date.is_not(None))
        .group_by(*groups)
    )
    return [OnTimeCell(int(row[0]), *row[1:5], row[5], int(row[6] or 0)) for row in db.session.execute(query)]


def _group_name(dimension: str, cell: OnTimeCell) -> str:
    if dimension == "carrier":
        return cell.carrier
    if dimension == "service":
        return cell.service or NO_SERVICE
    if dimension == "lane":
        return f"{cell.origin or UNKNOWN_COUNTRY}→{cell.destination or UNKNOWN_COUNTRY}"
    raise ValueError(f"unknown dimension {dimension!r}; use one of {DIMENSIONS}")


def on_time_by_week(
    filters: Filters, dimension: str = "carrier", cells: list[OnTimeCell] | None = None
) -> list[WeeklyRate]:
    """Delivered and on-time counts per week of delivery and group (carrier, service or lane); `cells`
    from `on_time_cells` when already read."""
    merged: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0])
    for cell in on_time_cells(filters) if cells is None else cells:
        counts = merged[(cell.week, _group_name(dimension, cell))]
        counts[0] += cell.delivered
        counts[1] += cell.on_time
    return [WeeklyRate(week, group, n, ok) for (week, group), (n, ok) in sorted(merged.items())]


def _business_days(ship_weekday: int, days: int) -> int:
    """Monday–Friday days in (ship day, ship day + `days`]; `ship_weekday` 0 is Monday."""
    if days <= 0:
        return 0
    full, rest = divmod(days, 7)
    extra = sum(1 for d in range(1, rest + 1) if (ship_weekday + d) % 7 < 5)
    return full * 5 + extra


def transit_times(filters: Filters) -> list[TransitTimes]:
    """Transit-time p50 and p90 per carrier, in calendar and business days, of shipments delivered in the
    range (and shipped before delivery)."""
    shipped_day = day_number(Shipment.shipped_at)
    weekday = ((shipped_day + 3) % 7).label("weekday")
    days = (day_number(Shipment.delivered_at) - shipped_day).label("days")
    query = (
        select(Shipment.carrier, weekday, days, func.count())
        .where(*delivered_scope(filters), Shipment.shipped_at.is_not(None))
        .group_by(Shipment.carrier, weekday, days)
    )
    calendar: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    business: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for carrier, ship_weekday, span, count in db.session.execute(query):
        if span is None or span < 0:
            continue
        calendar[carrier][int(span)] += count
        business[carrier][_business_days(int(ship_weekday), int(span))] += count
    result = []
    for carrier in sorted(calendar):
        cal, bus = sorted(calendar[carrier].items()), sorted(business[carrier].items())
        total = sum(n for _, n in cal)
        result.append(
            TransitTimes(
                carrier,
                total,
                Percentiles(carrier, total, nearest_rank(cal, 0.5), nearest_rank(cal, 0.9)),
                Percentiles(carrier, total, nearest_rank(bus, 0.5), nearest_rank(bus, 0.9)),
            )
        )
    return result


def first_scan_times(filters: Filters) -> list[FirstScan]:
    """Hours from handover to the first scan, p50 and p90 per carrier (to the whole hour below)."""
    # `first_scan_at` is the earliest event that is not `info_received`, kept by ingest
    hours = whole((epoch_seconds(Shipment.first_scan_at) - epoch_seconds(Shipment.shipped_at)) / 3600)
    histogram: dict[str, dict[float, int]] = defaultdict(lambda: defaultdict(int))
    rows = db.session.execute(
        select(Shipment.carrier, hours, func.count())
        .where(*shipped_scope(filters), Shipment.first_scan_at.is_not(None))
        .group_by(Shipment.carrier, hours)
    )
    for carrier, hours, count in rows:
        histogram[carrier][max(float(hours), 0.0)] += count
    shipped = dict(
        db.session.execute(
            select(Shipment.carrier, func.count()).where(*shipped_scope(filters)).group_by(Shipment.carrier)
        ).all()
    )
    result = []
    for carrier in sorted(shipped):
        ordered = sorted(histogram[carrier].items())
        scanned = sum(n for _, n in ordered)
        result.append(
            FirstScan(
                Percentiles(carrier, scanned, nearest_rank(ordered, 0.5), nearest_rank(ordered, 0.9)),
                shipped[carrier],
                shipped[carrier] - scanned,
            )
        )
    return result


def exceptions_by_reason(filters: Filters) -> list[ExceptionReason]:
    """Exception scans of the shipments shipped in the range, per reason, most shipments first."""
    reason = func.coalesce(TrackingEvent.reason, "unspecified")
    rows = db.session.execute(
        select(reason, func.count(), func.count(func.distinct(TrackingEvent.shipment_id)))
        .join(Shipment, Shipment.id == TrackingEvent.shipment_id)
        .where(*shipped_scope(filters), TrackingEvent.status == Status.EXCEPTION.value)
        .group_by(reason)
    ).all()
    shipped = db.session.scalar(select(func.count()).select_from(Shipment).where(*shipped_scope(filters)))
    found = [ExceptionReason(name, events, shipments, shipped) for name, events, shipments in rows]
    return sorted(found, key=lambda r: (-r.shipments, r.reason))
