"""Staff analytics and operations: every figure checked against values computed by hand on ten shipments."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from app.analytics import claims, delivery, notifications
from app.analytics.filters import Filters, nearest_rank
from app.analytics.operations import carrier_health, outbox_lag, slot_fill
from app.analytics.pages import PAGES
from app.analytics.process_health import histogram_quantile, job_health
from app.extensions import db
from app.jobs import Job, _in_app_context
from app.models import (
    Claim,
    ClaimKind,
    ClaimState,
    DeliveryAttempt,
    Notification,
    Role,
    Shop,
    TrackingEvent,
    Unsubscribe,
)
from app.process_figures import flush_figures
from tests.factories import PASSWORD, make_shipment, make_shop, make_staff

SINCE, UNTIL = date(2026, 3, 2), date(2026, 3, 15)  # ISO weeks 2026-W10 (Mon 2 Mar) and W11
RANGE = {"since": SINCE.isoformat(), "until": UNTIL.isoformat()}


def scan(shipment, occurred_at: datetime, status: str, reason: str | None = None) -> None:
    """A carrier scan (the content hash kept short enough for every status)."""
    db.session.add(
        TrackingEvent(
            shipment_id=shipment.id,
            occurred_at=occurred_at,
            status=status,
            reason=reason,
            carrier_code=status.upper(),
            content_hash=f"{shipment.id}-{occurred_at:%d%H%M}-{status[:9]}",
            source="poll",
        )
    )


def at(day: int, hour: float = 0.0) -> datetime:
    """March `day`, 2026, `hour` o'clock UTC."""
    return datetime(2026, 3, day, tzinfo=UTC) + timedelta(hours=hour)


# name: carrier, shipped (day, hour), promised day, delivered (day, hour), hours to first scan, exceptions
DATA = {
    "b1": ("bring", (2, 10), 4, (4, 15), 2, ()),  # on time; 2 calendar, 2 business days
    "b2": ("bring", (2, 10), 4, (5, 9), 5, ("weather",)),  # late; 3, 3
    "b3": ("bring", (5, 12), 9, (9, 11), 26, ()),  # Thu → Mon: on time; 4, 2
    "b4": ("bring", (6, 8), 10, (9, 16), 3, ()),  # Fri → Mon: on time; 3, 1
    "b5": ("bring", (10, 9), 12, (13, 10), 10, ("weather", "weather")),  # late; 3, 3
    "b6": ("bring", (11, 8), 14, None, None, ()),  # travelling, never scanned
    "p1": ("postnord", (2, 8), 5, (5, 12), 1, ()),  # on time; 3, 3
    "p2": ("postnord", (3, 8), 6, (9, 12), 4, ("customs",)),  # Tue → Mon: late; 6, 4
    "p3": ("postnord", (9, 8), 11, (11, 9), 30.5, ()),  # on time; 2, 2
    "p4": ("postnord", (11, 8), None, (13, 8), 7, ()),  # no promise: not in on-time; 2, 2
}


