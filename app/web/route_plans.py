"""Staff view of the own fleet's route plans: each open day, and each van's stops in order with times."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Blueprint, render_template
from sqlalchemy import select

from app.delivery.depot_days import load_day, van_names
from app.extensions import db
from app.models import Depot, Reservation, Role, RoutePlan
from app.models.types import utcnow
from app.web.staff_auth import in_staff_shop, staff_required, visible_or_404

bp = Blueprint("routes", __name__, url_prefix="/staff/routes")


@dataclass(frozen=True)
class StopLine:
    """One visit as the page shows it."""

    arrival: datetime
    start: datetime
    reservation: Reservation | None


@bp.get("/")
@staff_required(Role.VIEWER)
def index():
    """Plans of yesterday onwards, per depot and day."""
    since = utcnow().date() - timedelta(days=1)
    query = select(RoutePlan).join(Depot, Depot.id == RoutePlan.depot_id).where(RoutePlan.day >= since)
    plans = db.session.scalars(
        in_staff_shop(query, Depot.shop_id).order_by(RoutePlan.day, RoutePlan.depot_id)
    ).all()
    return render_template("routes/index.html", plans=plans)


@bp.get("/<int:plan_id>")
@staff_required(Role.VIEWER)
def day(plan_id: int):
    """One depot-day: each van's route with arrival and service times (depot local time)."""
    row = db.session.get(RoutePlan, plan_id)
    depot = db.session.get(Depot, row.depot_id) if row is not None else None
    visible_or_404(depot)
    planned = load_day(depot, row.day, row)
    ids = [int(v.stop) for r in planned.plan.routes for v in r.visits]
    reservations = {r.id: r for r in db.session.scalars(select(Reservation).where(Reservation.id.in_(ids)))}
    zone = planned.origin.tzinfo

    def clock(seconds: float) -> datetime:
        return (planned.origin + timedelta(seconds=seconds)).astimezone(zone)

    routes = [
        {
            "van": van_names(depot).get(route.vehicle, route.vehicle),
            "departure": clock(route.departure),
            "return_time": clock(route.return_time),
            "distance": route.distance,
            "load": route.load,
            "stops": [
                StopLine(clock(v.arrival), clock(v.start), reservations.get(int(v.stop)))
                for v in route.visits
            ],
        }
        for route in planned.plan.routes
    ]
    return render_template(
        "routes/day.html", row=row, depot=depot, routes=routes, unassigned=planned.plan.unassigned
    )
