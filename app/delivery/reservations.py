"""Holding, confirming and releasing delivery slots, with no overbooking across processes.

Every change to a depot-day first takes its plan row (`fleet.lock_day`), then moves the slot and van
counters with conditional UPDATEs whose row counts are checked (`held + booked < capacity`,
`load + demand <= capacity`), backed by CHECK constraints. The guarantee is the database's, so it holds
with any number of web processes on PostgreSQL as on SQLite. Functions flush; callers commit.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import select, update

from app.delivery.depot_days import (
    Parcel,
    closed_reason,
    ensure_day_counters,
    load_day,
    local_today,
    lock_day,
    pricing,
    record_change,
    require_parcel_fits,
    serving_depots,
    shop_depots,
    slot_window,
    templates_on,
    vehicle_of,
)
from app.errors import Conflict, InvalidInput
from app.extensions import db
from app.models import Depot, Reservation, ReservationState, Slot, SlotTemplate, VanLoad
from app.models.types import utcnow
from planning.geo import Point
from planning.options import offer_slots
from planning.routing.day_plan import BookedStop, insert_stop, remove_stops

HELD, CONFIRMED = ReservationState.HELD.value, ReservationState.CONFIRMED.value


def _unavailable(detail: str, reason: str) -> Conflict:
    return Conflict(detail, kind="slot-unavailable", title="Slot unavailable", reason=reason)


def _invalid(field: str, message: str) -> InvalidInput:
    return InvalidInput(message, errors={field: message})


def hold_slot(
    shop_id: int,
    template_id: int,
    day: date,
    point: Point,
    parcel: Parcel,
    *,
    now: datetime,
    address: str = "",
    order_ref: str | None = None,
    location_field: str = "coordinates",
) -> Reservation:
    """Hold a slot for this delivery for HOLD_TTL_SECONDS, placing the stop on a van's route."""
    template = db.session.get(SlotTemplate, template_id)
    depot = db.session.get(Depot, template.depot_id) if template is not None else None
    if depot is None or depot.shop_id != shop_id:
        raise _invalid("template_id", f"No slot template {template_id}.")
    today = local_today(depot, now)
    if day < today:
        raise _invalid("date", "The date is in the past.")
    horizon = current_app.config["OPTIONS_MAX_DAYS"]
    if (day - today).days >= horizon:
        raise _invalid("date", f"Slots are offered for the next {horizon} days only.")
    depots = shop_depots(shop_id)
    if depot not in serving_depots(depots, point):
        raise _invalid(location_field, "The address is outside the delivery zones of this slot's depot.")
    require_parcel_fits(depots, parcel)
    closed = closed_reason(depot, day)
    if closed or template not in templates_on(depot, day):
        raise _unavailable(
            f"No deliveries from {depot.name} in this window on {day}.", closed or "not_working"
        )
    window = slot_window(depot, template, day)
    if now >= window.closes_at:
        raise _unavailable(f"Orders for this window closed at {window.closes_at.isoformat()}.", "closed")
    existing = db.session.scalar(
        select(Slot.held + Slot.booked).where(Slot.template_id == template.id, Slot.day == day)
    )
    if existing is not None and existing >= template.capacity:
        raise _unavailable("This slot is fully booked.", "full")  # fast path; the UPDATE below decides

    row = lock_day(depot, day)
    slot = ensure_day_counters(depot, day, template)
    taken = db.session.execute(
        update(Slot)
        .where(Slot.id == slot.id, Slot.held + Slot.booked < Slot.capacity)
        .values(held=Slot.held + 1)
    )
    if taken.rowcount != 1:
        raise _unavailable("This slot is fully booked.", "full")
    plan = load_day(depot, day, row)
    stop = BookedStop("new", point, parcel.demand, window.start, window.end, depot.service_seconds)
    [offer] = offer_slots(plan, stop, [window], now, pricing())
    if not offer.offered:
        raise _unavailable(offer.reasons[0].text, offer.reasons[0].code.value)
    loaded = db.session.execute(
        update(VanLoad)
        .where(
            VanLoad.vehicle_id == int(offer.insertion.vehicle),
            VanLoad.day == day,
            VanLoad.load + parcel.demand <= VanLoad.capacity,
        )
        .values(load=VanLoad.load + parcel.demand)
    )
    if loaded.rowcount != 1:
        raise _unavailable("No van has room for this parcel in this window.", "no_route")
    reservation = Reservation(
        public_id=uuid.uuid4().hex,
        shop_id=shop_id,
        slot_id=slot.id,
        depot_id=depot.id,
        day=day,
        state=HELD,
        lat=point.lat,
        lon=point.lon,
        address=address,
        weight_kg=parcel.weight_kg,
        volume_l=parcel.volume_l,
        demand=parcel.demand,
        price=offer.price,
        currency=template.currency,
        order_ref=order_ref,
        expires_at=now + timedelta(seconds=current_app.config["HOLD_TTL_SECONDS"]),
        created_at=now,
    )
    db.session.add(reservation)
    db.session.flush()
    vehicle = offer.insertion.vehicle
    opened = 0.0 if vehicle in plan.sequences() else _fixed_cost(plan, vehicle)
    sequences = insert_stop(row.sequences, offer.insertion, str(reservation.id))
    record_change(row, sequences, plan.plan.distance + offer.insertion.cost - opened)
    db.session.flush()
    return reservation


