"""Shop API: delivery options at checkout, and slot reservations (hold, confirm, release)."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, g
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.api.auth import require_api_key
from app.api.delivery_schemas import (
    OptionsQuerySchema,
    OptionsRequestSchema,
    OptionsResponseSchema,
    ReservationConfirmSchema,
    ReservationCreateSchema,
    ReservationPageSchema,
    ReservationQuerySchema,
    ReservationSchema,
)
from app.api.idempotency import idempotent
from app.api.problems import ApiProblem
from app.delivery.checkout import CheckoutOptions, Located, delivery_options, place_delivery
from app.delivery.depot_days import Parcel, at
from app.delivery.reservations import confirm, hold_slot, release
from app.extensions import db
from app.models import Depot, Reservation, Shipment, Slot
from app.models.types import utcnow
from planning.geo import Address

bp = Blueprint(
    "delivery", __name__, url_prefix="/api/v1", description="Delivery options and slot reservations"
)
bp.before_request(require_api_key)

# An order time this far in the past is a client clock glitch we forgive; beyond it, an error.
ORDER_TIME_SLACK = timedelta(minutes=5)


def _invalid(field: str, message: str) -> ApiProblem:
    return ApiProblem(422, "Unprocessable Entity", message, kind="validation", errors={field: [message]})


def _located(data: dict) -> Located:
    address = data.get("address")
    return place_delivery(Address(**address) if address else None, data.get("coordinates"))


def _parcel(data: dict) -> Parcel:
    return Parcel(data["parcel"]["weight_kg"], data["parcel"]["volume_l"])


def _options_body(options: CheckoutOptions, explain: bool) -> dict:
    slots = []
    for day in options.days:
        for offer in day.offers:
            if not (offer.offered or explain):
                continue
            window = offer.window
            slot = {
                "template_id": int(window.key),
                "date": day.day,
                "depot": day.depot.name,
                "start": window.start,
                "end": window.end,
                "offered": offer.offered,
                "price": offer.price,
                "currency": next(t.currency for t in day.depot.templates if str(t.id) == window.key),
                "green": offer.green,
                "remaining": window.capacity - window.taken,
            }
            if explain:
                slot["reasons"] = [{"code": r.code.value, "text": r.text} for r in offer.reasons]
            slots.append(slot)
    carriers = []
    for offer in options.carriers:
        service = offer.service
        carrier = {
            "carrier": service.carrier,
            "service": service.service,
            "label": service.label,
            "price": service.price,
            "currency": service.currency,
            "handover_at": offer.handover_at,
            "promised_date": offer.promised_date,
            "earliest": offer.earliest,
            "expected": offer.expected,
            "latest": offer.latest,
            "p_on_time": offer.p_on_time,
        }
        if explain:
            carrier["reasons"] = list(offer.reasons)
        carriers.append(carrier)
    located = options.located
    location = {
        "lat": located.point.lat,
        "lon": located.point.lon,
        "label": located.label,
        "source": located.source,
    }
    notes = [{"code": n.code.value, "text": n.text} for n in options.notes]
    return {"location": location, "slots": slots, "carriers": carriers, "notes": notes}


def reservation_body(reservation: Reservation) -> dict:
    """A reservation as the API shows it."""
    depot = db.session.get(Depot, reservation.depot_id)
    template = reservation.slot.template
    return {
        "id": reservation.public_id,
        "state": reservation.state,
        "template_id": template.id,
        "date": reservation.day,
        "start": at(depot, reservation.day, template.start),
        "end": at(depot, reservation.day, template.end),
        "price": reservation.price,
        "currency": reservation.currency,
        "expires_at": reservation.expires_at,
        "confirmed_at": reservation.confirmed_at,
        "order_ref": reservation.order_ref,
        "shipment_id": reservation.shipment_id,
        "address": reservation.address,
        "lat": reservation.lat,
        "lon": reservation.lon,
    }


@bp.route("/delivery-options")
class DeliveryOptions(MethodView):
    @bp.arguments(OptionsQuerySchema, location="query")
    @bp.arguments(OptionsRequestSchema)
    @bp.response(200, OptionsResponseSchema)
    @bp.alt_response(503, response="SERVICE_UNAVAILABLE")
    def post(self, query: dict, data: dict):
        """Own-fleet slots (priced, green where a van passes anyway) and carrier services for an address."""
        now = utcnow()
        order_time = data.get("order_time", now)
        if order_time < now - ORDER_TIME_SLACK:
            raise _invalid("order_time", "The order time is in the past.")
        limit = current_app.config["OPTIONS_MAX_DAYS"]
        days = data.get("days", current_app.config["OPTIONS_DEFAULT_DAYS"])
        if days > limit:
            raise _invalid("days", f"At most {limit} days.")
        located = _located(data)
        body = _options_body(
            delivery_options(g.shop.id, located, _parcel(data), order_time, days), query["explain"]
        )
        db.session.commit()  # the geocode cache row, if one was added
        return body


@bp.route("/reservations")
class ReservationCollection(MethodView):
    @bp.arguments(ReservationQuerySchema, location="query")
    @bp.response(200, ReservationPageSchema)
    def get(self, args: dict):
        """List the shop's reservations, newest first, by state and delivery day."""
        query = select(Reservation).where(Reservation.shop_id == g.shop.id)
        if "state" in args:
            query = query.where(Reservation.state == args["state"])
        if "date" in args:
            query = query.where(Reservation.day == args["date"])
        total = db.session.scalar(select(func.count()).select_from(query.subquery()))
        page, per_page = args["page"], args["per_page"]
        items = db.session.scalars(
            query.options(selectinload(Reservation.slot).selectinload(Slot.template))
            .order_by(Reservation.id.desc())
            .offset((page - 1) * per_page)
            .limit(per_page)
        ).all()
        return {
            "items": [reservation_body(r) for r in items],
            "page": page,
            "per_page": per_page,
            "total": total,
        }

    @idempotent
    @bp.arguments(ReservationCreateSchema)
    @bp.response(201, ReservationSchema)
    @bp.alt_response(409, response="CONFLICT")
    @bp.alt_response(503, response="SERVICE_UNAVAILABLE")
    def post(self, data: dict):
        """Hold a slot during checkout (HOLD_TTL_SECONDS); 409 when it is no longer available."""
        located = _located(data)
        reservation = hold_slot(
            g.shop.id,
            data["template_id"],
            data["date"],
            located.point,
            _parcel(data),
            now=utcnow(),
            address=located.label,
            order_ref=data.get("order_ref"),
            location_field="address" if "address" in data else "coordinates",
        )
        return reservation_body(reservation)


