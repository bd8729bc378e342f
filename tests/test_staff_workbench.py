"""The staff workbench: the at-risk queue's filters, sorting and paging; every action (agents act, viewers
get 403, CSRF is required, bad input writes nothing); snooze and handled leaving the queue and coming back;
bulk messages through the outbox with dedupe; the prediction's history; customers and search."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.extensions import db, limiter
from app.models import (
    Claim,
    Notification,
    PredictionChange,
    Role,
    Shipment,
    ShipmentTriage,
    StaffAuditEntry,
)
from app.models.types import utcnow
from app.risk.scoring import rescore
from app.workbench import queue as workbench_queue
from app.workbench.history import prediction_keys, record_changes
from carriers.model import Status
from planning.prediction import RiskState
from tests.factories import PASSWORD, add_event, make_shipment, make_shop, make_staff

NOW = utcnow().replace(microsecond=0)


@pytest.fixture(autouse=True)
def _limits(app):
    limiter.reset()  # these tests log in more often than the login form's rate limit allows a minute


def _login(client, role: Role = Role.AGENT, email: str | None = None):
    email = email or f"{role}@shop.test"
    user = make_staff(email, role)
    assert client.post("/staff/login", data={"email": email, "password": PASSWORD}).status_code == 302
    return user


def _parcel(shop, number: str, **overrides) -> Shipment:
    values = {
        "tracking_number": number,
        "status": Status.IN_TRANSIT,
        "risk_state": RiskState.AT_RISK,
        "p_late": 0.7,
        "declared_value": Decimal("500"),
        "currency": "NOK",
        "customer_name": "Kari Nordmann",
        "customer_email": f"{number.lower()}@kunde.example",
        "customer_language": "nb",
        "customer_timezone": "Europe/Oslo",
        "origin_country": "NO",
        "destination_country": "NO",
        "service": "standard",
        "shipped_at": NOW - timedelta(days=3),
        "promised_date": (NOW + timedelta(days=1)).date(),
        "eta_p10": NOW + timedelta(days=2),
        "eta_p50": NOW + timedelta(days=3),
        "eta_p90": NOW + timedelta(days=4),
        "last_event_at": NOW - timedelta(hours=20),
    }
    values.update(overrides)
    return make_shipment(shop, **values)


def _queue(client, query: str = "") -> str:
    response = client.get(f"/staff/?{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def _counts() -> tuple[int, int, int, int]:
    db.session.expire_all()
    return (
        db.session.scalar(select(func.count()).select_from(StaffAuditEntry)),
        db.session.scalar(select(func.count()).select_from(ShipmentTriage)),
        db.session.scalar(select(func.count()).select_from(Notification)),
        db.session.scalar(select(func.count()).select_from(Claim)),
    )


def test_the_queue_filters_sorts_and_pages(client, monkeypatch) -> None:
    shop, _ = make_shop("Fjord Sko")
    _parcel(shop, "CHEAPNO", declared_value=Decimal("100"), promised_date=date(2026, 12, 20))
    _parcel(
        shop,
        "DEARSE",
        declared_value=Decimal("4000"),
        destination_country="SE",
        carrier="postnord",
        service="express",
        promised_date=date(2026, 12, 10),
    )
    _parcel(
        shop,
        "OLDLATE",
        risk_state=RiskState.LATE,
        shipped_at=NOW - timedelta(days=20),
        declared_value=Decimal("900"),
        promised_date=None,
    )
    make_shipment(shop, tracking_number="FINE", status=Status.IN_TRANSIT, risk_state=RiskState.ON_TRACK)
    _login(client, Role.VIEWER)

    page = _queue(client)
    assert page.index("DEARSE") < page.index("OLDLATE") < page.index("CHEAPNO")
    assert "FINE" not in page
    by_promise = _queue(client, "sort=promised")
    assert by_promise.index("DEARSE") < by_promise.index("CHEAPNO") < by_promise.index("OLDLATE")
    by_age = _queue(client, "sort=age")
    assert by_age.index("OLDLATE") < by_age.index("CHEAPNO")

    def shown(query: str) -> set[str]:
        text = _queue(client, query)
        return {n for n in ("CHEAPNO", "DEARSE", "OLDLATE") if f"{n}</a>" in text}

    assert shown("carrier=postnord") == {"DEARSE"}
    assert shown("service=express") == {"DEARSE"}
    assert shown("lane=NO-SE") == {"DEARSE"}
    assert shown("lane=NO-NO") == {"CHEAPNO", "OLDLATE"}
    assert shown("risk=late") == {"OLDLATE"}
    assert shown("age_min=10") == {"OLDLATE"}
    assert shown("age_max=5") == {"CHEAPNO", "DEARSE"}
    assert shown("promised_from=2026-12-15") == {"CHEAPNO"}
    assert shown("promised_to=2026-12-15") == {"DEARSE"}
    assert shown("value_min=500&value_max=1000") == {"OLDLATE"}

    bad = client.get("/staff/?value_min=lots&lane=Norway")
    assert bad.status_code == 400
    text = bad.get_data(as_text=True)
    assert "&#39;lots&#39; is not a valid number here." in text and "is not a lane like NO-SE" in text
    assert all(n in text for n in ("CHEAPNO", "DEARSE", "OLDLATE"))  # the other filters still apply

    monkeypatch.setattr(workbench_queue, "PAGE_SIZE", 2)
    first, second = _queue(client), _queue(client, "page=2")
    assert "page 1 of 2" in first and "DEARSE" in first and "CHEAPNO" not in first
    assert "page 2 of 2" in second and "CHEAPNO" in second and "DEARSE" not in second
    assert "page 2 of 2" in _queue(client, "page=99")


ACTIONS = {
    "note": {"note": "Called the carrier, they are looking."},
    "snooze": {"until": (NOW + timedelta(days=3)).date().isoformat()},
    "assign": {"assignee": ""},
    "handled": {},
    "claim": {"kind": "lost", "statement": "Nothing since Oslo."},
    "notify": {"trigger": "predicted_delay", "confirm": "1"},
}


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_each_action_agents_can_viewers_cannot(app, client, action) -> None:
    shop, _ = make_shop("Fjord Sko")
    shipment = _parcel(shop, "ACT1")
    viewer = app.test_client()
    _login(viewer, Role.VIEWER)
    path = f"/staff/shipments/{shipment.id}/{action}"
    assert viewer.post(path, data=ACTIONS[action]).status_code == 403
    assert _counts() == (0, 0, 0, 0)

    agent = _login(client, Role.AGENT)
    data = dict(ACTIONS[action])
    if action == "assign":
        data["assignee"] = str(agent.id)
    response = client.post(path, data=data, follow_redirects=True)
    assert response.status_code == 200
    assert 'class="flash info"' in response.get_data(as_text=True)
    entry = db.session.scalar(select(StaffAuditEntry))
    assert (entry.action, entry.actor, entry.staff_user_id) == (action, agent.email, agent.id)
    page = client.get(f"/staff/shipments/{shipment.id}").get_data(as_text=True)
    assert f"<td>{agent.email}</td><td>{action}</td>" in page  # the audit log on the shipment page
    expected = {
        "note": lambda: "Called the carrier, they are looking." in page,
        "snooze": lambda: db.session.get(ShipmentTriage, shipment.id).snoozed_until > utcnow(),
        "assign": lambda: db.session.get(ShipmentTriage, shipment.id).assignee_id == agent.id,
        "handled": lambda: db.session.get(ShipmentTriage, shipment.id).handled_at is not None,
        "claim": lambda: db.session.scalar(select(Claim.source)) == "staff",
        "notify": lambda: db.session.scalar(select(Notification.trigger)) == "predicted_delay",
    }
    assert expected[action]()


def test_every_action_needs_its_csrf_token(app, client) -> None:
    shop, _ = make_shop("Fjord Sko")
    shipment = _parcel(shop, "CSRF1")
    _login(client, Role.AGENT)
    app.config["WTF_CSRF_ENABLED"] = True
    for action, data in ACTIONS.items():
        assert client.post(f"/staff/shipments/{shipment.id}/{action}", data=data).status_code == 400
    bulk = {"action": "handled", "shipment": str(shipment.id)}
    assert client.post("/staff/queue/bulk", data=bulk).status_code == 400
    assert _counts() == (0, 0, 0, 0)
    page = client.get(f"/staff/shipments/{shipment.id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/staff/queue/bulk", data={**bulk, "csrf_token": token}).status_code == 302
    assert _counts()[:2] == (1, 1)


@pytest.mark.parametrize(
    ("action", "data", "message"),
    [
        ("note", {"note": "   "}, "Write a note first."),
        ("note", {"note": "x" * 2001}, "A note is at most 2000 characters"),
        ("snooze", {"until": "tomorrow"}, "Choose a date to snooze until."),
        ("snooze", {"until": "2020-01-01"}, "Snooze until a day after today"),
        ("assign", {"assignee": "999999"}, "Choose a colleague."),
        ("claim", {"kind": "stolen"}, "Choose what kind of claim to open."),
        ("notify", {"trigger": "delivered", "confirm": "1"}, "Choose which message to send."),
    ],
)
def test_bad_input_is_explained_and_writes_nothing(client, action, data, message) -> None:
    shop, _ = make_shop("Fjord Sko")
    shipment = _parcel(shop, "BAD1")
    _login(client, Role.AGENT)
    response = client.post(f"/staff/shipments/{shipment.id}/{action}", data=data, follow_redirects=True)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert _counts() == (0, 0, 0, 0)


def test_assigning_to_a_colleague_of_another_shop_is_refused(client) -> None:
    shop, _ = make_shop("Fjord Sko")
    other, _ = make_shop("Annen Butikk")
    shipment = _parcel(shop, "ASSIGN1")
    stranger = make_staff("stranger@annen.test", Role.AGENT)
    stranger.shop_id = other.id
    db.session.commit()
    _login(client, Role.AGENT)
    response = client.post(
        f"/staff/shipments/{shipment.id}/assign", data={"assignee": stranger.id}, follow_redirects=True
    )
    assert "does not work for this shop" in response.get_data(as_text=True)
    assert _counts() == (0, 0, 0, 0)


def test_a_bulk_action_with_nothing_ticked_or_unknown_ids_does_nothing(client) -> None:
    shop, _ = make_shop("Fjord Sko")
    shipment = _parcel(shop, "BULK0")
    _login(client, Role.AGENT)
    nothing = client.post("/staff/queue/bulk", data={"action": "handled"}, follow_redirects=True)
    assert "Tick at least one shipment." in nothing.get_data(as_text=True)
    data = {"action": "handled", "shipment": [str(shipment.id), "999999"]}
    unknown = client.post("/staff/queue/bulk", data=data, follow_redirects=True)
    assert "no longer exist; nothing was done" in unknown.get_data(as_text=True)
    assert _counts() == (0, 0, 0, 0)


def test_snoozed_shipments_leave_the_queue_until_their_day(client) -> None:
    shop, _ = make_shop("Fjord Sko")
    shipment = _parcel(shop, "SNOOZE1")
    _parcel(shop, "STAYS1")
    _login(client, Role.AGENT)
    until = (NOW + timedelta(days=2)).date().isoformat()
    client.post("/staff/queue/bulk", data={"action": "snooze", "until": until, "shipment": str(shipment.id)})
    page = _queue(client)
    assert "SNOOZE1" not in page and "STAYS1" in page
    assert "SNOOZE1" in _queue(client, "show=snoozed")
    triage = db.session.get(ShipmentTriage, shipment.id)
    triage.snoozed_until = utcnow() - timedelta(minutes=1)  # its day came
    db.session.commit()
    assert "SNOOZE1" in _queue(client)


def test_handled_shipments_come_back_on_a_new_scan_or_a_new_risk_state(client) -> None:
    shop, _ = make_shop("Fjord Sko")
    scanned = _parcel(shop, "HANDLED1")
    moved = _parcel(shop, "HANDLED2")
    _login(client, Role.AGENT)
    data = {"action": "handled", "shipment": [str(scanned.id), str(moved.id)]}
    client.post("/staff/queue/bulk", data=data)
    page = _queue(client)
    assert "HANDLED1" not in page and "HANDLED2" not in page
    assert "HANDLED1" in _queue(client, "show=handled")

    later = utcnow().replace(microsecond=0) + timedelta(seconds=1)
    add_event(scanned, later, "in_transit")
    scanned.last_event_at = later  # what ingest sets with the new scan
    moved.risk_state = RiskState.STUCK
    db.session.commit()
    page = _queue(client)
    assert "HANDLED1" in page and "HANDLED2" in page


def test_bulk_notify_previews_in_the_customers_language_and_writes_one_row_each_with_dedupe(client) -> None:
    shop, _ = make_shop("Fjord Sko")
    norwegian = _parcel(shop, "NOTIFY1")
    english = _parcel(shop, "NOTIFY2", customer_language="en")
    _login(client, Role.AGENT)
    ids = [str(norwegian.id), str(english.id)]
    data = {"action": "notify", "trigger": "predicted_delay", "shipment": ids, "next": "/staff/?risk=at_risk"}
    preview = client.post("/staff/queue/bulk", data=data)
    assert preview.status_code == 200
    text = preview.get_data(as_text=True)
    assert "Your parcel is running late" in text  # English
    assert 'lang="nb"' in text and "forsinket" in text.lower()
    assert _counts() == (0, 0, 0, 0)  # a preview writes nothing

    sent = client.post("/staff/queue/bulk", data={**data, "confirm": "1"})
    assert sent.headers["Location"] == "/staff/?risk=at_risk"
    rows = db.session.scalars(select(Notification).order_by(Notification.shipment_id)).all()
    assert [(r.shipment_id, r.channel, r.trigger, r.language) for r in rows] == [
        (norwegian.id, "email", "predicted_delay", "nb"),
        (english.id, "email", "predicted_delay", "en"),
    ]
    again = client.post("/staff/queue/bulk", data={**data, "confirm": "1"}, follow_redirects=True)
    assert "0 messages queued" in again.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 2
    assert "Already in the outbox" in client.post("/staff/queue/bulk", data=data).get_data(as_text=True)
    details = db.session.scalars(select(StaffAuditEntry.details).order_by(StaffAuditEntry.id)).all()
    assert [d["outbox_rows"] for d in details] == [1, 1, 0, 0]


def test_the_prediction_history_is_appended_only_when_it_moves(app) -> None:
    shop, _ = make_shop("Fjord Sko")
    shipped = datetime(2026, 11, 23, 10, tzinfo=UTC)
    shipment = make_shipment(
        shop, status=Status.IN_TRANSIT, shipped_at=shipped, promised_date=date(2026, 11, 25)
    )
    add_event(shipment, shipped + timedelta(hours=2), "in_transit")
    now = shipped + timedelta(hours=5)
    rescore([shipment], now)
    db.session.commit()
    rescore([shipment], now)
    db.session.commit()
    rows = db.session.scalars(select(PredictionChange)).all()
    assert len(rows) == 1
    assert (rows[0].p_late, rows[0].risk_state, rows[0].eta_p50) == (
        shipment.p_late,
        shipment.risk_state,
        shipment.eta_p50,
    )

    before = prediction_keys([shipment])
    shipment.p_late = round((shipment.p_late or 0) + 0.001, 4)  # below a percentage point: no change
    assert record_changes([shipment], before, now) == 0
    shipment.p_late += 0.05
    assert record_changes([shipment], before, now) == 1
    before = prediction_keys([shipment])
    shipment.eta_p50 += timedelta(days=1)
    assert record_changes([shipment], before, now) == 1
    before = prediction_keys([shipment])
    shipment.risk_state = RiskState.LOST
    assert record_changes([shipment], before, now) == 1
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(PredictionChange)) == 4


def test_the_shipment_page_shows_history_chart_raw_codes_messages_claims_notes(client) -> None:
    shop, _ = make_shop("Fjord Sko")
    shipment = _parcel(shop, "PAGE1")
    add_event(shipment, NOW - timedelta(hours=20), "in_transit")
    for hours, p_late in ((30, 0.2), (20, 0.5), (10, 0.7)):
        db.session.add(
            PredictionChange(
                shipment_id=shipment.id,
                recorded_at=NOW - timedelta(hours=hours),
                p_late=p_late,
                p_lost=0.01,
                risk_state=RiskState.AT_RISK if p_late > 0.4 else RiskState.ON_TRACK,
                eta_p50=NOW + timedelta(days=1),
            )
        )
    db.session.commit()
    _login(client, Role.AGENT)
    client.post(f"/staff/shipments/{shipment.id}/note", data={"note": "Ringte kunden"})
    client.post(f"/staff/shipments/{shipment.id}/claim", data={"kind": "lost"})
    client.post(f"/staff/shipments/{shipment.id}/notify", data={"trigger": "predicted_delay", "confirm": "1"})
    page = client.get(f"/staff/shipments/{shipment.id}").get_data(as_text=True)
    assert "<polyline" in page and page.count("<circle") == 3
    assert "<td>20%</td>" in page and "<td>70%</td>" in page
    assert "<details><summary>raw</summary>" in page and "<code>IN_TRANSIT</code>" in page
    reference = db.session.scalar(select(Claim.reference))
    assert reference in page and "Ringte kunden" in page
    assert "predicted delay</a>" in page and "pending" in page
    assert 'href="/staff/customers?email=page1@kunde.example"' in page


def test_the_customer_page_lists_all_their_shipments_messages_and_claims(client) -> None:
    shop, _ = make_shop("Fjord Sko")
    other, _ = make_shop("Annen Butikk")
    email = "kari@kunde.example"
    first = _parcel(shop, "CUST1", customer_email=email)
    _parcel(shop, "CUST2", customer_email=email, status=Status.DELIVERED, risk_state=None)
    _parcel(shop, "CUST3", customer_email=email, customer_phone="+4791234567")
    _parcel(shop, "SOMEONE", customer_email="ola@kunde.example")
    _parcel(other, "CUSTELSE", customer_email=email)
    user = _login(client, Role.AGENT)
    client.post(f"/staff/shipments/{first.id}/notify", data={"trigger": "predicted_delay", "confirm": "1"})
    client.post(f"/staff/shipments/{first.id}/claim", data={"kind": "lost"})
    user.shop_id = shop.id
    db.session.commit()

    page = client.get(f"/staff/customers?email={email}").get_data(as_text=True)
    assert all(n in page for n in ("CUST1", "CUST2", "CUST3")) and "SOMEONE" not in page
    assert "CUSTELSE" not in page  # another shop's
    assert "Shipments (3)" in page and "Claims (1)" in page
    assert "Messages (2)" in page and "predicted delay</a>" in page and "claim opened</a>" in page
    assert db.session.scalar(select(Claim.reference)) in page
    assert "CUST3" in client.get("/staff/customers?phone=%2B4791234567").get_data(as_text=True)
    assert client.get("/staff/customers?email=nobody@kunde.example").status_code == 404


def test_search_finds_by_tracking_number_order_email_and_phone(client) -> None:
    shop, _ = make_shop("Fjord Sko")
    other, _ = make_shop("Annen Butikk")
    target = _parcel(
        shop,
        "70438101015432113",
        order_ref="ORD-2024-77",
        customer_email="Kari@Kunde.example",
        customer_phone="+4791234567",
    )
    _parcel(shop, "70438101099999999", order_ref="ORD-2025-01", customer_email="ola@kunde.example")
    _parcel(other, "70438101015400000", order_ref="ORD-2024-78", customer_email="kari@annen.example")
    user = _login(client, Role.VIEWER)
    user.shop_id = shop.id
    db.session.commit()

    exact = client.get("/staff/search?q=70438101015432113")
    assert exact.status_code == 302 and exact.headers["Location"] == f"/staff/shipments/{target.id}"

    def found(term: str) -> set[str]:
        page = client.get("/staff/search", query_string={"q": term}).get_data(as_text=True)
        return set(re.findall(r" (\d{17})</a>", page))

    assert found("704381010") == {"70438101015432113", "70438101099999999"}  # prefix; not shop B's
    assert found("ORD-2024") == {"70438101015432113"}
    assert found("ord-2024-77") == {"70438101015432113"}
    assert found("Kari@Kunde.example") == {"70438101015432113"}
    assert found("Kari@") == {"70438101015432113"}
    assert found("+4791234567") == {"70438101015432113"}
    assert found("+47912") == {"70438101015432113"}
    assert found("ola@kunde.example") == {"70438101099999999"}
    assert found("nothing-like-this") == set()
    assert found("70") == set()  # two characters: exact matches only
    header = client.get("/staff/").get_data(as_text=True)
    assert 'role="search"' in header and 'action="/staff/search"' in header
