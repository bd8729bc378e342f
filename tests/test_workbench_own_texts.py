"""The workbench's "tell the customer now" previews and queues the shop's own message text when it has one."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.admin.message_templates import save_template
from app.extensions import db, limiter
from app.models import Notification, Role
from app.models.types import utcnow
from carriers.model import Status
from planning.prediction import RiskState
from tests.factories import PASSWORD, make_shipment, make_shop, make_staff

OWN_DELAY = """{% set subject %}{{ shop_name }}: litt forsinket{% endset %}
{% set body %}Hei {{ customer_name }}! Skoene dine er litt forsinket, beklager fra oss i {{ shop_name }}.{% endset %}
{% set sms %}{{ shop_name }}: skoene er litt forsinket:{% endset %}"""


def test_preview_and_queued_message_use_the_shops_own_text(app, client) -> None:
    limiter.reset()
    now = utcnow().replace(microsecond=0)
    shop, _ = make_shop("Fjord Sko")
    save_template(shop, "predicted_delay", "nb", OWN_DELAY, "admin@fjord.test")
    other, _ = make_shop("Annen Butikk")
    parcels = [
        make_shipment(
            owner,
            tracking_number=number,
            status=Status.IN_TRANSIT,
            risk_state=RiskState.AT_RISK,
            p_late=0.7,
            customer_name="Kari",
            customer_email=f"{number.lower()}@kunde.example",
            customer_language="nb",
            customer_timezone="Europe/Oslo",
            shipped_at=now - timedelta(days=3),
            promised_date=(now + timedelta(days=1)).date(),
            eta_p10=now + timedelta(days=2),
            eta_p50=now + timedelta(days=3),
            eta_p90=now + timedelta(days=4),
        )
        for owner, number in ((shop, "OWN1"), (other, "SHIPPED1"))
    ]
    db.session.commit()
    make_staff("agent@shop.test", Role.AGENT)
    assert (
        client.post("/staff/login", data={"email": "agent@shop.test", "password": PASSWORD}).status_code
        == 302
    )
    data = {"action": "notify", "trigger": "predicted_delay", "shipment": [str(p.id) for p in parcels]}

    preview = client.post("/staff/queue/bulk", data=data).get_data(as_text=True)
    assert "Skoene dine er litt forsinket, beklager fra oss i Fjord Sko." in preview
    assert "Pakken din bruker lengre tid enn planlagt" in preview  # the other shop has no text of its own
    assert preview.count("Skoene dine er litt forsinket") == 1

    assert client.post("/staff/queue/bulk", data={**data, "confirm": "1"}).status_code == 302
    rows = {row.shipment_id: row for row in db.session.scalars(select(Notification))}
    assert rows[parcels[0].id].subject == "Fjord Sko: litt forsinket"
    assert "Skoene dine er litt forsinket, beklager fra oss i Fjord Sko." in rows[parcels[0].id].body_text
    assert "Pakken din bruker lengre tid enn planlagt" in rows[parcels[1].id].body_text
