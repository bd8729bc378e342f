"""Staff operations page: carrier API health, poll backlog and data freshness, background jobs, outbox lag
and slot fill of the route plans."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, render_template, request

from app.analytics.charts import Series, bar_chart
from app.analytics.operations import OVERDUE_AFTER, carrier_health, outbox_lag, slot_fill
from app.analytics.process_health import WINDOWS, job_health, process_health
from app.jobs import JOBS
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
    """Everything on one page: the service clock for the shipments' ages, the wall clock for the workers'
    figures, added up over the window chosen (`?window=1h` or `24h`)."""
    now, wall_now, shop_id = utcnow(), datetime.now(UTC), staff_shop_id()
    window = request.args.get("window", "1h")
    if window not in WINDOWS:
        window = "1h"
    since = wall_now - WINDOWS[window]
    processes = process_health(since, wall_now)
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
        wall_now=wall_now,
        window=window,
        windows=list(WINDOWS),
        processes=processes,
        operator=shop_id is None,  # hosts and pids are the operator's business, not a shop's
        carriers=carrier_health(now, since, processes, shop_id),
        jobs=job_health(since, [job.name for job in JOBS]),
        outbox=outbox,
        fills=fills,
        fill_chart=fill_chart,
        age=age,
        overdue_minutes=int(OVERDUE_AFTER.total_seconds() // 60),
        stale_hours=STALE_EVENT_HOURS,
    )
