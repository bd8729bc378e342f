"""Carrier claims: parsing recorded shapes, filing over real HTTP against the sandbox, packs, UPS codes."""

from __future__ import annotations

import base64
import dataclasses
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import requests

from carriers.base import CarrierSettings
from carriers.claims import (
    CLAIM_FORMS,
    FILERS,
    Address,
    Attachment,
    AttachmentRole,
    CarrierClaimStatus,
    ClaimEvent,
    ClaimKind,
    ClaimNotFound,
    ClaimNotSupported,
    ClaimRejected,
    ClaimRequest,
    ClaimSignal,
    ClaimStatus,
    Contact,
    claim_pack,
    ups_claim_code,
)
from carriers.claims import easypost as easypost_claims
from carriers.claims import usps as usps_claims
from carriers.claims.packs import FIELD_VALUES
from carriers.errors import CarrierAuthError
from carriers.sandbox import Credentials, FaultKind, FaultSpec, SandboxServer, SandboxSettings

FIXTURES = Path(__file__).parent / "fixtures" / "claims"
START = datetime(2024, 3, 4, 6, 0, tzinfo=UTC)
CREDS = Credentials()
CREDENTIALS = {"api_key": CREDS.api_key, "client_id": CREDS.client_id, "client_secret": CREDS.client_secret}
NO_API_CARRIERS = {"bring", "postnord", "dhl", "ups", "fedex", "gls", "thailandpost"}
S = ClaimStatus


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def make_request(**overrides: object) -> ClaimRequest:
    """A complete damaged-parcel claim; override any field."""
    shop = Address("Lise Berg", "Storgata 1", "Oslo", "0155", "NO", company="Leveranse Demo AS")
    customer = Address("Kari Nordmann", "Kirkeveien 12", "Bergen", "5003", "NO", street2="H0201")
    values: dict[str, object] = {
        "reference": "CLM-1001",
        "carrier": "postnord",
        "tracking_number": "9400100208303109500669",
        "kind": ClaimKind.DAMAGED,
        "amount": Decimal("125.00"),
        "currency": "USD",
        "description": "Ceramic bowl arrived in pieces; outer box crushed on one corner.",
        "contact": Contact("Lise Berg", "claims@shop.example", "+47 22 00 00 00"),
        "ship_date": date(2024, 2, 26),
        "sender": shop,
        "recipient": customer,
        "attachments": (
            Attachment("invoice-1001.pdf", "application/pdf", b"%PDF-1.4", AttachmentRole.INVOICE),
            Attachment("box.jpg", "image/jpeg", b"\xff\xd8box", AttachmentRole.PHOTO),
            Attachment("bowl.jpg", "image/jpeg", b"\xff\xd8bowl", AttachmentRole.PHOTO),
        ),
        "vat_amount": Decimal("25.00"),
        "received_on": date(2024, 2, 29),
        "parcels_affected": 1,
        "parcel_weights_kg": (Decimal("2.4"),),
        "repairable": False,
        "goods_location": "With the recipient in Bergen",
    }
    values.update(overrides)
    return ClaimRequest(**values)  # type: ignore[arg-type]


# --- parsing recorded and documented shapes ---------------------------------------------------------


def test_easypost_recorded_create_answer_parses() -> None:
    """EasyPost's own recorded answer to POST /v2/claims (easypost-python test_claim_create.yaml)."""
    body = (FIXTURES / "easypost" / "claim_created.json").read_bytes()
    assert easypost_claims.parse_claim(body) == CarrierClaimStatus(
        carrier="easypost",
        carrier_claim_id="clm_09ce5f03fd6b4310b9c5b7f306407214",
        status=S.SUBMITTED,
        carrier_status="submitted",
        tracking_number="9400100208303109500669",
        reference="",
        detail="Claim was created.",
        updated_at=at("2025-03-06T19:47:58Z"),
        requested_amount=Decimal("100.00"),
        approved_amount=None,
        history=(ClaimEvent(at("2025-03-06T19:47:58Z"), S.SUBMITTED, "submitted", "Claim was created."),),
    )


