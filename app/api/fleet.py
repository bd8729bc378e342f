"""Shop API: configure the own fleet — depots with their vans, zones, slot windows and closures, and the
carrier services offered at checkout. Cut-offs and lead times are fields of depots and windows; public
holidays of the depot's country close it without configuration."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema
from sqlalchemy import select

from app.api.auth import require_api_key
from app.api.fleet_schemas import (
    CarrierServiceReadSchema,
    CarrierServiceSchema,
    CarrierServiceUpdateSchema,
    ClosureSchema,
    DepotSchema,
    DepotUpdateSchema,
    SlotTemplateReadSchema,
    SlotTemplateSchema,
    SlotTemplateUpdateSchema,
    VehicleSchema,
    VehicleUpdateSchema,
    ZoneSchema,
    ZoneUpdateSchema,
)
from app.api.idempotency import idempotent
from app.api.problems import ApiProblem
from app.delivery import fleet_setup
from app.extensions import db
from app.models import CarrierService, DeliveryZone, Depot, DepotClosure, SlotTemplate, Vehicle

bp = Blueprint("fleet", __name__, url_prefix="/api/v1", description="Own-fleet and carrier configuration")
bp.before_request(require_api_key)


def _not_found(what: str, ident: int) -> ApiProblem:
    return ApiProblem(404, "Not Found", f"No {what} {ident}.", kind="not-found")


def _own_depot(depot_id: int) -> Depot:
    depot = db.session.get(Depot, depot_id)
    if depot is None or depot.shop_id != g.shop.id:
        raise _not_found("depot", depot_id)
    return depot


def _doc(text: str):
    """Give a generated view its OpenAPI summary."""

    def mark(view):
        view.__doc__ = text
        return view

    return mark


def _may_conflict(possible: bool = True):
    """Document the 409 of a view whose use case can refuse the change (something booked depends on it)."""
    return bp.alt_response(409, response="CONFLICT") if possible else (lambda view: view)


@bp.route("/depots")
class DepotCollection(MethodView):
    @bp.response(200, DepotSchema(many=True))
    def get(self):
        """The shop's depots."""
        return db.session.scalars(select(Depot).where(Depot.shop_id == g.shop.id).order_by(Depot.id)).all()

    @idempotent
    @bp.arguments(DepotSchema)
    @bp.response(201, DepotSchema)
    def post(self, data: dict):
        """Add a depot: place, time zone, hours, order cut-off and drop time."""
        return fleet_setup.create_depot(g.shop.id, data)


@bp.route("/depots/<int:depot_id>")
class DepotItem(MethodView):
    @bp.response(200, DepotSchema)
    def get(self, depot_id: int):
        """One depot."""
        return _own_depot(depot_id)

    @bp.arguments(DepotUpdateSchema)
    @bp.response(200, DepotSchema)
    @_may_conflict()
    def patch(self, data: dict, depot_id: int):
        """Change a depot (place, zone and hours are fixed while deliveries are booked)."""
        depot = _own_depot(depot_id)
        fleet_setup.update_depot(depot, data)
        db.session.commit()
        return depot

    @bp.response(204)
    @_may_conflict()
    def delete(self, depot_id: int):
        """Delete a depot that never had a reservation, with everything configured under it."""
        fleet_setup.delete_depot(_own_depot(depot_id))
        db.session.commit()


@dataclass(frozen=True)
class Child:
    """A kind of thing configured under a depot, and the use cases that change it."""

    path: str
    label: str
    model: type
    schema: type[Schema]
    update_schema: type[Schema] | None
    order: object
    create: Callable[[Depot, dict], object]
    update: Callable[[object, dict], None] | None
    delete: Callable[[object], None]
    conflicts: frozenset[str] = frozenset()  # the methods whose use case can answer 409
    read_schema: type[Schema] | None = None  # what answers carry, when not `schema`