def _fixed_cost(plan, vehicle_id: str) -> float:
    return next(v.fixed_cost for v in plan.problem.vehicles if v.id == vehicle_id)


def confirm(
    reservation: Reservation, *, now: datetime, shipment_id: int | None, order_ref: str | None
) -> None:
    """Book a held slot for the placed order (idempotent for an already confirmed reservation)."""
    if reservation.state == CONFIRMED:
        return
    values = {"state": CONFIRMED, "confirmed_at": now}
    if shipment_id is not None:
        values["shipment_id"] = shipment_id
    if order_ref is not None:
        values["order_ref"] = order_ref
    done = db.session.execute(
        update(Reservation)
        .where(Reservation.id == reservation.id, Reservation.state == HELD, Reservation.expires_at > now)
        .values(**values)
    )
    if done.rowcount != 1:
        raise Conflict(
            "The hold expired or was released; hold a slot again.", kind="hold-ended", title="Hold ended"
        )
    db.session.execute(
        update(Slot).where(Slot.id == reservation.slot_id).values(held=Slot.held - 1, booked=Slot.booked + 1)
    )
    db.session.refresh(reservation)


def end_reservations(
    depot: Depot, day: date, ids: list[int], state: ReservationState, *, now: datetime
) -> int:
    """Release (or expire) active reservations of one depot-day: counters and route give the room back.

    Expiry only ends holds past their expiry; release ends holds and bookings. Returns how many ended.
    """
    row = lock_day(depot, day)
    ended: list[Reservation] = []
    for reservation in db.session.scalars(select(Reservation).where(Reservation.id.in_(ids))):
        previous = reservation.state
        query = update(Reservation).where(Reservation.id == reservation.id, Reservation.state == previous)
        if state is ReservationState.EXPIRED:
            query = query.where(Reservation.state == HELD, Reservation.expires_at <= now)
        elif previous not in (HELD, CONFIRMED):
            continue
        if db.session.execute(query.values(state=state.value, ended_at=now)).rowcount != 1:
            continue
        counter = Slot.held if previous == HELD else Slot.booked
        db.session.execute(update(Slot).where(Slot.id == reservation.slot_id).values({counter: counter - 1}))
        vehicle = vehicle_of(row, str(reservation.id))
        if vehicle is not None:
            db.session.execute(
                update(VanLoad)
                .where(VanLoad.vehicle_id == vehicle, VanLoad.day == day)
                .values(load=VanLoad.load - reservation.demand)
            )
        ended.append(reservation)
    if ended:
        remaining = remove_stops(row.sequences, {str(r.id) for r in ended})
        record_change(row, remaining, load_day(depot, day, row).plan.distance)
    db.session.flush()
    for reservation in ended:
        db.session.refresh(reservation)
    return len(ended)


def release(reservation: Reservation, *, now: datetime) -> None:
    """Give a held or booked slot back (the checkout was abandoned or the order cancelled)."""
    depot = db.session.get(Depot, reservation.depot_id)
    end_reservations(depot, reservation.day, [reservation.id], ReservationState.RELEASED, now=now)


def due_holds(now: datetime, limit: int = 500) -> dict[tuple[int, date], list[int]]:
    """Expired holds grouped by depot-day."""
    rows = db.session.execute(
        select(Reservation.id, Reservation.depot_id, Reservation.day)
        .where(Reservation.state == HELD, Reservation.expires_at <= now)
        .order_by(Reservation.expires_at)
        .limit(limit)
    )
    groups: dict[tuple[int, date], list[int]] = {}
    for rid, depot_id, day in rows:
        groups.setdefault((depot_id, day), []).append(rid)
    return groups


def expire_holds(now: datetime | None = None) -> int:
    """Job: end holds past their TTL, one depot-day per transaction; returns how many expired."""
    now = now or utcnow()
    expired = 0
    for (depot_id, day), ids in due_holds(now).items():
        expired += end_reservations(
            db.session.get(Depot, depot_id), day, ids, ReservationState.EXPIRED, now=now
        )
        db.session.commit()
    return expired