def test_easypost_recorded_cancel_history_is_sorted_oldest_first() -> None:
    claim = easypost_claims.parse_claim((FIXTURES / "easypost" / "claim_cancelled.json").read_bytes())
    assert claim.status is S.CANCELLED
    assert [(e.at, e.status, e.detail) for e in claim.history] == [
        (at("2025-03-06T19:48:03Z"), S.SUBMITTED, "Claim was created."),
        (at("2025-03-06T19:48:04Z"), S.CANCELLED, "Claim cancellation was requested."),
    ]


def test_easypost_partial_approval_carries_the_approved_amount_and_reference() -> None:
    claim = easypost_claims.parse_claim((FIXTURES / "easypost" / "claim_approved_partial.json").read_bytes())
    assert (claim.status, claim.approved_amount, claim.requested_amount, claim.reference) == (
        S.PARTIALLY_APPROVED,
        Decimal("60.00"),
        Decimal("90.00"),
        "CLM-1001",
    )
    assert [e.status for e in claim.history] == [S.SUBMITTED, S.IN_REVIEW, S.PARTIALLY_APPROVED]


@pytest.mark.parametrize(
    ("word", "approved", "expected"),
    [
        ("needs_action", None, S.NEEDS_INFORMATION),
        ("rejected", None, S.DENIED),
        ("closed", Decimal("10"), S.PAID),
        ("closed", None, S.DENIED),
        ("something_new", None, S.IN_REVIEW),
    ],
)
def test_easypost_status_words(word: str, approved: Decimal | None, expected: ClaimStatus) -> None:
    assert easypost_claims.claim_status(word, approved) is expected


def test_easypost_error_bodies_become_claim_errors() -> None:
    with pytest.raises(ClaimNotFound):
        easypost_claims.parse_claim((FIXTURES / "easypost" / "error_not_found.json").read_bytes())
    with pytest.raises(ClaimRejected, match="PARAMETER.REQUIRED"):
        easypost_claims.parse_claim((FIXTURES / "easypost" / "error_invalid.json").read_bytes())


def test_usps_claim_parses() -> None:
    body = (FIXTURES / "usps" / "claim_submitted.json").read_bytes()
    parsed = usps_claims.parse_claim(body)
    assert parsed == CarrierClaimStatus(
        carrier="usps",
        carrier_claim_id="7A1C09E2B44F1D3",
        status=S.SUBMITTED,
        carrier_status="SUBMITTED",
        tracking_number="9400100208303109500669",
        reference="CLM-1001",
        detail="Your claim has been received.",
        updated_at=START,
        requested_amount=Decimal("120.5"),
        approved_amount=None,
    )
    assert parsed.raw == json.loads(body)


def test_usps_claim_list_normalises_words_offsets_and_unknown_statuses() -> None:
    partial, unknown = usps_claims.parse_claims((FIXTURES / "usps" / "claims_list.json").read_bytes())
    assert (partial.status, partial.approved_amount) == (S.PARTIALLY_APPROVED, Decimal("60.25"))
    assert (unknown.status, unknown.carrier_status, unknown.reference) == (S.IN_REVIEW, "ESCALATED", "")
    assert unknown.requested_amount == Decimal("80.00")
    assert unknown.updated_at == datetime(2024, 3, 6, 13, 30, tzinfo=UTC)


def test_usps_error_envelope_is_a_rejection() -> None:
    with pytest.raises(ClaimRejected, match="mailingDate"):
        usps_claims.parse_claim((FIXTURES / "usps" / "error_bad_request.json").read_bytes())


def test_easypost_request_body_matches_the_recorded_request_shape() -> None:
    body = easypost_claims.claim_body(make_request(carrier="usps"))
    assert body == {
        "tracking_code": "9400100208303109500669",
        "type": "damage",
        "amount": "125.00",
        "description": "Ceramic bowl arrived in pieces; outer box crushed on one corner.",
        "contact_email": "claims@shop.example",
        "reference": "CLM-1001",
        "invoice_attachments": ["data:application/pdf;base64," + base64.b64encode(b"%PDF-1.4").decode()],
        "supporting_documentation_attachments": [
            "data:image/jpeg;base64," + base64.b64encode(b"\xff\xd8box").decode(),
            "data:image/jpeg;base64," + base64.b64encode(b"\xff\xd8bowl").decode(),
        ],
    }


