"""Report a problem on the tracking page: only after postcode verification, only the kinds on offer, photos
checked by content and size, nothing written on refusal, rate limited, duplicates point at the open case."""

from __future__ import annotations

import html
import io
import os
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from PIL import Image
from sqlalchemy import func, select

from app.claims.lifecycle import move
from app.claims.service import (
    ClaimCandidate,
    classify,
    close,
    decide_remedy,
    open_claim,
    record_carrier_decision,
)
from app.extensions import db, limiter
from app.models import Claim, ClaimAttachment, ClaimKind, ClaimState, Liability, RemedyKind, Shipment
from app.models.types import utcnow
from app.notify.links import tracking_url
from tests.factories import make_shipment, make_shop

HTML = {"Accept": "text/html"}


@pytest.fixture(autouse=True)
def _claim_files(app, tmp_path):
    app.config["CLAIM_FILES_DIR"] = tmp_path
    limiter.reset()
    yield
    limiter.reset()


def _parcel(**overrides) -> Shipment:
    shop, _ = make_shop("Fjord Sko")
    now = utcnow()
    values = {
        "tracking_number": "TRACK123NO",
        "status": "delivered",
        "delivered_at": now - timedelta(days=3),
        "shipped_at": now - timedelta(days=6),
        "promised_date": (now - timedelta(days=4)).date(),
        "customer_name": "Kari Nordmann",
        "customer_email": "kari@example.no",
        "customer_phone": "+4791234567",
        "customer_timezone": "Europe/Oslo",
        "destination_postcode": "0150",
        "destination_country": "NO",
        "declared_value": Decimal("499"),
        "currency": "NOK",
    }
    values.update(overrides)
    return make_shipment(shop, **values)


def _path(app, shipment: Shipment) -> str:
    return tracking_url(app.config, shipment.id).removeprefix(app.config["PUBLIC_BASE_URL"])


def _verify(client, path: str) -> None:
    assert client.post(f"{path}/verify", data={"postcode": "0150"}).status_code == 302


def _png(name: str = "box.png", side: int = 8, noise: bool = False) -> tuple[io.BytesIO, str]:
    image = (
        Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
        if noise
        else Image.new("RGB", (side, side), "red")
    )
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    buffer.seek(0)
    return buffer, name


def _report(kind: str = "damaged", photos: list | None = None, **fields) -> dict:
    form = {
        "kind": kind,
        "statement": "The box was crushed and the shoes are scuffed.",
        "reply_channel": "sms",
    }
    form.update(fields)
    form["photos"] = [_png()] if photos is None else photos
    return form


def _post(client, path: str, form: dict, **kwargs):
    return client.post(
        f"{path}/report", data=form, content_type="multipart/form-data", headers=HTML, **kwargs
    )


def _stored(tmp_path) -> tuple[int, int, list[str]]:
    return (
        db.session.scalar(select(func.count()).select_from(Claim)),
        db.session.scalar(select(func.count()).select_from(ClaimAttachment)),
        sorted(p.name for p in tmp_path.iterdir()),
    )


def test_the_form_is_only_for_a_verified_session(app, client) -> None:
    shipment = _parcel()
    path = _path(app, shipment)
    # The FAQ may name the button; the link to the form is only there once the postcode is verified.
    assert f'href="{path}/report' not in client.get(path, headers=HTML).get_data(as_text=True)
    refused = client.get(f"{path}/report", headers=HTML)
    assert (refused.status_code, refused.headers["Location"]) == (302, f"{path}#verify-heading")
    assert "Enter the delivery postcode first" in client.get(path, headers=HTML).get_data(as_text=True)

    _verify(client, path)
    parcel = client.get(path, headers=HTML).get_data(as_text=True)
    assert f'href="{path}/report">Report a problem</a>' in parcel
    page = client.get(f"{path}/report", headers=HTML)
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'enctype="multipart/form-data"' in text
    assert re.findall(r'name="kind"[^>]* value="(\w+)"', text) == [
        "not_received",
        "damaged",
        "missing_contents",
        "wrong_item",
    ]
    assert re.findall(r'name="reply_channel"[^>]* value="(\w+)"', text) == ["email", "sms"]
    assert "You can add up to 4 photos, each at most 5 MB." in text

    nb = client.get(f"{path}/report?lang=nb", headers=HTML).get_data(as_text=True)
    assert '<h1 id="report-heading">Meld fra om et problem</h1>' in nb
    assert "Jeg har fått feil vare" in nb


