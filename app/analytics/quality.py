"""Analytics pages over other modules' figures: prediction quality (app/risk/report.py's figures, only the
groupings the page shows) and customer care (app/customer_care/stats.py)."""

from __future__ import annotations

from datetime import UTC, datetime, time

from app.analytics.charts import Chart, Column, Series, Table, bar_chart, calibration_chart, line_chart
from app.analytics.filters import Filters, week_label, week_monday
from app.analytics.predictions import prediction_figures
from app.customer_care.stats import case_rows, survey_rows, weekly_response_times, weekly_survey_scores


def prediction_charts(filters: Filters) -> list[Chart]:
    """Calibration of p_late, precision of delay warnings per week, ETA error per carrier."""
    figures = prediction_figures(filters)
    calibration = figures.calibration
    bins = [row for row in calibration["table"] if row["n"]]
    cal_title = "Calibration of p_late"
    ece = "–" if calibration["ece"] is None else f"{calibration['ece']:.3f}"
    cal_description = (
        f"Observed share of late deliveries against the mean predicted p_late, in ten bins, over "
        f"{calibration['n']} delivered shipments (last prediction before delivery); dots on the diagonal are "
        f"well calibrated. Expected calibration error {ece}."
    )
    calibration_plot = Chart(
        "calibration",
        cal_title,
        cal_description,
        calibration_chart(
            "calibration",
            cal_title,
            cal_description,
            [(row["mean_p_late"], row["observed_late"], row["n"]) for row in bins],
        ),
        Table(
            (
                Column("p_late_bin"),
                Column("shipments", "int"),
                Column("mean_p_late", "pct"),
                Column("observed_late", "pct"),
            ),
            tuple((r["bin"], r["n"], r["mean_p_late"], r["observed_late"]) for r in calibration["table"]),
        ),
    )
    weeks = filters.weeks()
    by_week = figures.by_week
    labels = [week_label(w) for w in weeks]
    warn_title = "Delay warnings per week: precision and recall"
    warn_description = (
        "Precision: share of customers warned of a delay whose parcel was late; recall: share of late "
        "parcels whose customer was warned before delivery. Per week of delivery."
    )
    rows = [(label, by_week[label]) for label in labels if label in by_week]
    warnings_chart = Chart(
        "warnings",
        warn_title,
        warn_description,
        line_chart(
            "warnings",
            warn_title,
            warn_description,
            labels,
            [
                Series(
                    "precision",
                    [by_week.get(label, {}).get("precision") for label in labels],
                ),
                Series("recall", [by_week.get(label, {}).get("recall") for label in labels]),
            ],
            percent=True,
            y_max=1.0,
        ),
        Table(
            (
                Column("week"),
                Column("delivered", "int"),
                Column("late", "int"),
                Column("warned", "int"),
                Column("warned_and_late", "int"),
                Column("precision", "pct"),
                Column("recall", "pct"),
            ),
            tuple(
                (
                    label,
                    w["delivered"],
                    w["late"],
                    w["warned"],
                    w["warned_and_late"],
                    w["precision"],
                    w["recall"],
                )
                for label, w in rows
            ),
        ),
    )
    carriers = figures.by_carrier
    eta_title = "ETA error per carrier (hours)"
    eta_description = (
        "Mean absolute error of the predicted arrival (p50) against the delivery time, in hours, per carrier; "
        "the table adds how often delivery fell inside the p10–p90 window."
    )
    names = sorted(carriers)
    eta_chart = Chart(
        "eta",
        eta_title,
        eta_description,
        bar_chart(
            "eta",
            eta_title,
            eta_description,
            names,
            [Series("mean absolute error", [carriers[c]["mae_hours"] for c in names])],
            unit=" h",
        ),
        Table(
            (
                Column("carrier"),
                Column("with_eta", "int"),
                Column("mae_hours", "num"),
                Column("p10_p90_coverage", "pct"),
            ),
            tuple(
                (
                    c,
                    carriers[c]["n"],
                    carriers[c]["mae_hours"],
                    carriers[c]["p10_p90_coverage"],
                )
                for c in names
            ),
        ),
    )
    return [calibration_plot, warnings_chart, eta_chart]