def test_claim_request_validates_money() -> None:
    with pytest.raises(ValueError):
        make_request(amount=Decimal(0))
    with pytest.raises(ValueError):
        make_request(currency="usd")
    assert make_request().amount_excl_vat == Decimal("100.00")


# --- filing over real HTTP against the sandbox -----------------------------------------------------


@pytest.fixture(scope="module")
def server():
    # speed 0: the clock stands still at START and moves only when a test advances it.
    with SandboxServer(SandboxSettings(speed=0, start=START)) as running:
        yield running


@pytest.fixture()
def waits() -> list[float]:
    return []


def make_filer(server: SandboxServer, code: str, waits: list[float], **settings: object):
    config = CarrierSettings(
        base_url=server.base_url(code), credentials=CREDENTIALS, rate_per_second=100.0, timeout=2.0
    )
    return FILERS[code](dataclasses.replace(config, **settings), sleep=waits.append)


def us_request(reference: str, number: str, **overrides: object) -> ClaimRequest:
    return make_request(reference=reference, tracking_number=number, carrier="usps", **overrides)


def creates(server: SandboxServer, code: str) -> int:
    return server.stats()["requests"].get(code, {}).get("claim_create", 0)


@pytest.mark.parametrize("code", sorted(FILERS))
def test_file_then_follow_the_claim_on_the_sandbox_clock(server, waits, code: str) -> None:
    filer = make_filer(server, code, waits)
    filed = filer.file(us_request(f"{code}-follow", f"94001{code}0001"))
    assert (filed.carrier, filed.reference, filed.status) == (code, f"{code}-follow", S.SUBMITTED)
    assert filer.status(filed.carrier_claim_id).status is S.SUBMITTED
    server.advance(2 * 3600)
    assert filer.status(filed.carrier_claim_id).status is S.IN_REVIEW
    server.advance(24 * 3600)
    decided = filer.status(filed.carrier_claim_id)
    assert (decided.status, decided.approved_amount) == (S.APPROVED, Decimal("125.00"))
    server.advance(3 * 24 * 3600)
    # USPS reports the payment; EasyPost pays into the wallet and keeps saying "approved".
    assert filer.status(filed.carrier_claim_id).status is (S.PAID if code == "usps" else S.APPROVED)


@pytest.mark.parametrize("code", sorted(FILERS))
def test_filing_the_same_request_again_returns_the_same_claim(server, waits, code: str) -> None:
    filer = make_filer(server, code, waits)
    request = us_request(f"{code}-again", f"94001{code}0002")
    before = creates(server, code)
    first, second = filer.file(request), filer.file(request)
    assert first == second
    assert creates(server, code) - before == 1
    assert len(server.app.claims.store.on_number(code, request.tracking_number)) == 1


@pytest.mark.parametrize("code", sorted(FILERS))
def test_a_submission_that_timed_out_after_being_stored_is_filed_once(server, waits, code: str) -> None:
    filer = make_filer(server, code, waits, timeout=0.3)
    request = us_request(f"{code}-timeout", f"94001{code}0003")
    before = creates(server, code)
    server.add_fault(FaultSpec(FaultKind.TIMEOUT, carrier=code, count=1, delay=1.0))
    filed = filer.file(request)
    (stored,) = server.app.claims.store.on_number(code, request.tracking_number)
    assert filed.carrier_claim_id == stored.claim_id
    assert creates(server, code) - before == 1  # looked up after the timeout, never re-posted
    assert len(waits) == 1  # one backoff between the lost answer and the lookup
    assert filer.file(request) == filed


@pytest.mark.parametrize("code", sorted(FILERS))
def test_a_submission_refused_with_5xx_is_sent_again_after_looking(server, waits, code: str) -> None:
    filer = make_filer(server, code, waits)
    request = us_request(f"{code}-503", f"94001{code}0004")
    before = creates(server, code)
    server.add_fault(FaultSpec(FaultKind.SERVER_ERROR, carrier=code, count=1))
    filer.file(request)
    assert creates(server, code) - before == 2
    assert len(server.app.claims.store.on_number(code, request.tracking_number)) == 1