@pytest.fixture
def shop(app) -> Shop:
    """Ten shipments with known times, scans, exceptions, two claims and five messages."""
    shop, _ = make_shop()
    made = {}
    for number, (name, (carrier, shipped, promised, delivered, first_scan, exceptions)) in enumerate(
        DATA.items()
    ):
        bring = carrier == "bring"
        shipment = make_shipment(
            shop,
            carrier=carrier,
            tracking_number=f"T{number:03d}",
            service="Pakke" if bring else "MyPack",
            origin_country="NO" if bring else "SE",
            destination_country="NO",
            shipped_at=at(*shipped),
            promised_date=date(2026, 3, promised) if promised else None,
            delivered_at=at(*delivered) if delivered else None,
            status="delivered" if delivered else "in_transit",
        )
        scan(shipment, at(*shipped) - timedelta(hours=1), "info_received")
        if first_scan is not None:
            scan(shipment, at(*shipped) + timedelta(hours=first_scan), "in_transit")
        for n, reason in enumerate(exceptions):
            scan(shipment, at(*shipped) + timedelta(hours=40 + n), "exception", reason)
        made[name] = shipment
    db.session.add_all(
        [
            Claim(
                reference="C-0000001",
                shop_id=shop.id,
                shipment_id=made["p2"].id,
                kind=ClaimKind.LOST,
                state=ClaimState.CLOSED,
                source="detection",
                rule="no_scan",
                opened_at=at(10),
                currency="NOK",
                claim_amount=Decimal("1000"),
                approved_amount=Decimal("600"),
                submitted_at=at(10, 2),
                closed_at=at(13, 12),
            ),
            Claim(
                reference="C-0000002",
                shop_id=shop.id,
                shipment_id=made["b5"].id,
                kind=ClaimKind.DAMAGED,
                state=ClaimState.OPENED,
                source="customer",
                rule="customer_report",
                opened_at=at(14),
            ),
        ]
    )
    for n, (channel, state) in enumerate(
        [("email", "sent"), ("email", "sent"), ("email", "dead"), ("sms", "sent"), ("sms", "pending")]
    ):
        db.session.add(
            Notification(
                dedupe_key=f"k{n}",
                shop_id=shop.id,
                shipment_id=made["b1"].id,
                channel=channel,
                trigger="delivered",
                recipient="x",
                state=state,
                created_at=at(4, n),
            )
        )
    db.session.flush()
    dead = db.session.query(Notification).filter_by(state="dead").one()
    db.session.add(
        DeliveryAttempt(
            notification_id=dead.id, number=1, attempted_at=at(4, 3), duration_ms=20, outcome="retry"
        )
    )
    db.session.add(
        Unsubscribe(shop_id=shop.id, channel="email", address="k@x.no", source="link", created_at=at(6))
    )
    db.session.commit()
    return shop


def scope(shop: Shop, carrier: str | None = None) -> Filters:
    return Filters(SINCE, UNTIL, carrier, shop.id)


def test_on_time_rate_per_week_by_carrier_service_and_lane(shop) -> None:
    by_carrier = [(r.week, r.group, r.delivered, r.on_time) for r in delivery.on_time_by_week(scope(shop))]
    w10, w11 = by_carrier[0][0], by_carrier[-1][0]
    assert by_carrier == [
        (w10, "bring", 2, 1),
        (w10, "postnord", 1, 1),
        (w11, "bring", 3, 2),
        (w11, "postnord", 2, 1),
    ]
    lanes = {(r.group, r.week): r.rate for r in delivery.on_time_by_week(scope(shop), "lane")}
    assert lanes == {("NO→NO", w10): 0.5, ("SE→NO", w10): 1.0, ("NO→NO", w11): 2 / 3, ("SE→NO", w11): 0.5}
    services = {r.group for r in delivery.on_time_by_week(scope(shop, "postnord"), "service")}
    assert services == {"MyPack"}


def test_transit_percentiles_in_calendar_and_business_days(shop) -> None:
    rows = {r.carrier: r for r in delivery.transit_times(scope(shop))}
    # bring: calendar [2, 3, 3, 3, 4], business [1, 2, 2, 3, 3]; postnord: calendar [2, 2, 3, 6], business [2, 2, 3, 4]
    assert (rows["bring"].delivered, rows["bring"].calendar.p50, rows["bring"].calendar.p90) == (5, 3, 4)
    assert (rows["bring"].business.p50, rows["bring"].business.p90) == (2, 3)
    assert (rows["postnord"].delivered, rows["postnord"].calendar.p50, rows["postnord"].calendar.p90) == (
        4,
        2,
        6,
    )
    assert (rows["postnord"].business.p50, rows["postnord"].business.p90) == (2, 4)


def test_time_to_first_scan_ignores_electronic_notices_and_counts_unscanned(shop) -> None:
    rows = {r.hours.carrier: r for r in delivery.first_scan_times(scope(shop))}
    # bring [2, 3, 5, 10, 26] and one unscanned; postnord [1, 4, 7, 30]
    bring, postnord = rows["bring"], rows["postnord"]
    assert (bring.shipped, bring.hours.count, bring.unscanned, bring.hours.p50, bring.hours.p90) == (
        6,
        5,
        1,
        5,
        26,
    )
    assert (postnord.shipped, postnord.unscanned, postnord.hours.p50, postnord.hours.p90) == (4, 0, 4, 30)


