"""Staff claims pages: the board by state and deadline, a claim's detail and actions (agents act, viewers
only read, refused actions change nothing), the files behind a login, and the evidence pack (PDF and zip)."""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from PIL import Image
from sqlalchemy import func, select

from app.claims.evidence import Upload, attach
from app.claims.evidence_pack import build_pdf, find_fonts
from app.claims.lifecycle import move
from app.claims.service import ClaimCandidate, classify, decide_remedy, open_claim
from app.extensions import db, limiter
from app.models import (
    Claim,
    ClaimEvent,
    ClaimKind,
    ClaimState,
    Liability,
    RemedyKind,
    Role,
    TrackingEvent,
)
from app.models.types import utcnow
from carriers.model import Status
from carriers.sandbox.server import SandboxServer, SandboxSettings
from tests.factories import PASSWORD, make_shipment, make_shop, make_staff

THAI = "พัสดุมาถึงแล้วแต่กล่องเปียกและแตก"
STATEMENT = f"Eska var knust, æøå. {THAI}"


@pytest.fixture(autouse=True)
def _claim_files(app, tmp_path):
    app.config["CLAIM_FILES_DIR"] = tmp_path / "claim-files"
    limiter.reset()  # these tests log in more often than the login form's rate limit allows a minute


def _login(client, role: Role = Role.VIEWER) -> None:
    email = f"{role}@shop.test"
    make_staff(email, role)
    client.post("/staff/login", data={"email": email, "password": PASSWORD})


def _claim(
    shop=None,
    *,
    carrier: str = "ups",
    number: str = "1Z999AA10123456784",
    kind: ClaimKind = ClaimKind.LOST,
    days_left: float | None = 30.5,
    statement: str | None = None,
) -> Claim:
    shop = shop or make_shop("Fjellsport")[0]
    shipment = make_shipment(
        shop,
        carrier=carrier,
        tracking_number=number,
        status=Status.IN_TRANSIT,
        shipped_at=datetime(2026, 11, 2, 9, tzinfo=UTC),
        promised_date=date(2026, 11, 5),
        declared_value=Decimal("250.00"),
        currency="USD",
        weight_kg=Decimal("1.5"),
        origin_postcode="0150",
        origin_country="NO",
        destination_postcode="10110",
        destination_country="TH",
        order_ref="ORDER-77",
    )
    claim = open_claim(
        ClaimCandidate(shipment, kind, "no_scan", {"quiet_business_days": 9}, statement=statement),
        actor="system:detector",
    )
    claim.file_by = utcnow() + timedelta(days=days_left) if days_left is not None else None
    db.session.commit()
    return claim


def _state(reference: str) -> tuple[ClaimState, int, int]:
    db.session.expire_all()
    claim = db.session.scalar(select(Claim).where(Claim.reference == reference))
    events = db.session.scalar(select(func.count()).where(ClaimEvent.claim_id == claim.id))
    return claim.state, claim.version, events


def _png(color: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), color).save(out, format="PNG")
    return out.getvalue()


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (60, 80), "blue").save(out, format="JPEG")
    return out.getvalue()


def test_board_sorts_by_deadline_and_filters(client) -> None:
    shop, _ = make_shop("Fjellsport")
    later = _claim(shop, number="1ZLATER", days_left=40.5)
    soon = _claim(shop, number="1ZSOON", days_left=4.5)
    damaged = _claim(
        shop, carrier="bring", number="70438101015432113", kind=ClaimKind.DAMAGED, days_left=20.5
    )
    finished = _claim(shop, number="1ZDONE", days_left=2)
    move(finished, ClaimState.CANCELLED, actor="system:tracking")
    db.session.commit()

    assert client.get("/staff/claims/").status_code == 302
    _login(client)
    page = client.get("/staff/claims/").get_data(as_text=True)
    assert page.index(soon.reference) < page.index(damaged.reference) < page.index(later.reference)
    assert finished.reference not in page
    assert '<span class="due late">4 days left</span>' in page  # within the 10-day warning: red
    assert '<span class="due">40 days left</span>' in page
    assert "File ticked" not in page  # viewers get no bulk form

    ups = client.get("/staff/claims/?carrier=ups").get_data(as_text=True)
    assert soon.reference in ups and damaged.reference not in ups
    kind = client.get("/staff/claims/?kind=damaged").get_data(as_text=True)
    assert damaged.reference in kind and soon.reference not in kind
    cancelled = client.get("/staff/claims/?state=cancelled").get_data(as_text=True)
    assert finished.reference in cancelled and soon.reference not in cancelled
    assert finished.reference in client.get("/staff/claims/?show=all").get_data(as_text=True)