def test_rate_limit_retry_after_is_honoured(server, waits) -> None:
    filer = make_filer(server, "easypost", waits)
    server.add_fault(FaultSpec(FaultKind.RATE_LIMIT, carrier="easypost", count=1, retry_after=3))
    filer.file(us_request("easypost-429", "9400144290001"))
    assert waits == [3.0]


def test_planned_and_threshold_outcomes(server, waits) -> None:
    filer = make_filer(server, "usps", waits)
    server.app.claims.store.plan("usps", "9400188880001", "partially_approved")
    partial = filer.file(us_request("usps-partial", "9400188880001", amount=Decimal("90.00")))
    big = filer.file(
        us_request("usps-big", "9400188880002", amount=Decimal("9000.00"), vat_amount=Decimal(0))
    )
    server.advance(25 * 3600)
    assert filer.status(partial.carrier_claim_id).approved_amount == Decimal("45.00")
    assert filer.status(big.carrier_claim_id).status is S.DENIED


def test_sandbox_create_is_idempotent_per_key(server) -> None:
    token = requests.post(
        server.base_url("usps") + "/oauth2/v3/token",
        data={
            "grant_type": "client_credentials",
            "client_id": CREDS.client_id,
            "client_secret": CREDS.client_secret,
        },
        timeout=5,
    ).json()["access_token"]
    body = usps_claims.claim_body(us_request("raw-key", "9400177770001"))
    url = server.base_url("usps") + "/indemnity-claims/v3/claims"
    headers = {"Authorization": f"Bearer {token}", "X-Idempotency-Key": "raw-key"}
    first = requests.post(url, json=body, headers=headers, timeout=5)
    again = requests.post(url, json=body, headers=headers, timeout=5)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["claimId"] == again.json()["claimId"]
    ep_url = server.base_url("easypost") + "/v2/claims"
    ep_body = easypost_claims.claim_body(us_request("raw-ref", "9400177770002"))
    ep = [requests.post(ep_url, json=ep_body, auth=(CREDS.api_key, ""), timeout=5) for _ in range(2)]
    assert [r.status_code for r in ep] == [201, 200]
    assert (
        ep[0].json()["id"]
        == ep[1].json()["id"]
        == requests.get(f"{ep_url}/raw-ref", auth=(CREDS.api_key, ""), timeout=5).json()["id"]
    )


def test_sandbox_checks_credentials(server, waits) -> None:
    url = server.base_url("usps") + "/indemnity-claims/v3/claims/ANY"
    assert requests.get(url, headers={"Authorization": "Bearer nope"}, timeout=5).status_code == 401
    bad_key = dict(CREDENTIALS, api_key="wrong")
    with pytest.raises(CarrierAuthError):
        make_filer(server, "easypost", waits, credentials=bad_key).status("clm_x")


@pytest.mark.parametrize("code", sorted(FILERS))
def test_unknown_claim_and_refused_claim(server, waits, code: str) -> None:
    filer = make_filer(server, code, waits)
    with pytest.raises(ClaimNotFound):
        filer.status("NO-SUCH-CLAIM")
    with pytest.raises(ClaimRejected):
        filer.file(us_request(f"{code}-no-number", ""))


@pytest.mark.parametrize("code", sorted(FILERS))
def test_requests_the_api_cannot_take_are_refused_before_any_call(server, waits, code: str) -> None:
    filer = make_filer(server, code, waits)
    before = server.stats()["total_requests"]
    with pytest.raises(ClaimNotSupported):
        filer.file(us_request("x-eur", "9400166660001", currency="EUR"))
    with pytest.raises(ClaimNotSupported):
        filer.file(us_request("x-ret", "9400166660002", kind=ClaimKind.RETURNED))
    assert server.stats()["total_requests"] == before


# --- claim packs for carriers without an API --------------------------------------------------------