def test_exceptions_by_reason(shop) -> None:
    rows = [
        (r.reason, r.events, r.shipments, r.shipment_share)
        for r in delivery.exceptions_by_reason(scope(shop))
    ]
    assert rows == [("weather", 3, 2, 0.2), ("customs", 1, 1, 0.1)]


def test_claim_rate_recovery_and_resolution(shop) -> None:
    rates = {r.carrier: (r.shipments, r.claims) for r in claims.claim_rate_by_carrier(scope(shop))}
    assert rates == {"bring": (6, 1), "postnord": (4, 1)}
    [money] = claims.recovery_by_carrier(scope(shop))
    assert (money.carrier, money.currency, money.submitted, money.rate) == ("postnord", "NOK", 1, 0.6)
    times = {r.carrier: (r.closed, r.waiting, r.p50_days) for r in claims.resolution_times(scope(shop))}
    assert times == {"bring": (0, 1, None), "postnord": (1, 0, 3.5)}  # 10 Mar 00:00 → 13 Mar 12:00


def test_notification_volume_failures_and_opt_outs(shop) -> None:
    figures = {f.channel: f for f in notifications.channel_figures(scope(shop))}
    email, sms = figures["email"], figures["sms"]
    assert (email.messages, email.delivered, email.failed, email.retried_attempts, email.opt_outs) == (
        3,
        2,
        1,
        1,
        1,
    )
    assert email.failure_rate == pytest.approx(1 / 3)
    assert (sms.messages, sms.delivered, sms.failed, sms.opt_outs) == (2, 1, 0, 0)
    assert sum(notifications.weekly_volume(scope(shop)).values()) == 5
    assert (
        notifications.channel_figures(scope(shop, "postnord"))[0].messages == 0
    )  # rows are of a bring parcel


def test_nearest_rank_on_a_histogram() -> None:
    assert nearest_rank([(1, 1), (2, 2), (3, 2)], 0.5) == 2
    assert nearest_rank([(1, 1), (2, 2), (3, 2)], 0.9) == 3
    assert nearest_rank([], 0.5) is None


def _login(client, shop: Shop | None = None, role: Role = Role.VIEWER) -> None:
    user = make_staff(f"{role}@shop.test", role)
    user.shop_id = shop.id if shop is not None else None
    db.session.commit()
    assert client.post("/staff/login", data={"email": user.email, "password": PASSWORD}).status_code == 302


def test_pages_need_a_login_and_viewers_may_read_every_one(client, shop) -> None:
    for path in ("/staff/analytics/delivery", "/staff/operations/"):
        response = client.get(path)
        assert response.status_code == 302 and "/staff/login" in response.headers["Location"]
    _login(client)
    assert client.get("/staff/analytics/", query_string=RANGE).status_code == 302
    for key in PAGES:
        response = client.get(f"/staff/analytics/{key}", query_string=RANGE)
        assert response.status_code == 200, key
        html = response.get_data(as_text=True)
        assert html.count('role="img"') == len(PAGES[key].build(scope(shop))), key
        assert "style=" not in html.split("<main>")[1], key  # the CSP-friendly charts carry classes only
    assert client.get("/staff/analytics/nothing").status_code == 404
    operations = client.get("/staff/operations/")
    assert operations.status_code == 200 and "per process" in operations.get_data(as_text=True)


def test_chart_page_shows_the_figures_in_svg_and_table(client, shop) -> None:
    _login(client)
    html = client.get("/staff/analytics/delivery", query_string=RANGE | {"carrier": "bring"}).get_data(
        as_text=True
    )
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="chart-on-time-carrier"' in html
    assert "<title>bring, 2026-W11: 66.7 %</title>" in html
    assert "postnord, 2026-W10" not in html  # the carrier filter
    assert "<td>2026-W10</td><td>bring</td>" in html