def test_before_delivery_the_page_explains_the_parcel_is_watched(app, client) -> None:
    shipment = _parcel(status="in_transit", delivered_at=None)
    path = _path(app, shipment)
    _verify(client, path)
    parcel = client.get(path, headers=HTML).get_data(as_text=True)
    assert "We are keeping an eye on it" in parcel
    assert "Report a problem</a>" not in parcel
    page = client.get(f"{path}/report", headers=HTML).get_data(as_text=True)
    assert "We are keeping an eye on it" in page
    assert 'name="kind"' not in page
    response = _post(client, path, _report(kind="lost"))
    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(Claim)) == 0


@pytest.mark.parametrize(
    ("delivered_days_ago", "shipped_days_ago", "offered"),
    [(1, 4, False), (1.99, 4, False), (2.01, 4, True), (10, 13, True), (200, 203, False)],
)
def test_not_received_is_offered_from_two_days_after_delivery_until_the_window_closes(
    app, client, delivered_days_ago: float, shipped_days_ago: int, offered: bool
) -> None:
    now = utcnow()
    app.config["TRACKING_LINK_DAYS"] = 365  # the link outlives the claim window (expiry: test_link_tokens.py)
    shipment = _parcel(
        delivered_at=now - timedelta(days=delivered_days_ago),
        shipped_at=now - timedelta(days=shipped_days_ago),
    )
    path = _path(app, shipment)
    _verify(client, path)
    page = client.get(f"{path}/report", headers=HTML).get_data(as_text=True)
    assert ('value="not_received"' in page) is offered
    assert ("you can report it here from" in page) is (delivered_days_ago < 2)
    response = _post(client, path, _report(kind="not_received", photos=[]))
    assert response.status_code == (302 if offered else 400)
    claims = db.session.scalars(select(Claim)).all()
    assert [c.kind for c in claims] == ([ClaimKind.NOT_RECEIVED] if offered else [])
    if not offered:
        assert "Choose one of the options." in response.get_data(as_text=True)


def test_a_report_with_a_photo_opens_a_claim(app, client, tmp_path) -> None:
    shipment = _parcel()
    path = _path(app, shipment)
    _verify(client, path)
    photo, _ = _png()
    expected = photo.getvalue()
    response = _post(client, path, _report(photos=[(photo, "../../box.png")]))
    assert (response.status_code, response.headers["Location"]) == (302, f"{path}#claims")

    claim = db.session.scalars(select(Claim)).one()
    assert (claim.kind, claim.state, claim.source, claim.rule) == (
        ClaimKind.DAMAGED,
        ClaimState.OPENED,
        "customer",
        "customer_report",
    )
    assert claim.customer_statement == "The box was crushed and the shoes are scuffed."
    assert claim.evidence == {
        "reply_channel": "sms",
        "photos": 1,
        "delivered_at": shipment.delivered_at.isoformat(),
    }
    assert [(e.actor, e.action) for e in claim.events] == [("customer", "opened")]
    [attachment] = claim.attachments
    assert (attachment.filename, attachment.content_type, attachment.uploaded_by) == (
        "box.png",
        "image/png",
        "customer",
    )
    assert (tmp_path / attachment.storage_name).read_bytes() == expected

    text = client.get(path, headers=HTML).get_data(as_text=True)
    assert f"Thank you. We have opened case {claim.reference} and will keep you updated." in text
    assert f'<h3><span class="number">{claim.reference}</span> · Damaged parcel</h3>' in text
    assert f'<p class="claim-state">We have opened case {claim.reference}.</p>' in text
    assert "You do not need to contact the carrier yourself." in text
    assert "<dt>We contact you by</dt><dd>Text message (SMS)</dd>" in text


