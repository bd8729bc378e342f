"""Invariants every parser keeps on every fixture, every shared sample, and random JSON."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carriers.errors import CarrierError, TrackingFailure
from carriers.model import Reason, Status, TrackingUpdate
from carriers.registry import PARSERS

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "carriers"
SAMPLES = ROOT.parent / "shared" / "carriers" / "samples"


def _files() -> list[Path]:
    own = [p for p in FIXTURES.glob("*/*") if not p.name.endswith(".expected.json")]
    shared = [p for p in SAMPLES.glob("*/*") if p.is_file()] if SAMPLES.is_dir() else []
    return sorted(own) + sorted(shared)


def check_invariants(carrier: str, results: list) -> None:
    """What any answer must look like, whatever the payload."""
    assert isinstance(results, list)
    for item in results:
        if isinstance(item, TrackingFailure):
            assert item.tracking_number and isinstance(item.error, CarrierError)
            continue
        assert isinstance(item, TrackingUpdate)
        assert item.carrier == carrier and item.tracking_number
        assert isinstance(item.status, Status) and (item.reason is None or isinstance(item.reason, Reason))
        times = [event.occurred_at for event in item.events]
        assert all(t.tzinfo is not None and t.utcoffset() is not None for t in times)
        assert times == sorted(times)
        for event in item.events:
            assert isinstance(event.status, Status) and event.carrier_code == event.carrier_code.strip()
            assert event.carrier_code or event.status is Status.UNKNOWN
        if item.delivered_at is not None:
            assert item.delivered_at.utcoffset() is not None and item.status is Status.DELIVERED
        if Status.UNKNOWN in {e.status for e in item.events}:
            assert item.warnings
        if item.status is Status.UNKNOWN:
            assert all(e.status in (Status.UNKNOWN,) or e.informational for e in item.events)


@pytest.mark.parametrize("path", _files(), ids=lambda p: f"{p.parent.parent.name}/{p.parent.name}/{p.name}")
@pytest.mark.parametrize("carrier", sorted(PARSERS))
def test_every_parser_on_every_payload(carrier: str, path: Path) -> None:
    try:
        results = PARSERS[carrier](path.read_bytes())
    except CarrierError:
        return
    check_invariants(carrier, results)


def test_shared_samples_are_present_or_skipped() -> None:
    if not SAMPLES.is_dir():
        pytest.skip("../shared/carriers/samples not available")
    assert {p.name for p in SAMPLES.iterdir() if p.is_dir()} <= set(PARSERS) | {"usps", "canadapost", "dpd"}


def test_sample_known_values_when_present() -> None:
    """Spot checks on the real samples (skipped on machines without ../shared)."""
    if not SAMPLES.is_dir():
        pytest.skip("../shared/carriers/samples not available")
    (thai,) = PARSERS["thailandpost"](
        (SAMPLES / "thailandpost" / "in_transit_th_buddhist_era.json").read_bytes()
    )
    assert [e.occurred_at.isoformat() for e in thai.events] == [
        "2019-07-19T18:12:26+07:00",
        "2019-07-20T15:12:15+07:00",
    ]
    (postnord,) = PARSERS["postnord"]((SAMPLES / "postnord" / "available_for_pickup.json").read_bytes())
    assert postnord.status is Status.AVAILABLE_FOR_PICKUP
    assert [(e.carrier_code, e.informational, e.occurred_at.utcoffset()) for e in postnord.events] == [
        ("1", False, timedelta(hours=2)),
        ("z08", True, timedelta(hours=2)),
    ]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=20,
)
KEYS = [
    "consignmentSet",
    "packageSet",
    "eventSet",
    "TrackingInformationResponse",
    "shipments",
    "items",
    "events",
    "trackResponse",
    "shipment",
    "package",
    "activity",
    "output",
    "completeTrackResults",
    "trackResults",
    "scanEvents",
    "trackingNumber",
    "trackingEvents",
    "parcels",
    "response",
    "result",
    "object",
    "msg",
    "tracking_details",
    "checkpoints",
    "status",
    "statusCode",
    "dateIso",
    "eventTime",
    "date",
    "timestamp",
]
shaped = st.recursive(
    st.none()
    | st.text(max_size=25)
    | st.integers()
    | st.sampled_from(["2024-01-02T03:04:05", "Tracker", "Event"]),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.sampled_from(KEYS), children, max_size=4)
    ),
    max_leaves=25,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(carrier=st.sampled_from(sorted(PARSERS)), value=json_values | shaped)
def test_random_json_only_raises_carrier_errors(carrier: str, value: object) -> None:
    try:
        results = PARSERS[carrier](json.dumps(value))
    except CarrierError:
        return
    check_invariants(carrier, results)
