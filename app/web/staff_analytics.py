"""Staff analytics: on-time rates, transit times, claims, notifications, prediction quality and customer care
as inline SVG charts, each with its table and a CSV export (`?format=csv&chart=<key>`)."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for

from app.analytics.charts import Chart, format_value
from app.analytics.filters import Filters, carriers_in_use
from app.analytics.pages import PAGES
from app.models import Role
from app.models.types import utcnow
from app.web.staff_auth import staff_required, staff_shop_id
from carriers.registry import CARRIERS, DISPLAY_NAMES

bp = Blueprint("staff_analytics", __name__, url_prefix="/staff/analytics")

DEFAULT_DAYS = 84
MAX_DAYS = 731
# Spreadsheets run cells starting with these as formulas (CSV injection): such text gets a leading quote.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _day(name: str) -> date | None:
    text = request.args.get(name, "")
    try:
        return date.fromisoformat(text) if text and len(text) == 10 else None
    except ValueError:
        return None


def requested_filters() -> Filters:
    """The GET form's range (default: the last 12 weeks up to today, at most MAX_DAYS) and carrier, in the
    staff user's shop."""
    until = _day("until") or utcnow().date()
    since = _day("since") or until - timedelta(days=DEFAULT_DAYS - 1)
    if since > until:
        since, until = until, since
    since = max(since, until - timedelta(days=MAX_DAYS - 1))
    carrier = request.args.get("carrier") or None
    return Filters(since, until, carrier if carrier in CARRIERS else None, staff_shop_id())


def cell(value, kind: str) -> str:
    """A table value as the page shows it."""
    if kind == "pct":
        return format_value(value, percent=True)
    if kind == "num" and isinstance(value, Decimal):
        return f"{value:.2f}"
    if kind in ("num", "int"):
        return format_value(None if value is None else float(value))
    return "–" if value is None else str(value)


def _csv_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))
    text = str(value)
    return "'" + text if isinstance(value, str) and text.startswith(_FORMULA_START) else text


def chart_csv(chart: Chart, filters: Filters) -> Response:
    """The chart's table as a CSV download."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([column.name for column in chart.table.columns])
    for row in chart.table.rows:
        writer.writerow([_csv_value(value) for value in row])
    name = f"{chart.key}-{filters.since.isoformat()}-{filters.until.isoformat()}.csv"
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.get("/")
@staff_required(Role.VIEWER)
def index():
    """The first page, keeping the filters."""
    return redirect(url_for("staff_analytics.page", page="delivery", **request.args))


@bp.get("/<page>")
@staff_required(Role.VIEWER)
def page(page: str):
    """One analytics page for the filters; `?format=csv&chart=<key>` downloads one chart's table."""
    found = PAGES.get(page)
    if found is None:
        abort(404)
    filters = requested_filters()
    charts = found.build(filters)
    if request.args.get("format") == "csv":
        chosen = next((c for c in charts if c.key == request.args.get("chart")), None)
        if chosen is None:
            abort(404)
        return chart_csv(chosen, filters)
    query = {"since": filters.since.isoformat(), "until": filters.until.isoformat()}
    if filters.carrier:
        query["carrier"] = filters.carrier
    return render_template(
        "staff/analytics/page.html",
        pages=PAGES,
        current=found,
        charts=charts,
        filters=filters,
        query=query,
        carriers=carriers_in_use(staff_shop_id()),
        carrier_names=DISPLAY_NAMES,
        cell=cell,
    )
