"""Staff operations page: carrier API health, poll backlog and data freshness, background jobs, outbox lag
and slot fill of the route plans."""

from __future__ import annotations

import os
from datetime import UTC, datetime

from flask import Blueprint, render_template

from app.analytics.charts import Series, bar_chart
from app.analytics.operations import OVERDUE_AFTER, carrier_health, job_health, outbox_lag, slot_fill
from app.models import Role
from app.models.types import utcnow
from app.web.staff_auth import staff_required, staff_shop_id

bp = Blueprint("staff_operations", __name__, url_prefix="/staff/operations")
STALE_EVENT_HOURS = 24


def age(moment: datetime | None, now: datetime) -> str:
    """'3 min', '5.2 h', '2.0 d' since `moment`; '–' for never."""
    if moment is None:
        return "–"
    seconds = max((now - moment).total_seconds(), 0)
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


@bp.get("/")
@staff_required(Role.VIEWER)
def index():
    """Everything on one page; the service clock for database ages, the wall clock for this process's."""
    now, shop_id = utcnow(), staff_shop_id()
    fills = slot_fill(now.date(), shop_id)
    fill_chart = bar_chart(
        "slot-fill",
        "Slot fill per day",
        "Booked and held delivery slots ÷ slot capacity, per depot and day, for the next two weeks.",
        [f"{f.day.isoformat()} {f.depot}" for f in fills],
        [Series("fill", [f.fill for f in fills])],
        percent=True,
        x_max=1.0,
    )
    outbox = outbox_lag(now, shop_id)
    return render_template(
        "staff/operations/index.html",
        now=now,
        wall_now=datetime.now(UTC),
        carriers=carrier_health(now, shop_id),
        jobs=job_health(),
        outbox=outbox,
        fills=fills,
        fill_chart=fill_chart,
        age=age,
        overdue_minutes=int(OVERDUE_AFTER.total_seconds() // 60),
        stale_hours=STALE_EVENT_HOURS,
        process=os.getpid(),
    )
