"""Staff of one shop see only that shop: every /staff URL (enumerated from the URL map) is visited by a
user bound to shop A with shop B's objects; the operator's all-shops staff still see both."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from sqlalchemy import func, select

from app.analytics.pages import PAGES as ANALYTICS_PAGES
from app.claims.evidence import Upload, attach
from app.claims.service import ClaimCandidate, open_claim
from app.delivery.depot_days import Parcel
from app.delivery.reservations import hold_slot
from app.demo.fleet import create_fleet
from app.extensions import db, limiter
from app.models import (
    CaseMessage,
    Claim,
    ClaimEvent,
    ClaimKind,
    Notification,
    Role,
    RoutePlan,
    Shop,
    StaffUser,
    SupportCase,
    SurveyResponse,
)
from app.models.types import utcnow
from app.risk.report import risk_report
from carriers.model import Status
from planning.calendar import holiday_name
from planning.geo import Point
from planning.prediction import RiskState
from tests.factories import PASSWORD, make_shipment, make_shop

OSLO = ZoneInfo("Europe/Oslo")


@dataclass
class ShopData:
    """One shop's objects and the strings that show them on a page."""

    shop: Shop
    ids: dict[str, int | str]
    markers: tuple[str, ...]


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (20, 20), "red").save(out, format="PNG")
    return out.getvalue()


def _shop_data(letter: str, carrier: str, delivered_carrier: str, day: date) -> ShopData:
    shop, _ = make_shop(f"Shop {letter} Handel")
    number = f"{letter}TRACK000{letter}"
    email = f"kunde-{letter.lower()}@{letter.lower()}-shop.example"
    shipment = make_shipment(
        shop,
        carrier=carrier,
        tracking_number=number,
        status=Status.IN_TRANSIT,
        risk_state=RiskState.AT_RISK,
        p_late=0.7,
        declared_value=Decimal("300.00"),
        currency="NOK",
        customer_email=email,
        order_ref=f"ORDER-{letter}-1",
    )
    delivered = make_shipment(
        shop,
        carrier=delivered_carrier,
        tracking_number=f"{letter}DELIVERED{letter}",
        status=Status.DELIVERED,
        delivered_at=datetime(2026, 11, 24, 12, tzinfo=UTC),
        p_late=0.9,
    )
    claim = open_claim(ClaimCandidate(shipment, ClaimKind.LOST, "no_scan", {}), actor="system:detector")
    db.session.flush()
    attachment = attach(claim, [Upload(f"{letter}.png", _png())], uploaded_by="staff:test")[0]
    notification = Notification(
        dedupe_key=f"scope-{letter}",
        shop_id=shop.id,
        shipment_id=shipment.id,
        channel="email",
        trigger="shipped",
        recipient=email,
        subject=f"Subject {letter}",
        body_text="Your parcel is on its way.",
        state="sent",
    )
    question = f"Where is my parcel, asks {letter}-kunde?"
    support_case = SupportCase(
        shop_id=shop.id,
        shipment_id=shipment.id,
        reply_channel="email",
        language="en",
        messages=[CaseMessage(body=question)],
    )
    comment = f"Survey comment from {letter}-kunde"
    survey = SurveyResponse(
        shop_id=shop.id, shipment_id=delivered.id, csat=4, nps=9, ces=2, comment=comment, language="en"
    )
    db.session.add_all([notification, support_case, survey])
    depot = create_fleet(shop, vans=1, windows=((time(8), time(20)),))
    depot.name = f"Depot {letter}-by"
    db.session.commit()
    hold_slot(shop.id, depot.templates[0].id, day, Point(59.92, 10.75), Parcel(2.0), now=utcnow())
    db.session.commit()
    plan = db.session.scalar(select(RoutePlan).where(RoutePlan.depot_id == depot.id))
    return ShopData(
        shop,
        {
            "shipment_id": shipment.id,
            "notification_id": notification.id,
            "reference": claim.reference,
            "attachment_id": attachment.id,
            "plan_id": plan.id,
            "case_id": support_case.id,
            "action": "note",
        },
        (shop.name, number, email, claim.reference, depot.name, delivered_carrier, question, comment),
    )


@pytest.fixture
def shops(app, tmp_path) -> tuple[ShopData, ShopData]:
    app.config["CLAIM_FILES_DIR"] = tmp_path / "claim-files"
    limiter.reset()
    day = datetime.now(OSLO).date() + timedelta(days=2)
    while holiday_name(day, "NO"):
        day += timedelta(days=1)
    return _shop_data("A", "bring", "gls", day), _shop_data("B", "ups", "usps", day)


def _login(client, shop_id: int | None) -> None:
    email = f"staff-{shop_id or 'all'}@leveranse.test"
    user = StaffUser(email=email, role=Role.ADMIN.value, shop_id=shop_id)
    user.set_password(PASSWORD)
    db.session.add(user)
    db.session.commit()
    assert client.post("/staff/login", data={"email": email, "password": PASSWORD}).status_code == 302


def _staff_rules(app) -> list:
    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/staff")]
    return [r for r in rules if r.endpoint not in {"staff_auth.logout"}]


def _url(rule, ids: dict) -> str:
    missing = set(rule.arguments) - set(ids)
    assert not missing, f"{rule.rule}: give this test an object for {sorted(missing)}"
    path = rule.rule
    for name in rule.arguments:
        path = path.replace(f"<{name}>", str(ids[name])).replace(f"<int:{name}>", str(ids[name]))
    return path


# Path arguments that choose a view rather than name an object, with every value they take.
VIEW_ARGUMENTS = {"page": sorted(ANALYTICS_PAGES)}


