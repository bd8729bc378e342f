"""`leveranse carriers parse|detect` through click's runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import Flask

from app.cli.carriers import group

FIXTURES = Path(__file__).parent / "fixtures" / "carriers"


@pytest.fixture
def runner():
    app = Flask(__name__)
    app.cli.add_command(group)
    return app.test_cli_runner()


def test_parse_prints_updates(runner) -> None:
    result = runner.invoke(
        args=[
            "carriers",
            "parse",
            "thailandpost",
            str(FIXTURES / "thailandpost" / "in_transit_buddhist_era.json"),
        ]
    )
    assert result.exit_code == 0
    assert json.loads(result.stdout) == [
        {
            "carrier": "thailandpost",
            "tracking_number": "EY000000209TH",
            "status": "in_transit",
            "reason": None,
            "estimated_delivery": None,
            "delivered_at": None,
            "carrier_ref": None,
            "original_carrier": None,
            "pickup_point": None,
            "warnings": [],
            "events": [
                {
                    "occurred_at": "2024-01-04T09:00:00+07:00",
                    "status": "in_transit",
                    "reason": "picked_up",
                    "carrier_code": "103",
                    "description": "รับฝาก",
                    "location": "ปณ.หาดใหญ่, 90110",
                    "informational": False,
                    "tz_assumed": False,
                },
                {
                    "occurred_at": "2024-01-05T18:12:26+07:00",
                    "status": "in_transit",
                    "reason": None,
                    "carrier_code": "201",
                    "description": "ส่งออกจากที่ทำการ",
                    "location": "ปณ.หาดใหญ่, 90110",
                    "informational": False,
                    "tz_assumed": False,
                },
            ],
        }
    ]


@pytest.mark.parametrize(
    ("carrier", "name", "kind"),
    [
        ("bring", "bring/not_found.json", "not_found"),
        ("ups", "ups/error_auth.json", "auth"),
        ("gls", "gls/rate_limited.json", "rate_limited"),
        ("dhl", "bring/not_found.json", "malformed"),
    ],
)
def test_parse_errors_exit_3_with_json(runner, carrier: str, name: str, kind: str) -> None:
    result = runner.invoke(args=["carriers", "parse", carrier, str(FIXTURES / name)])
    assert result.exit_code == 3
    assert json.loads(result.stdout)["error"] == kind


def test_all_numbers_failed_reports_first_failure(runner, tmp_path: Path) -> None:
    body = tmp_path / "empty.json"
    body.write_text('{"response": {"items": {"EY000000005TH": []}}, "status": true}')
    result = runner.invoke(args=["carriers", "parse", "thailandpost", str(body)])
    assert (result.exit_code, json.loads(result.stdout)) == (
        3,
        {"error": "not_found", "message": "thailandpost: no events for EY000000005TH"},
    )


@pytest.mark.parametrize("content", [None, b"", b"\x00\xff\xfe binary", b"{not json"])
def test_bad_files_exit_3_without_traceback(runner, tmp_path: Path, content: bytes | None) -> None:
    path = tmp_path / "payload.json"
    if content is not None:
        path.write_bytes(content)
    result = runner.invoke(args=["carriers", "parse", "easypost", str(path)])
    assert result.exit_code == 3
    assert json.loads(result.stdout)["error"] == "malformed"
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_unknown_carrier_is_a_usage_error(runner) -> None:
    result = runner.invoke(args=["carriers", "parse", "pigeon", "x.json"])
    assert result.exit_code == 2


def test_detect(runner) -> None:
    result = runner.invoke(args=["carriers", "detect", "1Z999AA10123456784"])
    assert (result.exit_code, json.loads(result.stdout)) == (0, ["ups"])