@pytest.mark.parametrize(
    ("form", "message"),
    [
        (
            {"photos": [(io.BytesIO(b"just some notes\n"), "notes.png")]},
            "notes.png is not a photo we can use.",
        ),
        ({"photos": []}, "Please add at least one photo that shows the problem."),
        ({"statement": "   "}, "Please tell us briefly what happened."),
        ({"statement": "x" * 2001}, "Please keep it to 2000 characters or fewer."),
        ({"reply_channel": "fax"}, "Choose one of the options."),
        ({"kind": "lost"}, "Choose one of the options."),
    ],
)
def test_a_bad_report_is_explained_and_stores_nothing(
    app, client, tmp_path, form: dict, message: str
) -> None:
    shipment = _parcel()
    path = _path(app, shipment)
    _verify(client, path)
    response = _post(client, path, _report(**form))
    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in text
    assert 'class="field-error"' in text
    assert _stored(tmp_path) == (0, 0, [])


def test_too_many_or_too_large_photos_are_refused(app, client, tmp_path) -> None:
    app.config.update(CLAIM_REPORT_MAX_FILES=2, CLAIM_REPORT_MAX_FILE_BYTES=2000)
    shipment = _parcel()
    path = _path(app, shipment)
    _verify(client, path)

    three = _post(client, path, _report(photos=[_png(f"{n}.png") for n in range(3)]))
    assert three.status_code == 400
    assert "You can add at most 2 photos." in three.get_data(as_text=True)

    large = _post(client, path, _report(photos=[_png("big.png", side=40, noise=True)]))
    assert large.status_code == 400
    assert "big.png is too large: each photo can be at most 2 kB." in large.get_data(as_text=True)

    # 2 × 2000 bytes + 64 KB is this route's whole limit; a larger body never reaches the form
    body = _post(client, path, _report(statement="x" * 80_000))
    assert body.status_code == 413
    text = body.get_data(as_text=True)
    assert "<h1>Too large to send</h1>" in text
    assert "Together, the photos can be at most 3.9 kB." in text
    assert f'href="{path}"' in text
    assert _stored(tmp_path) == (0, 0, [])


def test_the_report_route_allows_more_than_the_global_limit_even_with_csrf(app, client, tmp_path) -> None:
    app.config.update(MAX_CONTENT_LENGTH=40_000, WTF_CSRF_ENABLED=True)
    shipment = _parcel()
    path = _path(app, shipment)
    page = client.get(path, headers=HTML).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post(f"{path}/verify", data={"postcode": "0150", "csrf_token": token}).status_code == 302
    photos = [_png(f"{n}.png", side=90, noise=True) for n in range(2)]
    assert sum(len(p.getvalue()) for p, _ in photos) > 40_000
    response = _post(client, path, _report(photos=photos, csrf_token=token))
    assert response.status_code == 302
    assert _stored(tmp_path)[:2] == (1, 2)

    elsewhere = client.post("/track", data={"tracking_number": "x" * 50_000, "postcode": "1"}, headers=HTML)
    assert elsewhere.status_code == 413
    assert "What you sent is too large." in elsewhere.get_data(as_text=True)


def test_a_report_without_verification_is_refused(app, client, tmp_path) -> None:
    mine = _parcel()
    other = _parcel(tracking_number="OTHER456NO", destination_postcode="5003")
    _verify(client, _path(app, mine))
    for shipment in (other, mine):
        anonymous = client if shipment is other else app.test_client()
        response = _post(anonymous, _path(app, shipment), _report())
        assert response.status_code == 403
        assert "<h1>Please confirm the postcode first</h1>" in response.get_data(as_text=True)
    assert _stored(tmp_path) == (0, 0, [])


