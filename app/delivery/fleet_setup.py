"""Changing a shop's own-fleet configuration without breaking what is already booked.

Beyond the per-field checks of the schemas: shifts and hours run forwards, every slot window lies inside
the depot's hours and inside an active van's shift on each of its weekdays, and nothing that booked
deliveries of today or later depend on (a depot's place and hours, a van carrying stops, a window's
times, a capacity below what is taken) changes under them. Functions flush; the view commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import delete, func, select, update

from app.delivery.depot_days import local_today
from app.errors import Conflict, DomainError, InvalidInput
from app.extensions import db
from app.models import (
    CarrierService,
    DeliveryZone,
    Depot,
    DepotClosure,
    Reservation,
    RoutePlan,
    Slot,
    SlotTemplate,
    VanLoad,
    Vehicle,
)
from app.models.planning import ACTIVE_STATES
from app.models.types import utcnow

DEPOT_GUARDED = ("lat", "lon", "timezone", "opens", "closes", "service_seconds")
VEHICLE_GUARDED = ("capacity_kg", "shift_start", "shift_end", "weekdays", "active")
TEMPLATE_GUARDED = ("start", "end", "weekdays")


def _refusal(error: type[DomainError], errors: dict[str, str]) -> DomainError:
    """The error naming each field, with every distinct field message as its message."""
    return error(" ".join(dict.fromkeys(errors.values())), errors=errors)


def _today(depot: Depot) -> date:
    return local_today(depot, utcnow())


def _apply(target: object, data: dict) -> set[str]:
    """Set the fields; return the names whose value really changed."""
    changed = {name for name, value in data.items() if getattr(target, name) != value}
    for name in changed:
        setattr(target, name, data[name])
    return changed


def _booked(depot: Depot, *, template_id: int | None = None, day: date | None = None) -> int:
    """Held or confirmed deliveries of the depot from today (or on one day), optionally of one template."""
    query = select(func.count(Reservation.id)).where(
        Reservation.depot_id == depot.id, Reservation.state.in_(ACTIVE_STATES)
    )
    query = query.where(Reservation.day == day) if day else query.where(Reservation.day >= _today(depot))
    if template_id is not None:
        query = query.join(Slot, Reservation.slot_id == Slot.id).where(Slot.template_id == template_id)
    return db.session.scalar(query)


def _refuse_guarded(changed: set[str], guarded: Iterable[str], why: str) -> None:
    blocked = sorted(changed.intersection(guarded))
    if blocked:
        raise _refusal(Conflict, {name: why for name in blocked})


def _check_order(first: object, second: object, field: str, what: str) -> None:
    if not first < second:
        raise _refusal(InvalidInput, {field: f"{what} must end after it starts."})


def _covered(template: SlotTemplate, depot: Depot, vans: list[Vehicle]) -> str | None:
    """Why the window is not deliverable (outside the depot's hours or every shift), or None."""
    window = f"{template.start:%H:%M}-{template.end:%H:%M}"
    if template.start < depot.opens or template.end > depot.closes:
        return f"The window {window} is outside the depot's hours {depot.opens:%H:%M}-{depot.closes:%H:%M}."
    for weekday in template.weekdays:
        if not any(
            v.active
            and weekday in v.weekdays
            and v.shift_start <= template.start
            and template.end <= v.shift_end
            for v in vans
        ):
            return f"The window {window} is not inside any active van's shift on ISO weekday {weekday}."
    return None


def _check_coverage(depot: Depot, fields: Iterable[str], templates: list[SlotTemplate] | None = None) -> None:
    vans = list(db.session.scalars(select(Vehicle).where(Vehicle.depot_id == depot.id)))
    if templates is None:
        templates = list(db.session.scalars(select(SlotTemplate).where(SlotTemplate.depot_id == depot.id)))
    for template in templates:
        why = _covered(template, depot, vans)
        if why:
            raise _refusal(InvalidInput, {name: why for name in fields})


def create_depot(shop_id: int, data: dict) -> Depot:
    """A new depot (no vans, zones or windows yet)."""
    depot = Depot(shop_id=shop_id, **data)
    _check_order(depot.opens, depot.closes, "closes", "The depot's day")
    db.session.add(depot)
    db.session.flush()
    return depot


def update_depot(depot: Depot, data: dict) -> None:
    """Change a depot; its place, zone, hours and service time are fixed while deliveries are booked."""
    changed = _apply(depot, data)
    _check_order(depot.opens, depot.closes, "closes", "The depot's day")
    if changed.intersection(DEPOT_GUARDED) and _booked(depot):
        _refuse_guarded(changed, DEPOT_GUARDED, "Deliveries are booked from today; release them first.")
    if changed & {"opens", "closes"}:
        _check_coverage(depot, sorted(changed & {"opens", "closes"}))
    db.session.flush()


def delete_depot(depot: Depot) -> None:
    """Delete a depot that never had a reservation, with its vans, zones, windows and carrier services."""
    if db.session.scalar(select(func.count(Reservation.id)).where(Reservation.depot_id == depot.id)):
        raise _refusal(Conflict, {"depot": "The depot has reservations; it can no longer be deleted."})
    template_ids = select(SlotTemplate.id).where(SlotTemplate.depot_id == depot.id)
    vehicle_ids = select(Vehicle.id).where(Vehicle.depot_id == depot.id)
    for statement in (
        delete(Slot).where(Slot.template_id.in_(template_ids)),
        delete(VanLoad).where(VanLoad.vehicle_id.in_(vehicle_ids)),
        delete(RoutePlan).where(RoutePlan.depot_id == depot.id),
        delete(CarrierService).where(CarrierService.depot_id == depot.id),
        *(
            delete(m).where(m.depot_id == depot.id)
            for m in (SlotTemplate, Vehicle, DeliveryZone, DepotClosure)
        ),
    ):
        db.session.execute(statement)
    db.session.delete(depot)
    db.session.flush()


def _vans_with_stops(depot: Depot) -> set[str]:
    rows = db.session.scalars(
        select(RoutePlan.sequences).where(RoutePlan.depot_id == depot.id, RoutePlan.day >= _today(depot))
    )
    return {vehicle for sequences in rows for vehicle, stops in sequences.items() if stops}


def create_vehicle(depot: Depot, data: dict) -> Vehicle:
    """A new van and its shift."""
    vehicle = Vehicle(depot_id=depot.id, **data)
    _check_order(vehicle.shift_start, vehicle.shift_end, "shift_end", "The shift")
    db.session.add(vehicle)
    db.session.flush()
    return vehicle


def update_vehicle(vehicle: Vehicle, data: dict) -> None:
    """Change a van; its capacity, shift and days are fixed while it carries stops from today."""
    depot = db.session.get(Depot, vehicle.depot_id)
    changed = _apply(vehicle, data)
    _check_order(vehicle.shift_start, vehicle.shift_end, "shift_end", "The shift")
    if changed.intersection(VEHICLE_GUARDED) and str(vehicle.id) in _vans_with_stops(depot):
        _refuse_guarded(
            changed, VEHICLE_GUARDED, "The van carries booked stops from today; release them first."
        )
    _check_coverage(
        depot, sorted(changed & {"shift_start", "shift_end", "weekdays", "active"}) or ["shift_end"]
    )
    if "capacity_kg" in changed:
        db.session.execute(
            update(VanLoad)
            .where(VanLoad.vehicle_id == vehicle.id, VanLoad.day >= _today(depot))
            .values(capacity=vehicle.capacity_kg)
        )
    db.session.flush()


def delete_vehicle(vehicle: Vehicle) -> None:
    """Delete a van that never carried a delivery (retire others with `active: false`)."""
    depot = db.session.get(Depot, vehicle.depot_id)
    carried = db.session.scalar(
        select(func.count(VanLoad.id)).where(VanLoad.vehicle_id == vehicle.id, VanLoad.load > 0)
    )
    if carried or str(vehicle.id) in _vans_with_stops(depot):
        raise _refusal(Conflict, {"vehicle": "The van has carried deliveries; set active to false instead."})
    vehicle.active = False
    try:
        _check_coverage(depot, ["vehicle"])
    except InvalidInput as error:
        raise _refusal(Conflict, {"vehicle": error.message}) from None
    db.session.execute(delete(VanLoad).where(VanLoad.vehicle_id == vehicle.id))
    db.session.delete(vehicle)
    db.session.flush()


def create_zone(depot: Depot, data: dict) -> DeliveryZone:
    """A new delivery zone of the depot."""
    zone = DeliveryZone(depot_id=depot.id, **data)
    db.session.add(zone)
    db.session.flush()
    return zone


def update_zone(zone: DeliveryZone, data: dict) -> None:
    """Move or resize a zone (booked deliveries keep their slots)."""
    _apply(zone, data)
    db.session.flush()


def delete_zone(zone: DeliveryZone) -> None:
    """Stop delivering to a zone (booked deliveries keep their slots)."""
    db.session.delete(zone)
    db.session.flush()


def _check_template(template: SlotTemplate, depot: Depot, fields: list[str]) -> None:
    _check_order(template.start, template.end, "end", "The window")
    _check_coverage(depot, fields, [template])


def create_template(depot: Depot, data: dict) -> SlotTemplate:
    """A new daily window: inside the depot's hours and a van's shift on each of its weekdays."""
    template = SlotTemplate(depot_id=depot.id, **data)
    _check_template(template, depot, ["start", "end"])
    db.session.add(template)
    db.session.flush()
    return template


def update_template(template: SlotTemplate, data: dict) -> None:
    """Change a window; its times and days are fixed while booked, its capacity never below what is taken."""
    depot = db.session.get(Depot, template.depot_id)
    changed = _apply(template, data)
    _check_template(template, depot, sorted(changed & {"start", "end", "weekdays"}) or ["end"])
    if changed.intersection(TEMPLATE_GUARDED) and _booked(depot, template_id=template.id):
        _refuse_guarded(
            changed, TEMPLATE_GUARDED, "Deliveries are booked in this window; release them first."
        )
    if "capacity" in changed:
        future = (Slot.template_id == template.id, Slot.day >= _today(depot))
        fuller = db.session.scalar(
            select(func.max(Slot.held + Slot.booked)).where(
                *future, Slot.held + Slot.booked > template.capacity
            )
        )
        if fuller is not None:
            message = f"A day of this window already has {fuller} deliveries; the capacity cannot go below."
            raise _refusal(Conflict, {"capacity": message})
        db.session.execute(update(Slot).where(*future).values(capacity=template.capacity))
    db.session.flush()


def delete_template(template: SlotTemplate) -> None:
    """Delete a window never reserved (stop offering others with `weekdays: ""`)."""
    slot_ids = select(Slot.id).where(Slot.template_id == template.id)
    if db.session.scalar(select(func.count(Reservation.id)).where(Reservation.slot_id.in_(slot_ids))):
        raise _refusal(
            Conflict, {"slot_template": 'The window has reservations; set weekdays to "" instead.'}
        )
    db.session.execute(delete(Slot).where(Slot.template_id == template.id))
    db.session.delete(template)
    db.session.flush()


def create_closure(depot: Depot, data: dict) -> DepotClosure:
    """Close the depot on a day from today on which nothing is booked."""
    day = data["day"]
    if day < _today(depot):
        raise _refusal(InvalidInput, {"day": "The day is in the past."})
    if db.session.scalar(
        select(DepotClosure.id).where(DepotClosure.depot_id == depot.id, DepotClosure.day == day)
    ):
        raise _refusal(Conflict, {"day": f"The depot is already closed on {day}."})
    booked = _booked(depot, day=day)
    if booked:
        raise _refusal(Conflict, {"day": f"{booked} deliveries are booked on {day}; release them first."})
    closure = DepotClosure(depot_id=depot.id, **data)
    db.session.add(closure)
    db.session.flush()
    return closure


def delete_closure(closure: DepotClosure) -> None:
    """Open the depot again on that day."""
    db.session.delete(closure)
    db.session.flush()


def _own_depot_id(shop_id: int, depot_id: int) -> None:
    depot = db.session.get(Depot, depot_id)
    if depot is None or depot.shop_id != shop_id:
        raise _refusal(InvalidInput, {"depot_id": f"No depot {depot_id}."})


def create_carrier_service(shop_id: int, data: dict) -> CarrierService:
    """A carrier service offered at checkout, handed over at one of the shop's depots."""
    _own_depot_id(shop_id, data["depot_id"])
    service = CarrierService(shop_id=shop_id, **data)
    db.session.add(service)
    db.session.flush()
    return service


def update_carrier_service(service: CarrierService, data: dict) -> None:
    """Change a carrier service (offers change from the next checkout)."""
    if "depot_id" in data:
        _own_depot_id(service.shop_id, data["depot_id"])
    _apply(service, data)
    db.session.flush()


def delete_carrier_service(service: CarrierService) -> None:
    """Stop offering a carrier service."""
    db.session.delete(service)
    db.session.flush()
