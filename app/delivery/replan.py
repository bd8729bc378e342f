"""Re-optimising open days: a worker job re-solves each changed depot-day with OR-Tools, keeps the better.

Checkout only inserts stops into the current plan; re-solving the whole day shortens routes and so frees
van time that later checkouts can use. A day is re-solved once bookings have been quiet for the debounce
period. One worker at a time takes a day by a lease on its plan row (works on SQLite and PostgreSQL), and
the result is written only if no booking changed the day meanwhile (else it is retried on a later run).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import or_, select, update

from app.delivery.depot_days import load_day, new_version
from app.extensions import db
from app.models import RoutePlan, VanLoad
from app.models.types import utcnow
from planning.routing import NoFeasiblePlan, solve
from planning.routing.day_plan import DayPlan, vehicle_loads
from planning.routing.model import Plan

log = logging.getLogger(__name__)

# A better plan must save at least this much (km) to replace the current one: no churn over rounding.
MIN_SAVING_KM = 1e-6


@dataclass(frozen=True)
class Solved:
    """A day re-solved at a plan revision: the current plan and the better one, if the solver found it."""

    plan_id: int
    revision: int
    day: DayPlan
    better: Plan | None


def plan_cost(day: DayPlan, plan: Plan) -> tuple[int, float]:
    """Unserved stops first, then distance plus the fixed cost of each van used."""
    fixed = {v.id: v.fixed_cost for v in day.problem.vehicles}
    return len(plan.unassigned), plan.distance + sum(fixed[r.vehicle] for r in plan.routes)


def due_plans(now: datetime, limit: int) -> list[int]:
    """Plan rows of today and later, changed since last solved, quiet for the debounce period, not leased."""
    quiet = now - timedelta(seconds=current_app.config["REPLAN_DEBOUNCE_SECONDS"])
    return list(
        db.session.scalars(
            select(RoutePlan.id)
            .where(
                RoutePlan.revision != RoutePlan.optimised_revision,
                RoutePlan.changed_at <= quiet,
                RoutePlan.day >= now.date() - timedelta(days=1),
                or_(RoutePlan.lease_until.is_(None), RoutePlan.lease_until < now),
            )
            .order_by(RoutePlan.changed_at)
            .limit(limit)
        )
    )


def take_lease(plan_id: int, now: datetime, seconds: float) -> bool:
    """Lease the day for one solver run; False when another worker holds it."""
    taken = db.session.execute(
        update(RoutePlan)
        .where(RoutePlan.id == plan_id, or_(RoutePlan.lease_until.is_(None), RoutePlan.lease_until < now))
        .values(lease_until=now + timedelta(seconds=seconds))
    )
    return taken.rowcount == 1


def solve_day(plan_id: int, time_limit_s: float) -> Solved:
    """Re-solve the day from its current plan (never worse: the solver starts from it when it is feasible)."""
    row = db.session.get(RoutePlan, plan_id)
    revision = row.revision
    day = load_day(row.depot, row.day, row)
    db.session.commit()  # no transaction stays open while the solver runs
    try:
        found = solve(day.problem, time_limit_s=time_limit_s, initial_plan=day.plan)
    except NoFeasiblePlan:
        found = None
    if found is not None and plan_cost(day, found)[0] <= plan_cost(day, day.plan)[0]:
        current, candidate = plan_cost(day, day.plan), plan_cost(day, found)
        if candidate[0] < current[0] or candidate[1] < current[1] - MIN_SAVING_KM:
            return Solved(plan_id, revision, day, found)
    return Solved(plan_id, revision, day, None)


def store_solution(solved: Solved, now: datetime) -> bool:
    """Write the better plan if the day is still at the solved revision; always end the lease."""
    values: dict = {"optimised_revision": solved.revision, "optimised_at": now, "lease_until": None}
    if solved.better is not None:
        sequences = {r.vehicle: [v.stop for v in r.visits] for r in solved.better.routes}
        values.update(
            sequences=sequences,
            distance_km=solved.better.distance,
            version=new_version(),
            optimised_saving_km=solved.day.plan.distance - solved.better.distance,
        )
    written = db.session.execute(
        update(RoutePlan)
        .where(RoutePlan.id == solved.plan_id, RoutePlan.revision == solved.revision)
        .values(**values)
    )
    if written.rowcount != 1:
        db.session.execute(update(RoutePlan).where(RoutePlan.id == solved.plan_id).values(lease_until=None))
        return False
    if solved.better is not None:
        day = db.session.get(RoutePlan, solved.plan_id).day
        for vehicle, load in vehicle_loads(solved.day.problem, values["sequences"]).items():
            mine = (VanLoad.vehicle_id == int(vehicle), VanLoad.day == day)
            db.session.execute(update(VanLoad).where(*mine).values(load=load))
    return True


def replan_due_days(now: datetime | None = None) -> int:
    """Job: re-solve the days whose bookings changed; returns how many days got a better plan."""
    config = current_app.config
    now = now or utcnow()
    limit_s = config["REPLAN_TIME_LIMIT_SECONDS"]
    improved = 0
    for plan_id in due_plans(now, config["REPLAN_DAYS_PER_RUN"]):
        if not take_lease(plan_id, now, limit_s + 60):
            db.session.rollback()
            continue
        db.session.commit()
        solved = solve_day(plan_id, limit_s)
        if store_solution(solved, utcnow()) and solved.better is not None:
            improved += 1
            log.info("plan %s: %.1f km saved", plan_id, solved.day.plan.distance - solved.better.distance)
        db.session.commit()
    return improved