def test_detail_shows_shipment_evidence_amounts_calendar_and_trail_to_a_viewer_without_forms(client) -> None:
    claim = _claim(statement=STATEMENT)
    _login(client)
    response = client.get(f"/staff/claims/{claim.reference}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'href="/staff/shipments/{claim.shipment_id}"' in page
    assert "<code>no_scan</code>" in page and "quiet business days</dt><dd>9</dd>" in page
    assert "<strong>100.00 USD</strong>" in page  # claimable: the UPS cap
    assert '<span class="uncovered">150.00 USD</span> <span class="muted">stays with the shop' in page
    assert "250.00 USD" in page and THAI in page
    assert "https://www.ups.com/claims" in page and "30 days left" in page
    assert "system:detector" in page and "opened" in page
    assert f"/staff/claims/{claim.reference}/classify" not in page
    assert "Evidence pack (PDF)" in page
    assert client.get("/staff/claims/C-NOSUCH1").status_code == 404


def test_an_agent_takes_a_claim_through_every_action(client) -> None:
    claim = _claim()
    ref = claim.reference
    _login(client, Role.AGENT)
    url = f"/staff/claims/{ref}"
    assert f'action="{url}/classify"' in client.get(url).get_data(as_text=True)

    page = client.post(
        f"{url}/classify",
        data={"liability": "carrier", "kind": "lost", "version": "1"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Classified: lost claim, liability with the carrier." in page
    client.post(f"{url}/remedy", data={"remedy": "refund", "amount": "250,00"})
    client.post(f"{url}/note", data={"note": "Kunden ringte, svært hyggelig."})
    state, _, _ = _state(ref)
    claim = db.session.scalar(select(Claim).where(Claim.reference == ref))
    assert (state, claim.remedy_kind, claim.remedy_amount) == (
        ClaimState.REMEDY_DECIDED,
        RemedyKind.REFUND,
        Decimal("250.00"),
    )
    move(claim, ClaimState.SUBMITTED, actor="system:filer")  # the submission module's part
    db.session.commit()

    client.post(f"{url}/request-information", data={"message": "Photos of the box, please."})
    assert _state(ref)[0] is ClaimState.NEEDS_INFORMATION
    client.post(f"{url}/decision", data={"outcome": "in_review", "carrier_claim_id": "UPS-CLM-1"})
    client.post(
        f"{url}/decision", data={"outcome": "partially_approved", "amount": "80", "reason": "Cap per parcel"}
    )
    page = client.post(f"{url}/close", data={"note": "Paid out."}, follow_redirects=True).get_data(
        as_text=True
    )
    assert "Claim closed." in page
    claim = db.session.scalar(select(Claim).where(Claim.reference == ref))
    assert (claim.state, claim.approved_amount, claim.carrier_claim_id) == (
        ClaimState.CLOSED,
        Decimal("80.00"),
        "UPS-CLM-1",
    )
    trail = db.session.execute(
        select(ClaimEvent.actor, ClaimEvent.action, ClaimEvent.to_state)
        .where(ClaimEvent.claim_id == claim.id)
        .order_by(ClaimEvent.id)
    ).all()
    assert [tuple(row) for row in trail] == [
        ("system:detector", "opened", "opened"),
        ("staff:agent@shop.test", "transition", "classified"),
        ("staff:agent@shop.test", "transition", "remedy_decided"),
        ("staff:agent@shop.test", "note", "remedy_decided"),
        ("system:filer", "transition", "submitted"),
        ("staff:agent@shop.test", "information_requested", "submitted"),
        ("staff:agent@shop.test", "transition", "needs_information"),
        ("staff:agent@shop.test", "transition", "in_review"),
        ("staff:agent@shop.test", "transition", "partially_approved"),
        ("staff:agent@shop.test", "transition", "closed"),
    ]

    other = _claim(number="1ZCANCEL")
    page = client.post(
        f"/staff/claims/{other.reference}/cancel", data={"note": "Found"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "Claim cancelled." in page and _state(other.reference)[0] is ClaimState.CANCELLED


def test_asking_the_customer_before_submission_only_records_it(client) -> None:
    claim = _claim()
    _login(client, Role.AGENT)
    page = client.post(
        f"/staff/claims/{claim.reference}/request-information",
        data={"message": "Which size was it?"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Information request recorded." in page
    assert _state(claim.reference)[0] is ClaimState.OPENED
    note = db.session.scalar(select(ClaimEvent.note).where(ClaimEvent.action == "information_requested"))
    assert note == "Which size was it?"


@pytest.mark.parametrize(
    ("action", "form"),
    [
        ("classify", {"liability": "carrier", "kind": "lost"}),
        ("remedy", {"remedy": "refund", "amount": "10"}),
        ("submit", {}),
        ("decision", {"outcome": "approved"}),
        ("request-information", {"message": "?"}),
        ("note", {"note": "hi"}),
        ("close", {}),
        ("cancel", {}),
    ],
)
def test_viewers_may_not_act(client, action, form) -> None:
    claim = _claim()
    before = _state(claim.reference)
    _login(client)
    assert client.post(f"/staff/claims/{claim.reference}/{action}", data=form).status_code == 403
    assert _state(claim.reference) == before


@pytest.mark.parametrize(
    ("action", "form", "message"),
    [
        ("close", {}, "A claim in state &#39;opened&#39; cannot move to &#39;closed&#39;."),
        ("decision", {"outcome": "approved"}, "cannot move to &#39;approved&#39;"),
        ("remedy", {"remedy": "refund", "amount": "10"}, "cannot move to &#39;remedy_decided&#39;"),
        ("classify", {"liability": "carrier", "kind": "lost", "version": "7"}, "Someone changed this claim"),
        ("classify", {"liability": "nobody"}, "Choose a liability."),
        ("note", {"note": "  "}, "Write a note first."),
    ],
)
def test_a_refused_action_shows_why_and_changes_nothing(client, action, form, message) -> None:
    claim = _claim()
    before = _state(claim.reference)
    _login(client, Role.AGENT)
    response = client.post(f"/staff/claims/{claim.reference}/{action}", data=form, follow_redirects=True)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert _state(claim.reference) == before
    assert db.session.scalar(select(Claim.liability).where(Claim.id == claim.id)) is None


def test_a_refused_classification_of_a_finished_claim_rolls_back_its_changes(client) -> None:
    claim = _claim()
    classify(claim, liability=Liability.SHOP, actor="staff:ops")
    decide_remedy(claim, remedy=RemedyKind.RESHIP, amount=None, actor="staff:ops")
    move(claim, ClaimState.CLOSED, actor="staff:ops")
    db.session.commit()
    before = _state(claim.reference)
    _login(client, Role.AGENT)
    page = client.post(
        f"/staff/claims/{claim.reference}/classify",
        data={"liability": "carrier", "kind": "damaged"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "none (the claim is finished)" in page
    assert _state(claim.reference) == before
    claim = db.session.scalar(select(Claim).where(Claim.id == claim.id))
    assert (claim.liability, claim.kind) == (Liability.SHOP, ClaimKind.LOST)
    assert client.post(f"/staff/claims/{claim.reference}/nonsense").status_code == 404


def _ready(claim: Claim) -> Claim:
    classify(claim, liability=Liability.CARRIER, actor="staff:ops")
    decide_remedy(claim, remedy=RemedyKind.REFUND, amount=Decimal("100"), actor="staff:ops")
    db.session.commit()
    return claim


def test_a_portal_claim_shows_its_pack_and_is_submitted_with_the_carriers_number(client) -> None:
    claim = _ready(_claim(carrier="bring", number="70438101015432113"))
    url = f"/staff/claims/{claim.reference}"
    _login(client, Role.AGENT)
    page = client.get(url).get_data(as_text=True)
    assert (
        "Claim pack for the carrier's portal" in page
        and "https://www.bring.no/kundeservice/reklamasjon" in page
    )
    assert "<td>70438101015432113</td>" in page

    refused = client.post(f"{url}/submit", follow_redirects=True).get_data(as_text=True)
    assert "file the claim pack on its portal, then record its claim number" in refused
    assert _state(claim.reference)[0] is ClaimState.REMEDY_DECIDED
    done = client.post(f"{url}/submit", data={"carrier_claim_id": "BR-2026-1"}, follow_redirects=True)
    assert "Submitted to the carrier: claim number BR-2026-1." in done.get_data(as_text=True)
    assert _state(claim.reference)[0] is ClaimState.SUBMITTED


@pytest.fixture
def sandbox(app):
    """The carriers' sandbox on 127.0.0.1, with its USPS claims API."""
    with SandboxServer(SandboxSettings(speed=0, start=datetime(2026, 12, 1, 8, tzinfo=UTC))) as server:
        app.config.update(SANDBOX_URL=server.url, CARRIER_MODE="sandbox", CARRIER_TIMEOUT_SECONDS=2.0)
        app.extensions.pop("leveranse_claim_filers", None)
        yield server
        app.extensions.pop("leveranse_claim_filers", None)


def test_bulk_submit_files_api_claims_and_explains_the_rest(client, sandbox) -> None:
    shop, _ = make_shop("Fjellsport")
    usps = _ready(_claim(shop, carrier="usps", number="9400100000000000000001"))
    portal = _ready(_claim(shop, carrier="bring", number="70438101015432113"))
    opened = _claim(shop, number="1ZOPEN")
    _login(client, Role.VIEWER)
    assert client.post("/staff/claims/submit", data={"reference": usps.reference}).status_code == 403
    client.post("/staff/logout")
    _login(client, Role.AGENT)
    board = client.get("/staff/claims/").get_data(as_text=True)
    assert f'name="reference" value="{usps.reference}"' in board
    assert f'name="reference" value="{portal.reference}"' not in board  # needs the portal's number

    references = [usps.reference, portal.reference, opened.reference]
    page = client.post(
        "/staff/claims/submit", data={"reference": references}, follow_redirects=True
    ).get_data(as_text=True)
    assert f"Submitted 1 claim: {usps.reference}." in page
    assert f"{portal.reference}: This carrier has no claims API" in page
    assert f"{opened.reference}: not waiting for submission." in page
    assert _state(usps.reference)[0] is ClaimState.SUBMITTED
    assert sandbox.stats()["requests"]["usps"]["claim_create"] == 1
    assert [_state(ref)[0] for ref in references[1:]] == [ClaimState.REMEDY_DECIDED, ClaimState.OPENED]


def _with_history_and_files(statement: str = STATEMENT) -> tuple[Claim, dict[str, bytes]]:
    claim = _claim(statement=statement)
    for hours, offset, code, text, place in (
        (0, 60, "MP", "Shipment information received", "Oslo, NO"),
        (30, 420, "AR", "Arrived at facility", "Bangkok, TH"),
    ):
        db.session.add(
            TrackingEvent(
                shipment_id=claim.shipment_id,
                occurred_at=datetime(2026, 11, 2, 9, tzinfo=UTC) + timedelta(hours=hours),
                utc_offset_minutes=offset,
                status="in_transit",
                carrier_code=code,
                description=text,
                location=place,
                source="poll",
                content_hash=code * 10,
            )
        )
    originals = {"box.png": _png(), "label.jpg": _jpeg(), "receipt.pdf": b"%PDF-1.4\n% a receipt\n%%EOF\n"}
    attach(
        claim,
        [Upload(name, data) for name, data in originals.items()],
        uploaded_by="customer",
        allow_pdf=True,
    )
    db.session.commit()
    return claim, originals


def test_the_evidence_pdf_holds_the_facts_history_trail_photos_and_a_thai_statement(client) -> None:
    claim, originals = _with_history_and_files()
    _login(client)
    response = client.get(f"/staff/claims/{claim.reference}/evidence.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    data = response.data
    assert data.startswith(b"%PDF-")
    assert _info(data, "Title") == f"Claim {claim.reference} evidence pack"
    assert data.count(b"/Subtype /Image") == 2  # the PNG and the JPEG, not the receipt
    text = _pdf_text(data)
    for expected in (
        f"Claim {claim.reference}",
        "Fjellsport",
        "UPS",
        "1Z999AA10123456784",
        "250.00 USD",
        "100.00 USD",
        "1.5 kg",
        "0150 NO",
        "10110 TH",
        "Eska var knust, æøå.",
        "2026-11-02 10:00+01:00",  # the scan's own clock
        "2026-11-03 22:00+07:00",
        "Arrived at facility",
        "Bangkok, TH",
        "quiet business days",
        "system:detector",
        "receipt.pdf",
        "SHA-256 " + claim.attachments[0].sha256,
    ):
        assert expected in text, expected
    if not find_fonts().fallbacks:
        pytest.skip("no Thai font installed (Debian fonts-tlwg-loma-ttf)")
    assert THAI in text


def test_without_unicode_fonts_the_pdf_falls_back_to_helvetica(app, tmp_path) -> None:
    claim, _ = _with_history_and_files()
    data = build_pdf(claim, fonts=find_fonts(tmp_path))  # a folder without fonts
    assert data.startswith(b"%PDF-") and b"/BaseFont /Helvetica" in data
    text = _pdf_text(data)
    assert "Eska var knust, æøå. " + "?" * len(THAI) in text
    assert "Arrived at facility" in text


def test_the_evidence_zip_holds_the_pdf_and_the_original_files(client) -> None:
    claim, originals = _with_history_and_files()
    _login(client)
    response = client.get(f"/staff/claims/{claim.reference}/evidence.zip")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        names = archive.namelist()
        assert names == [
            f"{claim.reference}-evidence.pdf",
            "files/01-box.png",
            "files/02-label.jpg",
            "files/03-receipt.pdf",
        ]
        assert archive.read(names[0]).startswith(b"%PDF-")
        assert [archive.read(name) for name in names[1:]] == list(originals.values())


def test_files_are_served_only_to_staff_and_never_sniffed(client) -> None:
    claim, originals = _with_history_and_files()
    other = _claim(number="1ZOTHER")
    photo, _, receipt = claim.attachments
    base = f"/staff/claims/{claim.reference}"
    for path in (f"{base}/files/{photo.id}", f"{base}/evidence.pdf", f"{base}/evidence.zip"):
        response = client.get(path)
        assert response.status_code == 302 and "/staff/login" in response.headers["Location"]

    _login(client)
    assert f'src="{base}/files/{photo.id}"' in client.get(base).get_data(as_text=True)
    image = client.get(f"{base}/files/{photo.id}")
    assert (image.mimetype, image.data) == ("image/png", originals["box.png"])
    assert image.headers["Content-Disposition"].startswith("inline")
    assert image.headers["X-Content-Type-Options"] == "nosniff"
    document = client.get(f"{base}/files/{receipt.id}")
    assert document.headers["Content-Disposition"].startswith("attachment")
    assert document.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get(f"/staff/claims/{other.reference}/files/{photo.id}").status_code == 404


# -- reading back what fpdf2 wrote: its Info strings, and page text through each font's ToUnicode map --


def _objects(data: bytes) -> dict[int, tuple[bytes, bytes]]:
    """Object number → (dictionary, decoded stream) for every object in an uncompressed-xref PDF."""
    found = {}
    for match in re.finditer(rb"(\d+) 0 obj\n(.*?)\nendobj", data, re.S):
        body = match.group(2)
        head, _, rest = body.partition(b"stream\n")
        stream = rest.rpartition(b"\nendstream")[0]
        if b"/FlateDecode" in head:
            stream = zlib.decompress(stream)
        found[int(match.group(1))] = (head, stream)
    return found


def _info(data: bytes, key: str) -> str:
    """A document information string: literal when ASCII, UTF-16 hex otherwise."""
    found = re.search(rb"/" + key.encode() + rb" (?:\(([^)]*)\)|<feff([0-9a-f]+)>)", data)
    if found.group(1) is not None:
        return found.group(1).decode("latin-1")
    return bytes.fromhex(found.group(2).decode()).decode("utf-16-be")


def _pdf_text(data: bytes) -> str:
    """The text of every page, one line per text object."""
    objects = _objects(data)
    maps: dict[int, dict[bytes, str]] = {}
    for number, (head, _) in objects.items():
        if to_unicode := re.search(rb"/ToUnicode (\d+) 0 R", head):
            cmap = objects[int(to_unicode.group(1))][1]
            maps[number] = {
                bytes.fromhex(code.decode()): bytes.fromhex(text.decode()).decode("utf-16-be")
                for code, text in re.findall(rb"<([0-9A-F]{4})> <([0-9A-F]+)>", cmap)
            }
    lines = []
    for head, _ in objects.values():
        if b"/Type /Page\n" not in head:
            continue
        fonts = dict(re.findall(rb"/(F\d+) (\d+) 0 R", head))
        resources = re.search(rb"/Resources (\d+) 0 R", head)
        if resources:
            fonts |= dict(re.findall(rb"/(F\d+) (\d+) 0 R", objects[int(resources.group(1))][0]))
        content = objects[int(re.search(rb"/Contents (\d+) 0 R", head).group(1))][1]
        font = None  # the text state outlives BT … ET: fpdf2 sets the font in a block of its own
        for block in re.findall(rb"BT (.*?) ET", content, re.S):
            line = []
            for token in re.finditer(rb"/(F\d+) [\d.]+ Tf|\(((?:\\.|[^\\)])*)\) Tj", block, re.S):
                if token.group(1):
                    font = int(fonts[token.group(1)])
                    continue
                raw = _unescape(token.group(2))
                if font in maps:
                    line.append("".join(maps[font].get(raw[i : i + 2], "") for i in range(0, len(raw), 2)))
                else:
                    line.append(raw.decode("latin-1"))
            lines.append("".join(line))
    return "\n".join(lines)


def _unescape(literal: bytes) -> bytes:
    escapes = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}

    def one(match: re.Match) -> bytes:
        escaped = match.group(1)
        if escaped[:1].isdigit():
            return bytes([int(escaped, 8)])
        return escapes.get(escaped, escaped)

    return re.sub(rb"\\([0-7]{1,3}|.)", one, literal, flags=re.S)