def _view_urls(rule) -> list[str]:
    (name,) = rule.arguments
    return [rule.rule.replace(f"<{name}>", value) for value in VIEW_ARGUMENTS[name]]


def _fingerprint(data: ShopData) -> tuple:
    db.session.expire_all()
    claim = db.session.scalar(select(Claim).where(Claim.reference == data.ids["reference"]))
    events = db.session.scalar(select(func.count()).where(ClaimEvent.claim_id == claim.id))
    notification = db.session.get(Notification, data.ids["notification_id"])
    support_case = db.session.get(SupportCase, data.ids["case_id"])
    messages = db.session.scalar(select(func.count()).where(CaseMessage.case_id == support_case.id))
    return (
        claim.state,
        claim.version,
        events,
        notification.state,
        notification.attempts,
        support_case.status,
        messages,
    )


def _text(response) -> str:
    return (
        response.get_data(as_text=True) if response.mimetype.startswith(("text/", "application/json")) else ""
    )


def _list_pages(app, client) -> str:
    """Every staff page without an id in its URL, as one text."""
    rules = [r for r in _staff_rules(app) if "GET" in r.methods and not r.arguments]
    return "".join(_text(client.get(rule.rule)) for rule in rules)


FORM = {
    "note": "a note",
    "message": "a question",
    "body": "a reply",
    "version": "",
    "liability": "carrier",
    "kind": "lost",
}


def test_a_shop_bound_user_sees_nothing_of_another_shop_anywhere(app, client, shops) -> None:
    a, b = shops
    _login(client, a.shop.id)
    before = _fingerprint(b)
    visited = []
    for rule in _staff_rules(app):
        for method in sorted(rule.methods & {"GET", "POST"}):
            if rule.arguments and rule.arguments <= set(VIEW_ARGUMENTS):
                for path in _view_urls(rule):  # a choice of view, not an object: like a list page
                    leaked = [m for m in b.markers if m in _text(client.open(path, method=method))]
                    assert leaked == [], f"{method} {path} shows shop B's {leaked}"
            elif rule.arguments:
                response = client.open(_url(rule, b.ids), method=method, data=FORM)
                assert response.status_code == 404, f"{method} {rule.rule} with shop B's ids"
                own = client.get(_url(rule, a.ids)) if method == "GET" else None
                assert own is None or own.status_code == 200, f"GET {rule.rule} with shop A's ids"
            else:
                data = {**FORM, "reference": b.ids["reference"]}
                response = client.open(rule.rule, method=method, data=data, follow_redirects=True)
                assert response.status_code < 500, f"{method} {rule.rule}"
                # a refused bulk action names the reference the user typed; nothing else of B may show
                shown = b.markers if method == "GET" else [m for m in b.markers if m != b.ids["reference"]]
                leaked = [m for m in shown if m in _text(response)]
                assert leaked == [], f"{method} {rule.rule} shows shop B's {leaked}"
            visited.append(rule.endpoint)
    for path in (f"/staff/outbox/?shop={b.shop.id}", "/staff/claims/?show=all", "/staff/outbox/?q=b-shop"):
        text = client.get(path).get_data(as_text=True)
        assert [m for m in b.markers if m in text] == [], path
    assert _fingerprint(b) == before
    assert [m for m in a.markers if m not in _list_pages(app, client)] == []  # shop A's own data shows
    assert {"staff_home.home", "outbox.detail", "staff_claims.act", "routes.day", "risk_report.index"} <= set(
        visited
    )


def test_the_operators_staff_see_every_shop(app, client, shops) -> None:
    a, b = shops
    _login(client, None)
    text = _list_pages(app, client)
    assert [m for m in (*a.markers, *b.markers) if m not in text] == []
    for rule in _staff_rules(app):
        if rule.arguments and rule.arguments <= set(VIEW_ARGUMENTS) and "GET" in rule.methods:
            assert all(client.get(path).status_code == 200 for path in _view_urls(rule)), rule.rule
        elif rule.arguments and "GET" in rule.methods:
            for data in shops:
                assert client.get(_url(rule, data.ids)).status_code == 200, rule.rule


def test_the_risk_report_counts_one_shop_or_all(app, shops) -> None:
    a, _ = shops
    scoped, everything = risk_report(shop_id=a.shop.id), risk_report()
    assert (scoped["overall"]["warnings"]["delivered"], everything["overall"]["warnings"]["delivered"]) == (
        1,
        2,
    )
    assert list(scoped["by_carrier"]) == ["gls"] and list(everything["by_carrier"]) == ["gls", "usps"]
    assert (scoped["queue_now"]["in_queue"], everything["queue_now"]["in_queue"]) == (1, 2)


def test_staff_create_binds_a_user_to_a_shop(app, runner) -> None:
    shop, _ = make_shop("Fjord Sko")
    env = {"LEVERANSE_STAFF_PASSWORD": "long enough password"}
    result = runner.invoke(args=["staff", "create", "kari@fjord.test", "--shop", str(shop.id)], env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["shop_id"] == shop.id
    assert db.session.scalar(select(StaffUser.shop_id).where(StaffUser.email == "kari@fjord.test")) == shop.id
    unknown = runner.invoke(args=["staff", "create", "ola@fjord.test", "--shop", "999999"], env=env)
    assert unknown.exit_code != 0 and "No shop 999999." in unknown.output
    operator = runner.invoke(args=["staff", "create", "ops@leveranse.test"], env=env)
    assert json.loads(operator.output)["shop_id"] is None
