"""Every carrier parser against hand-written fixtures, compared with fully spelled-out expected results."""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from carriers.errors import CarrierError, MalformedPayload, TrackingFailure
from carriers.model import Reason, Status
from carriers.normalize import INFORMATIONAL, Code, RawEvent, finish_update
from carriers.registry import PARSERS
from carriers.serialize import error_to_dict, failure_to_dict, update_to_dict
from carriers.timeparse import parse_compact, parse_date, parse_iso, parse_slashed

FIXTURES = Path(__file__).parent / "fixtures" / "carriers"
CASES = sorted(p for p in FIXTURES.glob("*/*.json") if not p.name.endswith(".expected.json"))


def parse_to_json(carrier: str, body: bytes) -> object:
    """What the parser says, in the CLI's JSON shape (an error as its dict)."""
    try:
        results = PARSERS[carrier](body)
    except CarrierError as error:
        return error_to_dict(error)
    return [failure_to_dict(r) if isinstance(r, TrackingFailure) else update_to_dict(r) for r in results]


@pytest.mark.parametrize("path", CASES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_fixture_parses_to_expected(path: Path) -> None:
    expected = json.loads(path.with_suffix(".expected.json").read_text())
    assert parse_to_json(path.parent.name, path.read_bytes()) == expected


def test_every_carrier_has_fixtures() -> None:
    assert {p.parent.name for p in CASES} == set(PARSERS)


def test_bring_customs_fixture_in_full() -> None:
    """One expected result written out in Python too, so the shape itself is pinned."""
    (update,) = PARSERS["bring"]((FIXTURES / "bring" / "in_transit_customs.json").read_bytes())
    oslo = timezone(timedelta(hours=1))
    assert update.status is Status.IN_TRANSIT
    assert update.reason is Reason.CUSTOMS
    assert update.estimated_delivery == date(2024, 3, 14)
    assert [(e.occurred_at, e.status, e.carrier_code, e.informational) for e in update.events] == [
        (datetime(2024, 3, 9, 14, 0, tzinfo=oslo), Status.INFO_RECEIVED, "PRE_NOTIFIED", False),
        (datetime(2024, 3, 11, 22, 40, tzinfo=oslo), Status.IN_TRANSIT, "INTERNATIONAL", False),
        (datetime(2024, 3, 12, 8, 10, 11, tzinfo=oslo), Status.IN_TRANSIT, "CUSTOMS", False),
        (datetime(2024, 3, 12, 9, 5, tzinfo=oslo), Status.IN_TRANSIT, "NOTIFICATION_SENT", True),
    ]


def test_unknown_code_is_logged_on_the_carrier_logger(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="carriers.bring"):
        PARSERS["bring"]((FIXTURES / "bring" / "unknown_code.json").read_bytes())
    assert [(r.name, r.getMessage()) for r in caplog.records] == [
        ("carriers.bring", "unknown bring event code 'TELEPORTED' (tracking number CE000000102NO)")
    ]


def test_event_with_bad_timestamp_is_skipped_with_a_warning() -> None:
    body = json.dumps(
        {
            "parcels": [
                {
                    "requested": "1",
                    "unitno": "1",
                    "status": "INTRANSIT",
                    "events": [
                        {
                            "code": "INTIAL.NORMAL",
                            "country": "DE",
                            "description": "x",
                            "eventDateTime": "yesterday",
                        }
                    ],
                }
            ]
        }
    )
    (update,) = PARSERS["gls"](body)
    assert (update.status, update.events, update.warnings) == (
        Status.IN_TRANSIT,
        (),
        ("event skipped: unparseable timestamp 'yesterday'",),
    )


@pytest.mark.parametrize("carrier", sorted(PARSERS))
@pytest.mark.parametrize("body", [b"", b"\xff\xfe\x00junk", b"[]", b"null", b'{"a": 1}', b"<html>502</html>"])
def test_junk_is_malformed(carrier: str, body: bytes) -> None:
    with pytest.raises(MalformedPayload):
        PARSERS[carrier](body)


def _raw(minute: int, code: str, meaning: Code | None, description: str = "") -> RawEvent:
    when = datetime(2024, 1, 1, 12, minute, tzinfo=UTC)
    return RawEvent(occurred_at=when, code=code, meaning=meaning, description=description)


def test_finish_sorts_by_time_dedupes_and_keeps_status_through_unknown_and_info() -> None:
    events = [
        _raw(5, "ODD", None),
        _raw(4, "NOTE", INFORMATIONAL),
        _raw(3, "OUT", Code(Status.OUT_FOR_DELIVERY)),
        _raw(1, "IN", Code(Status.IN_TRANSIT), "a"),
        _raw(1, "IN", Code(Status.IN_TRANSIT), "b"),
        _raw(1, "IN", Code(Status.IN_TRANSIT), "a"),
    ]
    update = finish_update("x", "N1", events, newest_first=True)
    assert [
        (e.occurred_at.minute, e.carrier_code, e.description, e.status, e.informational)
        for e in update.events
    ] == [
        (1, "IN", "a", Status.IN_TRANSIT, False),
        (1, "IN", "b", Status.IN_TRANSIT, False),
        (3, "OUT", "", Status.OUT_FOR_DELIVERY, False),
        (4, "NOTE", "", Status.OUT_FOR_DELIVERY, True),
        (5, "ODD", "", Status.UNKNOWN, False),
    ]
    assert update.status is Status.OUT_FOR_DELIVERY
    assert update.warnings == ("unknown x event code 'ODD'",)


def test_summary_wins_over_events_but_unknown_summary_does_not() -> None:
    events = [_raw(1, "IN", Code(Status.IN_TRANSIT))]
    assert finish_update(
        "x", "N", events, newest_first=False, summary=("D", Code(Status.DELIVERED))
    ).status is (Status.DELIVERED)
    assert (
        finish_update("x", "N", events, newest_first=False, summary=("?", None)).status is Status.IN_TRANSIT
    )
    assert finish_update("x", "N", [], newest_first=False).status is Status.PENDING


def test_time_formats() -> None:
    oslo = ZoneInfo("Europe/Oslo")
    assert parse_iso("2024-10-07T10:46:14+0200", oslo) == (
        datetime(2024, 10, 7, 10, 46, 14, tzinfo=timezone(timedelta(hours=2))),
        False,
    )
    assert parse_iso("2024-10-07T10:46:14-7:00", oslo)[0].utcoffset() == timedelta(hours=-7)
    assert parse_iso("2024-10-07T10:46:14.000Z", oslo)[0] == datetime(2024, 10, 7, 10, 46, 14, tzinfo=UTC)
    assert parse_iso("2024-07-31T11:24:00", oslo) == (datetime(2024, 7, 31, 11, 24, tzinfo=oslo), True)
    assert parse_slashed("19/07/2562 18:12:26+07:00", oslo)[0] == datetime(
        2019, 7, 19, 18, 12, 26, tzinfo=timezone(timedelta(hours=7))
    )
    assert parse_slashed("26/10/2019 09:00:00+07:00", oslo)[0].year == 2019
    assert parse_compact("20210210", "071356", oslo) == datetime(2021, 2, 10, 7, 13, 56, tzinfo=oslo)
    assert parse_date("20.04.2021") == date(2021, 4, 20)
    assert parse_date("2018-08-03T00:00:00Z") == date(2018, 8, 3)
    assert parse_date("string") is None
    with pytest.raises(MalformedPayload):
        parse_iso("31/12/2024", oslo)
