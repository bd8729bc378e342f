"""The shop's claims API: open, decide through to close with the audit trail, refusals that write nothing,
idempotent retries, evidence checked by content, file downloads, listing, and the `claim.*` webhooks."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from PIL import Image
from sqlalchemy import func, select

from app.claims.lifecycle import move
from app.claims.service import ClaimCandidate, open_claims
from app.extensions import db
from app.models import Claim, ClaimAttachment, ClaimEvent, ClaimKind, ClaimState, Notification, Shipment
from app.notify.dispatch import dispatch_due
from carriers.model import Status
from tests.factories import make_shipment, make_shop

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _shipment(shop, number: str = "1Z999AA10123456784", **overrides) -> Shipment:
    values = {
        "carrier": "ups",
        "tracking_number": number,
        "status": Status.IN_TRANSIT,
        "declared_value": Decimal("250.00"),
        "currency": "USD",
        "order_ref": "A-1",
    }
    return make_shipment(shop, **{**values, **overrides})


def _open(client, auth, shipment: Shipment, kind: str = "lost", **extra):
    return client.post(
        "/api/v1/claims", json={"shipment_id": shipment.id, "kind": kind, **extra}, headers=auth
    )


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _png(color: str = "red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), color).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def files_dir(app, tmp_path):
    app.config["CLAIM_FILES_DIR"] = tmp_path / "claim-files"
    return tmp_path / "claim-files"


def test_a_claim_goes_from_opened_to_closed_with_its_timeline(client, auth, shop_key) -> None:
    shipment = _shipment(shop_key[0])
    opened = _open(client, auth, shipment, statement="The box never came.")
    assert opened.status_code == 201
    body = opened.json
    reference = body["reference"]
    assert re.fullmatch(r"C-[A-HJ-NP-Z2-9]{7}", reference)
    assert body["shipment"] == {
        "id": shipment.id,
        "tracking_number": "1Z999AA10123456784",
        "carrier": "ups",
        "order_ref": "A-1",
    }
    assert (body["kind"], body["state"], body["open"], body["source"], body["rule"]) == (
        "lost",
        "opened",
        True,
        "shop",
        "shop_report",
    )
    assert (body["goods_value"], body["carrier_cap"], body["claim_amount"], body["uncovered_amount"]) == (
        "250.00",
        "100.00",
        "100.00",
        "150.00",
    )
    assert body["statement"] == "The box never came."
    assert body["filing"]["file_by"] is not None and body["acknowledged_at"] is not None
    assert body["remedy"] == {"kind": None, "amount": None, "decided_at": None}

    base = f"/api/v1/claims/{reference}"
    classified = client.post(
        f"{base}/classify", json={"liability": "carrier", "note": "scan gap"}, headers=auth
    )
    assert (classified.status_code, classified.json["state"], classified.json["liability"]) == (
        200,
        "classified",
        "carrier",
    )
    remedied = client.post(f"{base}/remedy", json={"kind": "refund", "amount": 250}, headers=auth)
    assert remedied.status_code == 200
    assert (remedied.json["remedy"]["kind"], remedied.json["remedy"]["amount"]) == ("refund", "250.00")
    portal = client.post(f"{base}/submit", json={}, headers=auth)  # UPS has no claims API
    assert portal.status_code == 409 and "portal" in portal.json["detail"]
    submitted = client.post(f"{base}/submit", json={"carrier_claim_id": "UPS-77"}, headers=auth)
    assert (submitted.status_code, submitted.json["state"]) == (200, "submitted")
    decided = client.post(
        f"{base}/carrier-decision", json={"outcome": "partially_approved", "amount": 80}, headers=auth
    )
    assert decided.status_code == 200
    carrier = decided.json["carrier"]
    assert (carrier["claim_id"], carrier["approved_amount"], carrier["decided_at"] is not None) == (
        "UPS-77",
        "80.00",
        True,
    )
    closed = client.post(f"{base}/close", json={"note": "paid out"}, headers=auth)
    assert (closed.status_code, closed.json["state"], closed.json["open"]) == (200, "closed", False)
    assert closed.json["closed_at"] is not None

    shown = client.get(f"{base}", headers=auth).json
    timeline = [
        (e["actor"], e["action"], e["from_state"], e["to_state"], e["note"]) for e in shown["timeline"]
    ]
    assert timeline == [
        ("shop:api", "opened", None, "opened", "shop_report"),
        ("shop:api", "transition", "opened", "classified", "scan gap"),
        ("shop:api", "transition", "classified", "remedy_decided", None),
        ("shop:api", "transition", "remedy_decided", "submitted", None),
        ("shop:api", "transition", "submitted", "partially_approved", None),
        ("shop:api", "transition", "partially_approved", "closed", "paid out"),
    ]
    assert shown == {**closed.json, "updated_at": shown["updated_at"]}


def test_the_moves_reach_a_webhook_endpoint_subscribed_to_claims(
    client, auth, shop_key, webhook_receiver
) -> None:
    created = client.post(
        "/api/v1/webhook-endpoints",
        json={
            "url": webhook_receiver.endpoint,
            "event_types": ["claim.opened", "claim.updated", "claim.resolved"],
        },
        headers=auth,
    )
    webhook_receiver.secrets = (created.json["secret"],)
    other = client.post(
        "/api/v1/webhook-endpoints",
        json={"url": webhook_receiver.endpoint + "/shipments", "event_types": ["shipment.delivered"]},
        headers=auth,
    )
    reference = _open(client, auth, _shipment(shop_key[0])).json["reference"]
    base = f"/api/v1/claims/{reference}"
    client.post(f"{base}/classify", json={"liability": "shop"}, headers=auth)
    client.post(f"{base}/remedy", json={"kind": "reship"}, headers=auth)
    assert client.post(f"{base}/close", json={}, headers=auth).json["state"] == "closed"

    assert dispatch_due().sent == 4
    received = sorted(
        (
            event.payload["type"],
            event.payload["data"]["details"].get("previous_state"),
            event.payload["data"]["details"]["claim_state"],
        )
        for event in webhook_receiver.events
    )
    assert received == [
        ("claim.opened", None, "opened"),
        ("claim.resolved", "remedy_decided", "closed"),
        ("claim.updated", "classified", "remedy_decided"),
        ("claim.updated", "opened", "classified"),
    ]
    assert {event.payload["data"]["details"]["claim_reference"] for event in webhook_receiver.events} == {
        reference
    }
    resolved = next(e for e in webhook_receiver.events if e.payload["type"] == "claim.resolved")
    assert resolved.payload["data"]["details"]["claim_resolution"] == "reship"
    assert _count(select(Notification).where(Notification.endpoint_id == other.json["id"]).subquery()) == 0


def test_another_shops_claims_and_shipments_are_not_found(client, auth, files_dir) -> None:
    other_shop, other_key = make_shop("Other")
    foreign_shipment = _shipment(other_shop)
    other_auth = {"Authorization": f"Bearer {other_key}"}
    foreign = _open(client, other_auth, foreign_shipment).json["reference"]
    upload = client.post(
        f"/api/v1/claims/{foreign}/evidence",
        data={"files": [(io.BytesIO(_png()), "photo.png")]},
        headers=other_auth,
        content_type="multipart/form-data",
    )
    attachment_id = upload.json["attachments"][0]["id"]
    claims_before, events_before = _count(Claim), _count(ClaimEvent)

    refused = _open(client, auth, foreign_shipment, kind="damaged")
    assert (refused.status_code, refused.mimetype) == (404, "application/problem+json")
    assert list(refused.json["errors"]) == ["shipment_id"]
    assert client.get(f"/api/v1/claims/{foreign}", headers=auth).status_code == 404
    for action, body in (("classify", {"liability": "shop"}), ("close", {})):
        answer = client.post(f"/api/v1/claims/{foreign}/{action}", json=body, headers=auth)
        assert (answer.status_code, answer.json["type"]) == (404, "https://leveranse.dev/problems/not-found")
    assert (
        client.get(f"/api/v1/claims/{foreign}/attachments/{attachment_id}", headers=auth).status_code == 404
    )
    assert client.get("/api/v1/claims", headers=auth).json["total"] == 0
    for reference in ("C-NOPE234", "c-%20", "x" * 500, "1", "C-ABCDEFG%00"):
        answer = client.get(f"/api/v1/claims/{reference}", headers=auth)
        assert (answer.status_code, answer.mimetype) == (404, "application/problem+json")
    huge = client.get(f"/api/v1/claims/{foreign}/attachments/{10**30}", headers=other_auth)
    assert huge.status_code == 404
    assert (_count(Claim), _count(ClaimEvent)) == (claims_before, events_before)


def test_illegal_moves_and_duplicates_are_409_problems_that_write_nothing(client, auth, shop_key) -> None:
    shipment = _shipment(shop_key[0])
    reference = _open(client, auth, shipment).json["reference"]
    events = _count(ClaimEvent)

    closing = client.post(f"/api/v1/claims/{reference}/close", json={"note": "done"}, headers=auth)
    assert (closing.status_code, closing.mimetype) == (409, "application/problem+json")
    assert closing.json["type"].endswith("/illegal-transition")
    assert closing.json["title"] == "Illegal claim transition"
    assert "opened" in closing.json["detail"] and "closed" in closing.json["detail"]
    decision = client.post(
        f"/api/v1/claims/{reference}/carrier-decision",
        json={"outcome": "approved", "carrier_claim_id": "X-1"},
        headers=auth,
    )
    assert decision.status_code == 409

    again = _open(client, auth, shipment)
    assert (again.status_code, again.json["type"], again.json["reference"]) == (
        409,
        "https://leveranse.dev/problems/claim-exists",
        reference,
    )
    shown = client.get(f"/api/v1/claims/{reference}", headers=auth).json
    assert (shown["state"], shown["carrier"]["claim_id"]) == ("opened", None)
    assert (_count(Claim), _count(ClaimEvent)) == (1, events)
    assert _open(client, auth, shipment, kind="damaged").status_code == 201


def test_remedy_refusals_are_422_problems_that_write_nothing(client, auth, shop_key) -> None:
    reference = _open(client, auth, _shipment(shop_key[0])).json["reference"]
    base = f"/api/v1/claims/{reference}"
    client.post(f"{base}/classify", json={"liability": "shop"}, headers=auth)
    events = _count(ClaimEvent)

    unknown = client.post(f"{base}/remedy", json={"kind": "voucher", "amount": 10}, headers=auth)
    assert (unknown.status_code, unknown.mimetype) == (422, "application/problem+json")
    assert unknown.json["errors"]["kind"] == [
        "Must be one of: refund, reship, store_credit, compensation, none."
    ]
    too_much = client.post(f"{base}/remedy", json={"kind": "refund", "amount": "250.01"}, headers=auth)
    assert too_much.status_code == 422
    assert too_much.json["errors"] == {"amount": ["At most the goods value, 250.00."]}
    assert "goods value" in too_much.json["detail"]
    for body in (
        {"kind": "reship", "amount": 5},
        {"kind": "refund", "amount": -1},
        {"kind": "refund", "x": 1},
    ):
        assert client.post(f"{base}/remedy", json=body, headers=auth).status_code == 422

    shown = client.get(base, headers=auth).json
    assert (shown["state"], shown["remedy"]["kind"]) == ("classified", None)
    assert _count(ClaimEvent) == events


def test_invalid_requests_name_the_field_and_write_nothing(client, auth, shop_key) -> None:
    shipment = _shipment(shop_key[0])
    for body in (
        {"shipment_id": shipment.id, "kind": "stolen"},
        {"shipment_id": str(shipment.id), "kind": "lost"},
        {"shipment_id": 10**20, "kind": "lost"},
        {"kind": "lost"},
    ):
        answer = client.post("/api/v1/claims", json=body, headers=auth)
        assert (answer.status_code, answer.mimetype) == (422, "application/problem+json")
    missing = _open(client, auth, shipment, kind="wrong")
    assert list(missing.json["errors"]) == ["kind"]
    assert _open(client, auth, shipment, statement="x" * 5001).json["errors"].keys() == {"statement"}
    assert _count(Claim) == 0
    reference = _open(client, auth, shipment).json["reference"]
    refused = client.post(
        f"/api/v1/claims/{reference}/carrier-decision", json={"outcome": "submitted"}, headers=auth
    )
    assert list(refused.json["errors"]) == ["outcome"]
    assert client.get("/api/v1/claims?state=lost&open=maybe", headers=auth).json["errors"].keys() == {
        "state",
        "open",
    }


def test_an_idempotency_key_replays_the_first_answer(client, auth, shop_key) -> None:
    shipment = _shipment(shop_key[0])
    headers = {**auth, "Idempotency-Key": "claim-A-1"}
    first = _open(client, headers, shipment)
    replay = _open(client, headers, shipment)
    assert (first.status_code, replay.status_code) == (201, 201)
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json == first.json
    assert _count(Claim) == 1
    assert _open(client, headers, shipment, kind="damaged").json["type"].endswith("idempotency-key-reused")

    base = f"/api/v1/claims/{first.json['reference']}"
    classify = {**auth, "Idempotency-Key": "classify-A-1"}
    one = client.post(f"{base}/classify", json={"liability": "carrier"}, headers=classify)
    two = client.post(f"{base}/classify", json={"liability": "carrier"}, headers=classify)
    assert (one.status_code, two.status_code, two.headers["Idempotent-Replayed"]) == (200, 200, "true")
    assert two.json == one.json
    assert _count(ClaimEvent) == 2
    # Without the key the retry is a second move, which the lifecycle refuses.
    assert client.post(f"{base}/classify", json={"liability": "carrier"}, headers=auth).status_code == 409


def test_evidence_is_checked_by_content_stored_and_downloadable(
    app, client, auth, shop_key, files_dir
) -> None:
    reference = _open(client, auth, _shipment(shop_key[0])).json["reference"]
    base = f"/api/v1/claims/{reference}"
    png = _png()

    added = client.post(
        f"{base}/evidence",
        data={"files": [(io.BytesIO(png), "box.png"), (io.BytesIO(PDF), "receipt.pdf")], "note": "Crushed"},
        headers=auth,
        content_type="multipart/form-data",
    )
    assert added.status_code == 200
    files = [(a["filename"], a["content_type"], a["size"]) for a in added.json["attachments"]]
    assert files == [("box.png", "image/png", len(png)), ("receipt.pdf", "application/pdf", len(PDF))]
    evidence = added.json["timeline"][-1]
    assert (evidence["actor"], evidence["action"], evidence["note"], evidence["to_state"]) == (
        "shop:api",
        "evidence",
        "Crushed",
        "opened",
    )
    assert added.json["state"] == "opened"

    url = added.json["attachments"][0]["url"]
    assert url == f"{base}/attachments/{added.json['attachments'][0]['id']}"
    download = client.get(url, headers=auth)
    assert (download.status_code, download.data, download.mimetype) == (200, png, "image/png")
    assert download.headers["Content-Disposition"] == "attachment; filename=box.png"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get(url).status_code == 401
    stored = len(list(files_dir.iterdir()))
    events = _count(ClaimEvent)

    fake = client.post(
        f"{base}/evidence",
        data={"files": [(io.BytesIO(png), "ok.png"), (io.BytesIO(b"just some text\n" * 20), "photo.jpg")]},
        headers=auth,
        content_type="multipart/form-data",
    )
    assert (fake.status_code, fake.mimetype) == (422, "application/problem+json")
    assert "photo.jpg" in fake.json["errors"]["files"][0]
    limit = app.config["CLAIM_REPORT_MAX_FILES"]
    too_many = client.post(
        f"{base}/evidence",
        data={"files": [(io.BytesIO(png), f"p{n}.png") for n in range(limit + 1)]},
        headers=auth,
        content_type="multipart/form-data",
    )
    assert too_many.status_code == 422
    assert too_many.json["errors"] == {"files": [f"At most {limit} files."]}
    for data in ({}, {"files": "not a file"}, {"note": "x" * 2001}):
        answer = client.post(f"{base}/evidence", data=data, headers=auth, content_type="multipart/form-data")
        assert answer.status_code == 422
        assert list(answer.json["errors"]) == [next(iter(data), "files")]
    assert (_count(ClaimAttachment), _count(ClaimEvent), len(list(files_dir.iterdir()))) == (
        2,
        events,
        stored,
    )

    noted = client.post(
        f"{base}/evidence",
        data={"note": "Customer sent photos by post"},
        headers=auth,
        content_type="multipart/form-data",
    )
    assert (noted.status_code, len(noted.json["attachments"])) == (200, 2)
    assert noted.json["timeline"][-1]["note"] == "Customer sent photos by post"
    assert client.get(f"{base}/attachments/999", headers=auth).status_code == 404


def test_list_filters_pages_and_puts_the_newest_first(client, auth, shop_key) -> None:
    shop, _ = shop_key
    start = datetime(2026, 11, 10, 9, tzinfo=UTC)
    specs = [
        ("1Z999AA10123456784", "ups", "A-1", ClaimKind.LOST),
        ("1Z999AA10123456784", "ups", "A-1", ClaimKind.DAMAGED),
        ("70438101015432113", "bring", "B-2", ClaimKind.LOST),
        ("70438101015432114", "bring", "C-3", ClaimKind.RETURNED),
    ]
    shipments: dict[str, Shipment] = {}
    references = []
    for n, (number, carrier, order_ref, kind) in enumerate(specs):
        if number not in shipments:
            shipments[number] = _shipment(shop, number, carrier=carrier, order_ref=order_ref)
        [claim] = open_claims(
            [ClaimCandidate(shipments[number], kind, "test")],
            actor="system:detector",
            now=start + timedelta(hours=n),
        )
        references.append(claim.reference)
    db.session.commit()
    finished = db.session.scalar(select(Claim).where(Claim.reference == references[3]))
    move(finished, ClaimState.CANCELLED, actor="system:tracking")
    db.session.commit()
    other_shop, _ = make_shop("Other")
    open_claims([ClaimCandidate(_shipment(other_shop), ClaimKind.LOST, "test")], actor="system:detector")
    db.session.commit()

    def listed(query: str = "") -> list[str]:
        answer = client.get(f"/api/v1/claims?{query}", headers=auth)
        assert answer.status_code == 200
        return [item["reference"] for item in answer.json["items"]]

    assert listed() == references[::-1]
    assert listed("carrier=bring") == [references[3], references[2]]
    assert listed("kind=lost") == [references[2], references[0]]
    assert listed(f"shipment_id={shipments['1Z999AA10123456784'].id}") == [references[1], references[0]]
    assert listed("order_ref=B-2") == [references[2]]
    assert listed("open=false") == [references[3]]
    assert listed("open=true&state=opened") == references[2::-1]
    assert listed("state=cancelled") == [references[3]]
    assert listed("opened_since=2026-11-10T10:30:00%2B00:00") == [references[3], references[2]]
    page = client.get("/api/v1/claims?per_page=3&page=2", headers=auth).json
    assert (page["total"], page["page"], page["per_page"]) == (4, 2, 3)
    assert [item["reference"] for item in page["items"]] == [references[0]]
    item = page["items"][0]
    assert "timeline" not in item and item["shipment"]["carrier"] == "ups"
    assert client.get("/api/v1/claims?per_page=501", headers=auth).status_code == 422
    assert client.get("/api/v1/claims?opened_since=2026-11-10T10:30:00", headers=auth).status_code == 422


def test_an_evidence_retry_with_the_same_key_is_replayed_even_re_encoded(
    client, auth, shop_key, files_dir
) -> None:
    reference = _open(client, auth, _shipment(shop_key[0])).json["reference"]
    headers = {**auth, "Idempotency-Key": "evidence-1"}

    def send(color: str = "red"):
        # Each call encodes the form anew, with a new random boundary, as a client's retry would.
        return client.post(
            f"/api/v1/claims/{reference}/evidence",
            data={"files": [(io.BytesIO(_png(color)), "box.png")], "note": "Crushed"},
            headers=headers,
            content_type="multipart/form-data",
        )

    first, retry = send(), send()
    assert (first.status_code, retry.status_code, retry.headers["Idempotent-Replayed"]) == (200, 200, "true")
    assert retry.json == first.json
    assert (_count(ClaimAttachment), len(list(files_dir.iterdir()))) == (1, 1)
    assert send("blue").json["type"].endswith("idempotency-key-reused")