def test_csv_export_holds_the_chart_table(client, shop) -> None:
    _login(client)
    response = client.get(
        "/staff/analytics/delivery", query_string=RANGE | {"format": "csv", "chart": "on-time-carrier"}
    )
    assert response.mimetype == "text/csv"
    assert 'filename="on-time-carrier-2026-03-02-2026-03-15.csv"' in response.headers["Content-Disposition"]
    assert list(csv.reader(io.StringIO(response.get_data(as_text=True)))) == [
        ["week", "carrier", "delivered", "on_time", "on_time_rate"],
        ["2026-W10", "bring", "2", "1", "0.5"],
        ["2026-W10", "postnord", "1", "1", "1"],
        ["2026-W11", "bring", "3", "2", "0.6667"],
        ["2026-W11", "postnord", "2", "1", "0.5"],
    ]
    transit = client.get(
        "/staff/analytics/transit", query_string=RANGE | {"format": "csv", "chart": "transit"}
    )
    assert transit.get_data(as_text=True).splitlines()[1:] == ["bring,5,2,3,3,4", "postnord,4,2,4,2,6"]
    missing = client.get("/staff/analytics/delivery", query_string=RANGE | {"format": "csv", "chart": "nope"})
    assert missing.status_code == 404


def test_csv_cells_that_spreadsheets_would_run_are_quoted(client, shop) -> None:
    make_shipment(
        shop,
        tracking_number="EVIL",
        service="=HYPERLINK(1)",
        shipped_at=at(3),
        promised_date=date(2026, 3, 5),
        delivered_at=at(4),
        status="delivered",
    )
    _login(client)
    body = client.get(
        "/staff/analytics/delivery", query_string=RANGE | {"format": "csv", "chart": "on-time-service"}
    ).get_data(as_text=True)
    assert "'=HYPERLINK(1)" in body


def test_staff_of_another_shop_see_none_of_these_figures(client, shop) -> None:
    other, _ = make_shop("Other shop")
    _login(client, other)
    body = client.get(
        "/staff/analytics/delivery", query_string=RANGE | {"format": "csv", "chart": "on-time-carrier"}
    )
    assert body.get_data(as_text=True).splitlines() == ["week,carrier,delivered,on_time,on_time_rate"]
    assert claims.claim_rate_by_carrier(scope(other)) == []


def test_operations_figures_from_the_database_and_the_flushed_job_runs(app, shop) -> None:
    now = at(20)
    stale = make_shipment(
        shop, tracking_number="LATE1", carrier="ups", next_poll_at=now - timedelta(minutes=30)
    )
    make_shipment(shop, tracking_number="SOON1", carrier="ups", next_poll_at=now + timedelta(minutes=5))
    since = datetime.now(UTC) - timedelta(hours=1)  # the workers' figures are on the wall clock
    health = {c.carrier: c for c in carrier_health(now, since, [], shop.id)}
    assert (health["ups"].overdue, health["ups"].oldest_overdue_at) == (1, stale.next_poll_at)
    assert health["bring"].overdue == 0
    lag = outbox_lag(at(5), shop.id)
    assert lag.by_state["sent"] == 3 and lag.by_state["pending"] == 1 and lag.by_state["dead"] == 1
    assert lag.oldest_pending_at == at(4, 4)

    def broken() -> None:
        raise RuntimeError("boom")

    runner = _in_app_context(app, Job("test-broken-job", broken, "POLL_INTERVAL_SECONDS"))
    assert {j.job: j for j in job_health(since, [])} == {}
    with pytest.raises(RuntimeError):
        runner()
    flush_figures()
    after = {j.job: j for j in job_health(since, [])}["test-broken-job"]
    assert (after.runs, after.failures) == (1, 1) and after.last_failed_at is not None
    assert slot_fill(date(2026, 3, 20), shop.id) == []


def test_histogram_quantile_interpolates_inside_the_bucket() -> None:
    buckets = [(0.1, 2.0), (0.5, 6.0), (1.0, 10.0), (float("inf"), 10.0)]
    assert histogram_quantile(buckets, 0.5) == pytest.approx(0.1 + 0.4 * 3 / 4)
    assert histogram_quantile(buckets, 0.95) == pytest.approx(0.5 + 0.5 * 3.5 / 4)
    assert histogram_quantile([], 0.5) is None