def _register(child: Child) -> None:
    """Routes for a depot's child: list and add under the depot, read, change and delete each."""

    def own(depot_id: int, item_id: int):
        depot = _own_depot(depot_id)
        item = db.session.get(child.model, item_id)
        if item is None or item.depot_id != depot.id:
            raise _not_found(child.label, item_id)
        return item

    shown = child.read_schema or child.schema

    class Collection(MethodView):
        @bp.response(200, shown(many=True))
        @_doc(f"The depot's {child.label}s.")
        def get(self, depot_id: int):
            depot = _own_depot(depot_id)
            query = select(child.model).where(child.model.depot_id == depot.id).order_by(child.order)
            return db.session.scalars(query).all()

        @idempotent
        @bp.arguments(child.schema)
        @bp.response(201, shown)
        @_may_conflict("post" in child.conflicts)
        @_doc(f"Add a {child.label} to the depot.")
        def post(self, data: dict, depot_id: int):
            return child.create(_own_depot(depot_id), data)

    class Item(MethodView):
        @bp.response(200, shown)
        @_doc(f"One {child.label}.")
        def get(self, depot_id: int, item_id: int):
            return own(depot_id, item_id)

        @bp.response(204)
        @_may_conflict("delete" in child.conflicts)
        @_doc(f"Delete a {child.label}.")
        def delete(self, depot_id: int, item_id: int):
            child.delete(own(depot_id, item_id))
            db.session.commit()

    if child.update is not None:

        @bp.arguments(child.update_schema)
        @bp.response(200, shown)
        @_may_conflict("patch" in child.conflicts)
        @_doc(f"Change a {child.label}.")
        def patch(self, data: dict, depot_id: int, item_id: int):
            item = own(depot_id, item_id)
            child.update(item, data)
            db.session.commit()
            return item

        Item.patch = patch
        Item.methods = {*Item.methods, "PATCH"}

    name = child.path.replace("-", "_")
    bp.route(f"/depots/<int:depot_id>/{child.path}", endpoint=f"{name}_collection")(Collection)
    bp.route(f"/depots/<int:depot_id>/{child.path}/<int:item_id>", endpoint=f"{name}_item")(Item)


for _child in (
    Child(
        "vehicles", "van", Vehicle, VehicleSchema, VehicleUpdateSchema, Vehicle.id,
        fleet_setup.create_vehicle, fleet_setup.update_vehicle, fleet_setup.delete_vehicle,
        conflicts=frozenset({"patch", "delete"}),
    ),
    Child(
        "zones", "delivery zone", DeliveryZone, ZoneSchema, ZoneUpdateSchema, DeliveryZone.id,
        fleet_setup.create_zone, fleet_setup.update_zone, fleet_setup.delete_zone,
    ),
    Child(
        "slot-templates", "slot window", SlotTemplate, SlotTemplateSchema, SlotTemplateUpdateSchema,
        SlotTemplate.start, fleet_setup.create_template, fleet_setup.update_template,
        fleet_setup.delete_template, conflicts=frozenset({"patch", "delete"}),
        read_schema=SlotTemplateReadSchema,
    ),
    Child(
        "closures", "closure", DepotClosure, ClosureSchema, None, DepotClosure.day,
        fleet_setup.create_closure, None, fleet_setup.delete_closure, conflicts=frozenset({"post"}),
    ),
):  # fmt: skip
    _register(_child)


def _own_service(service_id: int) -> CarrierService:
    service = db.session.get(CarrierService, service_id)
    if service is None or service.shop_id != g.shop.id:
        raise _not_found("carrier service", service_id)
    return service


@bp.route("/carrier-services")
class CarrierServiceCollection(MethodView):
    @bp.response(200, CarrierServiceReadSchema(many=True))
    def get(self):
        """The carrier services offered at checkout."""
        query = select(CarrierService).where(CarrierService.shop_id == g.shop.id).order_by(CarrierService.id)
        return db.session.scalars(query).all()

    @idempotent
    @bp.arguments(CarrierServiceSchema)
    @bp.response(201, CarrierServiceReadSchema)
    def post(self, data: dict):
        """Offer a carrier service: price, daily hand-over cut-off at a depot, transit business days."""
        return fleet_setup.create_carrier_service(g.shop.id, data)


@bp.route("/carrier-services/<int:service_id>")
class CarrierServiceItem(MethodView):
    @bp.response(200, CarrierServiceReadSchema)
    def get(self, service_id: int):
        """One carrier service."""
        return _own_service(service_id)

    @bp.arguments(CarrierServiceUpdateSchema)
    @bp.response(200, CarrierServiceReadSchema)
    def patch(self, data: dict, service_id: int):
        """Change a carrier service."""
        service = _own_service(service_id)
        fleet_setup.update_carrier_service(service, data)
        db.session.commit()
        return service

    @bp.response(204)
    def delete(self, service_id: int):
        """Stop offering a carrier service."""
        fleet_setup.delete_carrier_service(_own_service(service_id))
        db.session.commit()