def _hours(span) -> float | None:
    return None if span is None else round(span.total_seconds() / 3600, 2)


def customer_care_charts(filters: Filters) -> list[Chart]:
    """Survey scores (CSAT, NPS, CES) and case response times per week."""
    start = datetime.combine(filters.since, time(0), UTC)
    mondays = [week_monday(w) for w in filters.weeks()]
    labels = [week_label(w) for w in filters.weeks()]
    answers = [row for row in survey_rows(start, filters.shop_id) if row[0] < filters.end]
    scores = weekly_survey_scores(answers, mondays)
    survey_title = "Survey scores per week"
    survey_description = (
        "Mean satisfaction (CSAT, 1–5) and mean effort (CES, 1–7, 7 = very easy) of the delivery survey "
        "answers per week; the table adds the NPS (−100…100)."
    )
    survey_chart = Chart(
        "survey",
        survey_title,
        survey_description,
        line_chart(
            "survey",
            survey_title,
            survey_description,
            labels,
            [Series("CSAT", [s.csat for _, s in scores]), Series("CES", [s.ces for _, s in scores])],
            y_max=7.0,
        ),
        Table(
            (
                Column("week"),
                Column("answers", "int"),
                Column("csat", "num"),
                Column("nps", "num"),
                Column("ces", "num"),
            ),
            tuple((labels[i], s.count, s.csat, s.nps, s.ces) for i, (_, s) in enumerate(scores)),
        ),
    )
    nps_title = "NPS per week"
    nps_description = "Net promoter score: % promoters (9–10) − % detractors (0–6), per week."
    nps_chart = Chart(
        "nps",
        nps_title,
        nps_description,
        line_chart(
            "nps",
            nps_title,
            nps_description,
            labels,
            [Series("NPS", [s.nps for _, s in scores])],
            y_min=-100.0,
            y_max=100.0,
        ),
        Table(
            (
                Column("week"),
                Column("answers", "int"),
                Column("promoters", "int"),
                Column("passives", "int"),
                Column("detractors", "int"),
                Column("nps", "num"),
            ),
            tuple(
                (labels[i], s.count, s.promoters, s.passives, s.detractors, s.nps)
                for i, (_, s) in enumerate(scores)
            ),
        ),
    )
    cases = [row for row in case_rows(start, filters.shop_id) if row[0] < filters.end]
    times = weekly_response_times(cases, mondays)
    case_title = "Case response time per week (hours)"
    case_description = (
        "Median and 90th percentile of hours from a customer's message to the first staff reply, of the "
        "cases opened each week."
    )
    case_chart = Chart(
        "cases",
        case_title,
        case_description,
        line_chart(
            "cases",
            case_title,
            case_description,
            labels,
            [
                Series("median", [_hours(t.first_response.median) for _, t in times]),
                Series("p90", [_hours(t.first_response.p90) for _, t in times]),
            ],
            unit=" h",
        ),
        Table(
            (
                Column("week"),
                Column("opened", "int"),
                Column("answered", "int"),
                Column("first_response_hours_p50", "num"),
                Column("first_response_hours_p90", "num"),
                Column("resolved", "int"),
                Column("resolution_hours_p50", "num"),
                Column("resolution_hours_p90", "num"),
            ),
            tuple(
                (
                    labels[i],
                    t.opened,
                    t.first_response.count,
                    _hours(t.first_response.median),
                    _hours(t.first_response.p90),
                    t.resolution.count,
                    _hours(t.resolution.median),
                    _hours(t.resolution.p90),
                )
                for i, (_, t) in enumerate(times)
            ),
        ),
    )
    return [survey_chart, nps_chart, case_chart]
