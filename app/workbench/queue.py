"""The workbench's view of the at-risk queue: filters, sorting, paging, and what staff set aside.

A snoozed shipment is out of the queue until its date; a handled one until it is scanned again or its risk
state moves. Every query starts from `app.risk.queue.at_risk_query`, which takes the staff user's shop.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import Select, and_, func, or_, select

from app.extensions import db
from app.models import Shipment, ShipmentTriage
from app.risk.queue import AT_RISK_STATES, at_risk_query, expected_cost

PAGE_SIZE = 50
SORTS = {"cost": "expected cost", "promised": "promised date", "age": "age"}
SHOWS = {"": "waiting", "snoozed": "snoozed", "handled": "handled", "all": "all"}
_MAX_VALUE = Decimal("9999999999.99")


@dataclass(frozen=True)
class QueueFilters:
    """The queue's filters as the page's form gives them; `errors` names the fields that were not read."""

    carrier: str = ""
    service: str = ""
    lane: tuple[str, str] | None = None
    risk: str = ""
    age_min: int | None = None
    age_max: int | None = None
    promised_from: date | None = None
    promised_to: date | None = None
    value_min: Decimal | None = None
    value_max: Decimal | None = None
    assignee: str = ""
    show: str = ""
    sort: str = "cost"
    page: int = 1
    errors: dict[str, str] = field(default_factory=dict)


def parse_filters(args: Mapping[str, str]) -> QueueFilters:
    """Read the filters; a value that does not parse is left out and named in `errors`."""
    errors: dict[str, str] = {}

    def text(name: str, limit: int = 64) -> str:
        return (args.get(name) or "").strip()[:limit]

    def number(name: str, kind, *, low=None, high=None):
        raw = text(name).replace(" ", "").replace(",", ".")
        if not raw:
            return None
        try:
            value = kind(raw)
        except (ValueError, InvalidOperation):
            value = None
        if value is None or (low is not None and value < low) or (high is not None and value > high):
            errors[name] = f"'{raw}' is not a valid number here."
            return None
        return value

    def day(name: str) -> date | None:
        raw = text(name)
        if not raw:
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            errors[name] = f"'{raw}' is not a date (YYYY-MM-DD)."
            return None

    lane = None
    if raw_lane := text("lane", 8):
        origin, _, destination = raw_lane.upper().partition("-")
        if len(origin) == 2 and len(destination) == 2:
            lane = (origin, destination)
        else:
            errors["lane"] = f"'{raw_lane}' is not a lane like NO-SE."
    risk = text("risk")
    if risk and risk not in AT_RISK_STATES:
        errors["risk"], risk = f"'{risk}' is not a risk state of the queue.", ""
    sort, show = text("sort") or "cost", text("show")
    if sort not in SORTS:
        errors["sort"], sort = "Unknown sort order.", "cost"
    if show not in SHOWS:
        errors["show"], show = "Unknown choice.", ""
    return QueueFilters(
        carrier=text("carrier", 20),
        service=text("service", 50),
        lane=lane,
        risk=risk,
        age_min=number("age_min", int, low=0, high=3650),
        age_max=number("age_max", int, low=0, high=3650),
        promised_from=day("promised_from"),
        promised_to=day("promised_to"),
        value_min=number("value_min", Decimal, low=0, high=_MAX_VALUE),
        value_max=number("value_max", Decimal, low=0, high=_MAX_VALUE),
        assignee=text("assignee", 12),
        show=show,
        sort=sort,
        page=number("page", int, low=1, high=100_000) or 1,
        errors=errors,
    )


def shipped_at():
    """When the parcel left (registration time when the shop gave none): what age counts from."""
    return func.coalesce(Shipment.shipped_at, Shipment.created_at)


def waiting(now: datetime):
    """Not snoozed past now, and not handled since its last scan and at its current risk state."""
    return or_(
        ShipmentTriage.shipment_id.is_(None),
        and_(
            or_(ShipmentTriage.snoozed_until.is_(None), ShipmentTriage.snoozed_until <= now),
            or_(
                ShipmentTriage.handled_at.is_(None),
                Shipment.last_event_at > ShipmentTriage.handled_at,
                Shipment.risk_state != ShipmentTriage.handled_risk_state,
            ),
        ),
    )


def queue_query(filters: QueueFilters, shop_id: int | None, now: datetime, staff_id: int) -> Select:
    """(Shipment, ShipmentTriage | None) rows of the filtered queue, sorted, not yet paged."""
    query = (
        at_risk_query(shop_id)
        .order_by(None)
        .outerjoin(ShipmentTriage, ShipmentTriage.shipment_id == Shipment.id)
        .add_columns(ShipmentTriage)
    )
    if filters.show == "":
        query = query.where(waiting(now))
    elif filters.show == "snoozed":
        query = query.where(ShipmentTriage.snoozed_until > now)
    elif filters.show == "handled":
        query = query.where(ShipmentTriage.handled_at.is_not(None), ~waiting(now))
    if filters.carrier:
        query = query.where(Shipment.carrier == filters.carrier)
    if filters.service:
        query = query.where(Shipment.service == filters.service)
    if filters.lane:
        query = query.where(
            Shipment.origin_country == filters.lane[0], Shipment.destination_country == filters.lane[1]
        )
    if filters.risk:
        query = query.where(Shipment.risk_state == filters.risk)
    if filters.age_min is not None:
        query = query.where(shipped_at() <= now - timedelta(days=filters.age_min))
    if filters.age_max is not None:
        query = query.where(shipped_at() > now - timedelta(days=filters.age_max + 1))
    if filters.promised_from:
        query = query.where(Shipment.promised_date >= filters.promised_from)
    if filters.promised_to:
        query = query.where(Shipment.promised_date <= filters.promised_to)
    if filters.value_min is not None:
        query = query.where(Shipment.declared_value >= filters.value_min)
    if filters.value_max is not None:
        query = query.where(Shipment.declared_value <= filters.value_max)
    if filters.assignee == "me":
        query = query.where(ShipmentTriage.assignee_id == staff_id)
    elif filters.assignee == "none":
        query = query.where(ShipmentTriage.assignee_id.is_(None))
    elif filters.assignee.isdigit():
        query = query.where(ShipmentTriage.assignee_id == int(filters.assignee))
    if filters.sort == "promised":  # without a promise last (PostgreSQL would sort NULL first)
        order = (Shipment.promised_date.is_(None), Shipment.promised_date, Shipment.id)
    elif filters.sort == "age":
        order = (shipped_at(), Shipment.id)
    else:
        order = (expected_cost().desc(), Shipment.id)
    return query.order_by(*order)


@dataclass(frozen=True)
class QueuePage:
    """One page of the queue and what the filter form offers (drawn from the queue itself)."""

    rows: list
    total: int
    filters: QueueFilters
    pages: int
    carriers: list[str]
    services: list[str]
    lanes: list[tuple[str, str]]


def queue_page(filters: QueueFilters, shop_id: int | None, now: datetime, staff_id: int) -> QueuePage:
    """The page `filters.page` (clamped to the last page) of the filtered queue."""
    query = queue_query(filters, shop_id, now, staff_id)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    filters = replace(filters, page=min(filters.page, pages))
    # Order and page on ids only (the queue index covers the default order), then read the page's rows.
    ids = db.session.scalars(
        query.with_only_columns(Shipment.id).limit(PAGE_SIZE).offset((filters.page - 1) * PAGE_SIZE)
    ).all()
    found = db.session.execute(
        select(Shipment, ShipmentTriage)
        .outerjoin(ShipmentTriage, ShipmentTriage.shipment_id == Shipment.id)
        .where(Shipment.id.in_(ids))
    ).all()
    position = {shipment_id: n for n, shipment_id in enumerate(ids)}
    rows = sorted(found, key=lambda row: position[row[0].id])
    facets = db.session.execute(
        at_risk_query(shop_id)
        .order_by(None)
        .with_only_columns(
            Shipment.carrier, Shipment.service, Shipment.origin_country, Shipment.destination_country
        )
        .distinct()
    ).all()
    carriers = sorted({carrier for carrier, _, _, _ in facets})
    services = sorted({service for _, service, _, _ in facets if service})
    lanes = sorted({(o, d) for _, _, o, d in facets if o and d})
    return QueuePage(list(rows), total, filters, pages, carriers, services, lanes)