def _own(public_id: str) -> Reservation:
    found = db.session.scalar(select(Reservation).where(Reservation.public_id == public_id))
    if found is None or found.shop_id != g.shop.id:
        raise ApiProblem(404, "Not Found", f"No reservation {public_id}.", kind="not-found")
    return found


@bp.route("/reservations/<public_id>")
class ReservationItem(MethodView):
    @bp.response(200, ReservationSchema)
    def get(self, public_id: str):
        """One reservation."""
        return reservation_body(_own(public_id))

    @bp.response(204)
    def delete(self, public_id: str):
        """Release a hold (or cancel a booking): the slot and the van's room become available again."""
        release(_own(public_id), now=utcnow())
        db.session.commit()


@bp.route("/reservations/<public_id>/confirm")
class ReservationConfirm(MethodView):
    @idempotent
    @bp.arguments(ReservationConfirmSchema)
    @bp.response(200, ReservationSchema)
    @bp.alt_response(409, response="CONFLICT")
    def post(self, data: dict, public_id: str):
        """Book the held slot for the placed order, optionally linking the shipment."""
        reservation = _own(public_id)
        shipment_id = data.get("shipment_id")
        if shipment_id is not None:
            shipment = db.session.get(Shipment, shipment_id)
            if shipment is None or shipment.shop_id != g.shop.id:
                raise _invalid("shipment_id", f"No shipment {shipment_id}.")
        confirm(reservation, now=utcnow(), shipment_id=shipment_id, order_ref=data.get("order_ref"))
        return reservation_body(reservation)
