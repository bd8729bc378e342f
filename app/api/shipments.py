"""Shop API: register, read, list and stop tracking shipments."""

from __future__ import annotations

from flask import current_app, g
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.api.auth import require_api_key
from app.api.idempotency import idempotent
from app.api.problems import ApiProblem
from app.api.schemas import (
    AtRiskPageSchema,
    BulkCreateSchema,
    BulkResultSchema,
    PageQuerySchema,
    ShipmentCreateSchema,
    ShipmentDetailSchema,
    ShipmentPageSchema,
    ShipmentQuerySchema,
)
from app.extensions import db
from app.models import Shipment
from app.risk.queue import at_risk_query, book_share
from app.tracking.registration import register_shipments, stop_tracking
from carriers.numbers import normalise_number

bp = Blueprint("shipments", __name__, url_prefix="/api/v1", description="Shipments the shop wants watched")
bp.before_request(require_api_key)


def _own_shipment(shipment_id: int) -> Shipment:
    shipment = db.session.get(Shipment, shipment_id, options=[selectinload(Shipment.events)])
    if shipment is None or shipment.shop_id != g.shop.id or shipment.deleted_at is not None:
        raise ApiProblem(404, "Not Found", f"No shipment {shipment_id}.", kind="not-found")
    return shipment


@bp.route("/shipments")
class ShipmentCollection(MethodView):
    @bp.arguments(ShipmentQuerySchema, location="query")
    @bp.response(200, ShipmentPageSchema)
    def get(self, args: dict):
        """List shipments, newest first, with filters."""
        query = select(Shipment).where(Shipment.shop_id == g.shop.id, Shipment.deleted_at.is_(None))
        for name in ("status", "carrier", "risk_state", "order_ref"):
            if name in args:
                query = query.where(getattr(Shipment, name) == args[name])
        if "tracking_number" in args:
            query = query.where(Shipment.tracking_number == normalise_number(args["tracking_number"]))
        if "updated_since" in args:
            query = query.where(Shipment.updated_at >= args["updated_since"])
        total = db.session.scalar(select(func.count()).select_from(query.subquery()))
        page, per_page = args["page"], args["per_page"]
        items = db.session.scalars(
            query.order_by(Shipment.id.desc()).offset((page - 1) * per_page).limit(per_page)
        ).all()
        return {"items": items, "page": page, "per_page": per_page, "total": total}

    @idempotent
    @bp.arguments(ShipmentCreateSchema)
    @bp.response(201, ShipmentDetailSchema)
    @bp.alt_response(
        200, schema=ShipmentDetailSchema, description="Already registered: the existing shipment"
    )
    def post(self, data: dict):
        """Register a shipment; registering the same carrier + number again returns the existing one."""
        [(shipment, created)] = register_shipments(g.shop, [data])
        return shipment, 201 if created else 200


@bp.route("/shipments/bulk")
class ShipmentBulk(MethodView):
    @idempotent
    @bp.arguments(BulkCreateSchema)
    @bp.response(200, BulkResultSchema)
    def post(self, data: dict):
        """Register up to API_BULK_LIMIT shipments at once: all are valid and written, or none."""
        limit = current_app.config["API_BULK_LIMIT"]
        if len(data["shipments"]) > limit:
            raise ApiProblem(
                422,
                "Too many shipments",
                f"At most {limit} per request.",
                kind="validation",
                errors={"shipments": [f"At most {limit} items."]},
            )
        results = register_shipments(g.shop, data["shipments"])
        created = sum(1 for _, was_created in results if was_created)
        return {"created": created, "existing": len(results) - created, "items": [s for s, _ in results]}


@bp.route("/shipments/<int:shipment_id>")
class ShipmentItem(MethodView):
    @bp.response(200, ShipmentDetailSchema)
    def get(self, shipment_id: int):
        """One shipment with its events (oldest first) and data freshness."""
        return _own_shipment(shipment_id)

    @bp.response(204)
    def delete(self, shipment_id: int):
        """Stop tracking; the history is kept and registering again resumes it."""
        stop_tracking(_own_shipment(shipment_id))
        db.session.commit()


@bp.route("/shipments/at-risk")
class AtRiskShipments(MethodView):
    @bp.arguments(PageQuerySchema, location="query")
    @bp.response(200, AtRiskPageSchema)
    def get(self, args: dict):
        """Shipments the prediction flags (at_risk, late, stuck, lost), highest expected cost first, with
        the share of the shop's active shipments they are."""
        query = at_risk_query(g.shop.id)
        book = book_share(g.shop.id)
        page, per_page = args["page"], args["per_page"]
        items = db.session.scalars(query.offset((page - 1) * per_page).limit(per_page)).all()
        return {
            "items": items,
            "page": page,
            "per_page": per_page,
            "total": book.queued,
            "active": book.active,
            "book_share": book.share,
        }
