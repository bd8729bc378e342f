"""The staff risk report: how trustworthy delay warnings, the queue, p_late and the ETA were."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, render_template, request

from app.models import Role
from app.risk.report import format_share, risk_report
from app.web.staff_auth import staff_required, staff_shop_id

bp = Blueprint("risk_report", __name__, url_prefix="/staff/risk")


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


@bp.get("/")
@staff_required(Role.VIEWER)
def index():
    """The report on the staff user's delivered shipments, optionally for deliveries between `since` and
    `until`."""
    since, until = _day(request.args.get("since")), _day(request.args.get("until"))
    report = risk_report(since, until, shop_id=staff_shop_id())
    return render_template("staff/risk_report.html", report=report, pct=format_share)