def test_postnord_pack_is_its_own_form_prefilled() -> None:
    pack = claim_pack(
        "postnord", make_request(currency="NOK", amount=Decimal("1250.00"), vat_amount=Decimal("250.00"))
    )
    assert pack.portal_url == (
        "https://www.postnord.no/en/business/customer-service/compensation/submit-a-compensation-claim"
    )
    assert [(f.label, f.value) for f in pack.fields] == [
        ("Shipment number", "9400100208303109500669"),
        ("Claimed amount excl. VAT", "1000.00 NOK"),
        ("Commercial invoice", "invoice-1001.pdf"),
        ("Date of receipt", "2024-02-29"),
        ("Number of parcels damaged or missing", "1"),
        ("Weight per parcel", "2.4 kg"),
        (
            "Description of the damage or shortage",
            "Ceramic bowl arrived in pieces; outer box crushed on one corner.",
        ),
        ("Photos", "box.jpg, bowl.jpg"),
        ("Can the goods be repaired?", "no"),
        ("Where are the goods now?", "With the recipient in Bergen"),
        ("Contact", "Lise Berg, claims@shop.example, +47 22 00 00 00"),
    ]
    assert pack.missing == ()


def test_pack_marks_what_staff_still_have_to_supply() -> None:
    request = make_request(received_on=None, repairable=None, attachments=(), parcel_weights_kg=())
    assert claim_pack("postnord", request).missing == (
        "Commercial invoice",
        "Date of receipt",
        "Weight per parcel",
        "Photos",
        "Can the goods be repaired?",
    )


def test_every_carrier_without_an_api_has_a_complete_form() -> None:
    assert set(CLAIM_FORMS) >= NO_API_CARRIERS
    for code, form in CLAIM_FORMS.items():
        assert form.portal_url.startswith("https://"), code
        assert form.who_files and form.fields and form.sources, code
        assert {key for _, key in form.fields} <= set(FIELD_VALUES), code
        assert claim_pack(code, make_request()).fields[0].value == "9400100208303109500669"


def test_ups_pack_lists_the_blockers_and_usps_the_evidence() -> None:
    assert "Not a driver-released parcel" in claim_pack("ups", make_request()).checks
    assert claim_pack("usps", make_request()).evidence[0].startswith("Evidence of insurance")
    date_field = claim_pack("bring", make_request()).fields[4]
    assert (date_field.label, date_field.value) == ("Date delivered", "2024-02-29")


def test_no_pack_for_an_unknown_carrier() -> None:
    with pytest.raises(ClaimNotSupported):
        claim_pack("pigeon", make_request())


# --- UPS claim signals in tracking codes --------------------------------------------------------------


@pytest.mark.parametrize(
    ("status_code", "code", "signal", "status", "kind"),
    [
        ("059", "", ClaimSignal.INCIDENT, None, ClaimKind.DAMAGED),
        ("59", "", ClaimSignal.INCIDENT, None, ClaimKind.DAMAGED),
        ("068", "", ClaimSignal.INCIDENT, None, ClaimKind.LOST),
        ("129", "", ClaimSignal.CARRIER_CLAIM, S.SUBMITTED, None),
        ("130", "", ClaimSignal.CARRIER_CLAIM, S.IN_REVIEW, None),
        ("141", "", ClaimSignal.CARRIER_CLAIM, S.NEEDS_INFORMATION, None),
        ("140", "", ClaimSignal.CARRIER_CLAIM, S.PAID, None),
        ("142", "", ClaimSignal.CARRIER_CLAIM, S.CANCELLED, None),
        ("", "UO", ClaimSignal.INCIDENT, None, ClaimKind.LOST),
        ("", "2G", ClaimSignal.NOT_ELIGIBLE, None, None),
        ("", "3z", ClaimSignal.NOT_ELIGIBLE, None, None),
        ("", "GN", ClaimSignal.CARRIER_CLAIM, S.DENIED, None),
        ("", "5A", ClaimSignal.CARRIER_CLAIM, None, None),
    ],
)
def test_ups_claim_codes(status_code, code, signal, status, kind) -> None:
    found = ups_claim_code(status_code, code)
    assert found is not None
    assert (found.signal, found.status, found.kind) == (signal, status, kind)


def test_ups_tables_are_read_by_their_own_field() -> None:
    assert ups_claim_code(code="59") is None  # exception 59 is a late delivery, not damage
    assert ups_claim_code("005", "UO").kind is ClaimKind.LOST  # an in-transit status with a lost exception
    assert ups_claim_code("011") is None
