"""Staff survey page: CSAT, NPS and effort overall and per week (table and inline SVG chart), the latest
comments, and a CSV export of the answers."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from flask import Blueprint, Response, render_template, request
from sqlalchemy import select

from app.customer_care.charts import Series, line_chart
from app.customer_care.stats import (
    survey_rows,
    survey_scores,
    week_label,
    week_start,
    weekly_survey_scores,
    weeks_until,
)
from app.extensions import db
from app.models import Role, Shipment, SurveyResponse
from app.models.types import utcnow
from app.web.staff_auth import in_staff_shop, staff_required, staff_shop_id

bp = Blueprint("staff_survey", __name__)

DEFAULT_WEEKS, MAX_WEEKS = 12, 104
LATEST_COMMENTS = 20
# Spreadsheets run cells starting with these as formulas (CSV injection): such comments get a leading quote.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def requested_weeks() -> int:
    """`?weeks=` bounded to 1..MAX_WEEKS; DEFAULT_WEEKS when absent or not a number."""
    text = request.args.get("weeks", "")
    return min(max(int(text), 1), MAX_WEEKS) if text.isdigit() and len(text) < 4 else DEFAULT_WEEKS


def period_start(weeks: list) -> datetime:
    """Midnight UTC of the first week's Monday."""
    return datetime.combine(weeks[0], datetime.min.time(), tzinfo=UTC)


@bp.get("/staff/survey")
@staff_required(Role.VIEWER)
def index():
    """The scores of the last `weeks` weeks, per week, with a chart and the latest comments."""
    weeks = weeks_until(utcnow().date(), requested_weeks())
    rows = survey_rows(period_start(weeks), staff_shop_id())
    weekly = weekly_survey_scores(rows, weeks)
    labels = [week_label(monday) for monday, _ in weekly]
    nps_chart = line_chart(
        "NPS per week",
        labels,
        [Series("NPS", [s.nps for _, s in weekly], "#2456d6")],
        low=-100,
        high=100,
    )
    averages_chart = line_chart(
        "CSAT and effort per week",
        labels,
        [
            Series("CSAT (1–5)", [s.csat for _, s in weekly], "#0f8a5f"),
            Series("Effort, CES (1–7)", [s.ces for _, s in weekly], "#c2410c", dashed=True),
        ],
        low=0,
        high=7,
    )
    latest = (
        select(SurveyResponse, Shipment)
        .join(Shipment, Shipment.id == SurveyResponse.shipment_id)
        .where(SurveyResponse.comment.is_not(None))
        .order_by(SurveyResponse.answered_at.desc(), SurveyResponse.id.desc())
        .limit(LATEST_COMMENTS)
    )
    comments = db.session.execute(in_staff_shop(latest, SurveyResponse.shop_id)).all()
    return render_template(
        "staff/survey.html",
        total=survey_scores((csat, nps, ces) for _, csat, nps, ces in rows),
        weekly=[(week_label(monday), scores) for monday, scores in weekly],
        weeks=len(weeks),
        nps_chart=nps_chart,
        averages_chart=averages_chart,
        comments=comments,
    )


@bp.get("/staff/survey.csv")
@staff_required(Role.VIEWER)
def export():
    """Every answer of the last `weeks` weeks, oldest first, one row each."""
    weeks = weeks_until(utcnow().date(), requested_weeks())
    answers = (
        select(SurveyResponse, Shipment)
        .join(Shipment, Shipment.id == SurveyResponse.shipment_id)
        .where(SurveyResponse.answered_at >= period_start(weeks))
        .order_by(SurveyResponse.answered_at, SurveyResponse.id)
    )
    rows = db.session.execute(in_staff_shop(answers, SurveyResponse.shop_id)).all()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "answered_at",
            "week",
            "shipment_id",
            "carrier",
            "tracking_number",
            "csat",
            "nps",
            "ces",
            "language",
            "comment",
        ]
    )
    for answer, shipment in rows:
        writer.writerow(
            [
                answer.answered_at.isoformat().replace("+00:00", "Z"),
                week_label(week_start(answer.answered_at)),
                shipment.id,
                shipment.carrier,
                shipment.tracking_number,
                answer.csat,
                answer.nps,
                answer.ces,
                answer.language,
                _cell(answer.comment),
            ]
        )
    filename = f"survey-{weeks[0].isoformat()}-{utcnow().date().isoformat()}.csv"
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _cell(text: str | None) -> str:
    if not text:
        return ""
    return "'" + text if text.startswith(_FORMULA_START) else text
