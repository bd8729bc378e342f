"""The analytics pages: which charts each one shows, built from the queries (figures) in this package."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from app.analytics import claims, delivery, notifications
from app.analytics.charts import Chart, Column, Series, Table, bar_chart, line_chart
from app.analytics.filters import Filters, share, week_label
from app.analytics.quality import customer_care_charts, prediction_charts

DIMENSION_TITLES = {"carrier": "carrier", "service": "service", "lane": "lane (origin → destination)"}


@dataclass(frozen=True)
class Page:
    """One analytics page: its path segment, heading and chart builder."""

    key: str
    title: str
    build: Callable[[Filters], list[Chart]]
    carrier_filter: bool = True


def _weekly_lines(rows: list[delivery.WeeklyRate], weeks: list[int]) -> tuple[list[str], list[Series]]:
    volume: dict[str, int] = defaultdict(int)
    cells: dict[tuple[str, int], delivery.WeeklyRate] = {}
    for row in rows:
        volume[row.group] += row.delivered
        cells[(row.group, row.week)] = row
    groups = sorted(volume, key=lambda g: (-volume[g], g))[:6]
    series = [Series(g, [cells[(g, w)].rate if (g, w) in cells else None for w in weeks]) for g in groups]
    return [week_label(w) for w in weeks], series


def on_time_chart(filters: Filters, dimension: str, cells: list[delivery.OnTimeCell] | None = None) -> Chart:
    """On-time rate per week, a line per group (the six largest)."""
    rows = delivery.on_time_by_week(filters, dimension, cells)
    labels, series = _weekly_lines(rows, filters.weeks())
    title = f"On-time rate per week by {DIMENSION_TITLES[dimension]}"
    description = (
        f"Share of shipments delivered by the end of the promised day, per week of delivery, for the "
        f"{len(series)} largest groups by {dimension}; {sum(r.delivered for r in rows)} deliveries."
    )
    table = Table(
        (
            Column("week"),
            Column(dimension),
            Column("delivered", "int"),
            Column("on_time", "int"),
            Column("on_time_rate", "pct"),
        ),
        tuple((week_label(r.week), r.group, r.delivered, r.on_time, r.rate) for r in rows),
    )
    svg = line_chart(f"on-time-{dimension}", title, description, labels, series, percent=True, y_max=1.0)
    return Chart(f"on-time-{dimension}", title, description, svg, table)


def transit_chart(filters: Filters) -> Chart:
    """Transit-time p50 and p90 per carrier, business and calendar days."""
    rows = delivery.transit_times(filters)
    title = "Transit time per carrier (business days)"
    description = (
        "Median (p50) and 90th percentile of business days from handover to delivery per carrier; the "
        "table also gives calendar days."
    )
    carriers = [r.carrier for r in rows]
    svg = bar_chart(
        "transit",
        title,
        description,
        carriers,
        [Series("p50", [r.business.p50 for r in rows]), Series("p90", [r.business.p90 for r in rows])],
        unit=" d",
    )
    table = Table(
        (
            Column("carrier"),
            Column("delivered", "int"),
            Column("business_days_p50", "num"),
            Column("business_days_p90", "num"),
            Column("calendar_days_p50", "num"),
            Column("calendar_days_p90", "num"),
        ),
        tuple(
            (r.carrier, r.delivered, r.business.p50, r.business.p90, r.calendar.p50, r.calendar.p90)
            for r in rows
        ),
    )
    return Chart("transit", title, description, svg, table)


def first_scan_chart(filters: Filters) -> Chart:
    """Hours to the first scan per carrier."""
    rows = delivery.first_scan_times(filters)
    title = "Time to first scan per carrier (hours)"
    description = (
        "Median and 90th percentile of hours from handover to the carrier's first physical scan, of the "
        "shipments shipped in the range; unscanned shipments are counted in the table."
    )
    svg = bar_chart(
        "first-scan",
        title,
        description,
        [r.hours.carrier for r in rows],
        [Series("p50", [r.hours.p50 for r in rows]), Series("p90", [r.hours.p90 for r in rows])],
        unit=" h",
    )
    table = Table(
        (
            Column("carrier"),
            Column("shipped", "int"),
            Column("scanned", "int"),
            Column("not_scanned", "int"),
            Column("hours_p50", "num"),
            Column("hours_p90", "num"),
        ),
        tuple(
            (r.hours.carrier, r.shipped, r.hours.count, r.unscanned, r.hours.p50, r.hours.p90) for r in rows
        ),
    )
    return Chart("first-scan", title, description, svg, table)


def exceptions_chart(filters: Filters) -> Chart:
    """Exception scans by reason."""
    rows = delivery.exceptions_by_reason(filters)
    title = "Exceptions by reason"
    description = "Shipments shipped in the range that had an exception scan, per reason the carrier gave."
    svg = bar_chart(
        "exceptions",
        title,
        description,
        [r.reason for r in rows],
        [Series("shipments", [r.shipments for r in rows])],
    )
    table = Table(
        (
            Column("reason"),
            Column("exception_scans", "int"),
            Column("shipments", "int"),
            Column("share_of_shipped", "pct"),
        ),
        tuple((r.reason, r.events, r.shipments, r.shipment_share) for r in rows),
    )
    return Chart("exceptions", title, description, svg, table)


def delivery_charts(filters: Filters) -> list[Chart]:
    """On time by carrier, service and lane."""
    cells = delivery.on_time_cells(filters)
    return [on_time_chart(filters, dimension, cells) for dimension in delivery.DIMENSIONS]


def transit_charts(filters: Filters) -> list[Chart]:
    """Transit times, first scan, exceptions."""
    return [transit_chart(filters), first_scan_chart(filters), exceptions_chart(filters)]


def claim_charts(filters: Filters) -> list[Chart]:
    """Claim rate, recovery and time to resolution per carrier."""
    rates = claims.claim_rate_by_carrier(filters)
    rate_title = "Claim rate per carrier"
    rate_description = "Claims (not cancelled) per shipment handed over in the range, per carrier."
    rate_chart = Chart(
        "claim-rate",
        rate_title,
        rate_description,
        bar_chart(
            "claim-rate",
            rate_title,
            rate_description,
            [r.carrier for r in rates],
            [Series("claim rate", [r.rate for r in rates])],
            percent=True,
        ),
        Table(
            (
                Column("carrier"),
                Column("shipments", "int"),
                Column("claims", "int"),
                Column("claim_rate", "pct"),
            ),
            tuple((r.carrier, r.shipments, r.claims, r.rate) for r in rates),
        ),
    )
    money = claims.recovery_by_carrier(filters)
    rec_title = "Recovery per carrier"
    rec_description = (
        "Amount carriers approved ÷ amount claimed, over the claims opened in the range and filed."
    )
    labels = [f"{r.carrier} ({r.currency})" if r.currency else r.carrier for r in money]
    recovery_chart = Chart(
        "recovery",
        rec_title,
        rec_description,
        bar_chart(
            "recovery",
            rec_title,
            rec_description,
            labels,
            [Series("recovered", [r.rate for r in money])],
            percent=True,
            x_max=1.0,
        ),
        Table(
            (
                Column("carrier"),
                Column("currency"),
                Column("submitted", "int"),
                Column("claimed", "num"),
                Column("recovered", "num"),
                Column("recovery_rate", "pct"),
            ),
            tuple((r.carrier, r.currency, r.submitted, r.claimed, r.recovered, r.rate) for r in money),
        ),
    )
    times = claims.resolution_times(filters)
    res_title = "Time to resolution per carrier (days)"
    res_description = (
        "Median and 90th percentile of days from opening to closing, of claims opened in the range."
    )
    resolution_chart = Chart(
        "resolution",
        res_title,
        res_description,
        bar_chart(
            "resolution",
            res_title,
            res_description,
            [r.carrier for r in times],
            [Series("p50", [r.p50_days for r in times]), Series("p90", [r.p90_days for r in times])],
            unit=" d",
        ),
        Table(
            (
                Column("carrier"),
                Column("closed", "int"),
                Column("still_open", "int"),
                Column("days_p50", "num"),
                Column("days_p90", "num"),
            ),
            tuple((r.carrier, r.closed, r.waiting, r.p50_days, r.p90_days) for r in times),
        ),
    )
    return [rate_chart, recovery_chart, resolution_chart]


def notification_charts(filters: Filters) -> list[Chart]:
    """Weekly volume per channel; failures and opt-outs per channel."""
    weeks = filters.weeks()
    volume = notifications.weekly_volume(filters)
    channels = sorted({channel for _, channel in volume})
    vol_title = "Messages per week by channel"
    vol_description = "Outbox rows created per week and channel (email, SMS, shop webhooks)."
    volume_chart = Chart(
        "volume",
        vol_title,
        vol_description,
        line_chart(
            "volume",
            vol_title,
            vol_description,
            [week_label(w) for w in weeks],
            [Series(c, [volume.get((w, c), 0) for w in weeks]) for c in channels],
        ),
        Table(
            (Column("week"), Column("channel"), Column("messages", "int")),
            tuple((week_label(w), c, volume[(w, c)]) for w in weeks for c in channels if (w, c) in volume),
        ),
    )
    figures = notifications.channel_figures(filters)
    fail_title = "Failures and opt-outs by channel"
    fail_description = (
        "Share of messages that failed for good (dead) and opt-outs per message, per channel; opt-outs are "
        "not limited by the carrier filter."
    )
    failure_chart = Chart(
        "failures",
        fail_title,
        fail_description,
        bar_chart(
            "failures",
            fail_title,
            fail_description,
            [f.channel for f in figures],
            [
                Series("failed", [f.failure_rate for f in figures]),
                Series("opted out", [f.opt_out_rate for f in figures]),
            ],
            percent=True,
        ),
        Table(
            (
                Column("channel"),
                Column("messages", "int"),
                Column("delivered", "int"),
                Column("failed", "int"),
                Column("failure_rate", "pct"),
                Column("retried_attempts", "int"),
                Column("opt_outs", "int"),
                Column("opt_out_rate", "pct"),
            ),
            tuple(
                (
                    f.channel,
                    f.messages,
                    f.delivered,
                    f.failed,
                    f.failure_rate,
                    f.retried_attempts,
                    f.opt_outs,
                    share(f.opt_outs, f.messages),
                )
                for f in figures
            ),
        ),
    )
    return [volume_chart, failure_chart]


PAGES = {
    page.key: page
    for page in (
        Page("delivery", "On time", delivery_charts),
        Page("transit", "Transit, first scan, exceptions", transit_charts),
        Page("claims", "Claims", claim_charts),
        Page("notifications", "Notifications", notification_charts),
        Page("predictions", "Prediction quality", prediction_charts),
        Page("customer-care", "Customer care", customer_care_charts, carrier_filter=False),
    )
}