def test_reports_are_rate_limited(app, client) -> None:
    app.config["CLAIM_REPORT_RATE_LIMIT"] = "2 per hour"
    shipment = _parcel()
    path = _path(app, shipment)
    _verify(client, path)
    codes = [_post(client, path, _report(statement="")).status_code for _ in range(2)]
    assert codes == [400, 400]
    blocked = _post(client, path, _report())
    assert blocked.status_code == 429
    assert "<h1>Too many attempts</h1>" in blocked.get_data(as_text=True)
    assert client.get(f"{path}/report", headers=HTML).status_code == 200
    assert db.session.scalar(select(func.count()).select_from(Claim)) == 0


def test_a_duplicate_report_shows_the_open_case(app, client, tmp_path) -> None:
    shipment = _parcel()
    path = _path(app, shipment)
    _verify(client, path)
    assert _post(client, path, _report()).status_code == 302
    client.get(path)  # shows (and so clears) the first report's thank-you
    claim = db.session.scalars(select(Claim)).one()

    again = _post(client, path, _report(statement="Still broken."))
    assert (again.status_code, again.headers["Location"]) == (302, f"{path}#claims")
    text = client.get(path, headers=HTML).get_data(as_text=True)
    assert f"You have already reported this. Case {claim.reference} is open; you can follow it below." in text
    assert f'id="claim-{claim.reference}"' in text
    assert _stored(tmp_path) == (1, 1, [claim.attachments[0].storage_name])

    assert _post(client, path, _report(kind="wrong_item")).status_code == 302
    assert {c.kind for c in db.session.scalars(select(Claim))} == {ClaimKind.DAMAGED, ClaimKind.WRONG_ITEM}


def test_the_claims_state_shows_on_the_page(app, client) -> None:
    shipment = _parcel()
    path = _path(app, shipment)
    _verify(client, path)
    assert _post(client, path, _report(kind="missing_contents")).status_code == 302
    claim = db.session.scalars(select(Claim)).one()

    def state_and_next(query: str = "") -> tuple[str, str]:
        text = client.get(path + query, headers=HTML).get_data(as_text=True)
        article = text[text.index(f'id="claim-{claim.reference}"') :]
        state = re.search(r'<p class="claim-state">(.*?)</p>\s*<p>(.*?)</p>', article)
        return html.unescape(state.group(1)), html.unescape(state.group(2))

    assert state_and_next("?lang=nb")[0] == f"Vi har opprettet sak {claim.reference}."
    classify(claim, liability=Liability.CARRIER, actor="staff:ops@shop.test")
    db.session.commit()
    assert state_and_next() == (
        "We are looking into your case.",
        "You do not need to contact the carrier yourself. We will tell you when anything changes.",
    )
    decide_remedy(claim, remedy=RemedyKind.REFUND, amount=Decimal("499"), actor="staff:ops@shop.test")
    move(claim, ClaimState.SUBMITTED, actor="system:claims")
    db.session.commit()
    assert state_and_next() == (
        "Sent to the carrier.",
        "We are waiting for the carrier's answer and will tell you as soon as we have it.",
    )
    assert state_and_next("?lang=da")[0] == "Sendt til fragtfirmaet."
    record_carrier_decision(claim, outcome=ClaimState.APPROVED, amount=Decimal("499"), actor="carrier")
    close(claim, actor="staff:ops@shop.test")
    db.session.commit()
    assert state_and_next() == ("Resolved: refund.", "Your case is closed. Thank you for your patience.")
    assert "<dt>Amount</dt><dd>NOK499.00</dd>" in client.get(path, headers=HTML).get_data(as_text=True)
    assert state_and_next("?lang=th")[0] == "ได้รับการแก้ไขแล้ว: คืนเงิน"


def test_a_claim_the_service_opened_shows_too(app, client) -> None:
    shipment = _parcel(status="in_transit", delivered_at=None)
    claim = open_claim(ClaimCandidate(shipment, ClaimKind.LOST, rule="no_scan"), actor="system:detector")
    db.session.commit()
    path = _path(app, shipment)
    _verify(client, path)
    text = client.get(path, headers=HTML).get_data(as_text=True)
    assert f'<h3><span class="number">{claim.reference}</span> · Lost parcel</h3>' in text
    assert "We contact you by" not in text
