from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from carriers.model import Reason, Status
from planning.prediction.data import HistoryRecord, Place, ScanEvent, ShipmentInfo
from planning.prediction.io import read_events_csv, read_history_csv

HISTORY = """promised_date,shipment_id,extra,carrier,service,origin_country,origin_postcode,\
origin_lat,origin_lon,\
destination_country,destination_postcode,destination_lat,destination_lon,ordered_at,shipped_at,delivered_at
2024-05-21,A1,x,bring,servicepakke,no,0150,59.91,10.75,NO,5003,,,2024-05-16T08:00:00,2024-05-16T14:30:00,2024-05-21T13:05:00+02:00
2024-05-22,A2,,postnord,,SE,111 20,,,DK,1050,,,2024-05-16 09:00,2024-05-17T10:00:00Z,
not-a-date,B1,,bring,servicepakke,NO,0150,,,NO,5003,,,2024-05-16T08:00:00,2024-05-16T14:30:00,
2024-05-22,B2,,bring,servicepakke,NO,0150,,,NO,5003,,,2024-05-16T08:00:00,,
2024-05-22,B3,,bring,servicepakke,NO,0150,95,10,NO,5003,,,2024-05-16T08:00:00,2024-05-16T14:30:00,
2024-05-22,B4,,bring,servicepakke,NO,0150,,,NO,5003,,,2024-05-16T08:00:00,2024-05-16T14:30:00,2024-05-15T10:00:00
2024-05-22,A1,,bring,servicepakke,NO,0150,,,NO,5003,,,2024-05-16T08:00:00,2024-05-16T14:30:00,
"""


def test_history_csv_parses_good_rows_and_reports_bad_ones(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text(HISTORY)
    records, report = read_history_csv(path)
    assert records == [
        HistoryRecord(
            ShipmentInfo(
                shipment_id="A1",
                carrier="bring",
                service="servicepakke",
                origin=Place("NO", "0150", 59.91, 10.75),
                destination=Place("NO", "5003", None, None),
                ordered_at=datetime(2024, 5, 16, 8, tzinfo=UTC),
                shipped_at=datetime(2024, 5, 16, 14, 30, tzinfo=UTC),
                promised_date=date(2024, 5, 21),
            ),
            datetime(2024, 5, 21, 11, 5, tzinfo=UTC),
        ),
        HistoryRecord(
            ShipmentInfo(
                shipment_id="A2",
                carrier="postnord",
                service="default",
                origin=Place("SE", "111 20", None, None),
                destination=Place("DK", "1050", None, None),
                ordered_at=datetime(2024, 5, 16, 9, tzinfo=UTC),
                shipped_at=datetime(2024, 5, 17, 10, tzinfo=UTC),
                promised_date=date(2024, 5, 22),
            ),
            None,
        ),
    ]
    assert report.rows_read == 7
    assert report.rows_skipped == 5
    assert report.examples == [
        "line 4: promised_date is not an ISO 8601 date: 'not-a-date'",
        "line 5: shipped_at is empty",
        "line 6: origin_lat out of range: '95'",
        "line 7: delivered_at is before shipped_at",
        "line 8: duplicate shipment_id 'A1'",
    ]


def test_history_csv_without_a_required_column_is_refused(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("shipment_id,carrier\nA,bring\n")
    with pytest.raises(ValueError, match="missing columns"):
        read_history_csv(path)


def test_events_csv_with_reason_column_and_bad_rows(tmp_path):
    path = tmp_path / "e.csv"
    path.write_text(
        "status,shipment_id,occurred_at,reason\n"
        "in_transit,A1,2024-05-16T15:00:00,\n"
        "exception,A1,2024-05-17T08:00:00+02:00,customs\n"
        "teleported,A1,2024-05-17T09:00:00,\n"
        "delivered,A1,yesterday,\n"
    )
    events, report = read_events_csv(path)
    assert events == [
        ScanEvent("A1", datetime(2024, 5, 16, 15, tzinfo=UTC), Status.IN_TRANSIT, None),
        ScanEvent("A1", datetime(2024, 5, 17, 6, tzinfo=UTC), Status.EXCEPTION, Reason.CUSTOMS),
    ]
    assert (report.rows_read, report.rows_skipped) == (4, 2)
    assert report.examples == [
        "line 4: unknown status or reason: 'teleported' / ''",
        "line 5: occurred_at is not an ISO 8601 timestamp: 'yesterday'",
    ]


MESSY = (
    "\ufeffShipment_ID ; carrier;service;origin_postcode;origin_country;origin_lat;origin_lon;"
    "destination_postcode;destination_country;destination_lat;destination_lon;ordered_at;shipped_at;"
    "promised_date;delivered_at\n"
    "\n"
    'M1;;;1310;BR;NaN;;"20040";BR;-22.9;-43.2;2018-01-01 10:00;2018-01-02T10:00:00.123;'
    "2018-01-20 00:00:00-03:00;2018-01-10 12:00:00.5+00:00\n"
    ";;;;;;;;;;;;;;\n"
    "M2;x;;01310;BR;;;20040;BR;;;2018-01-01T10:00:00Z;20180102T100000;2018-01-20;null\n"
    "M1;x;;01310;BR;;;20040;BR;;;2018-01-01;2018-01-02;2018-01-20;\n"
    "M3;x;;01310;BR;;;20040;BR;;;2018-01-01;2018-01-05;2018-01-20;2018-01-04 23:59\n"
)


def test_messy_export_semicolons_bom_blank_lines_and_lost_leading_zeros(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text(MESSY, encoding="utf-8")
    records, report = read_history_csv(path)
    assert records == [
        HistoryRecord(
            ShipmentInfo(
                shipment_id="M1",
                carrier="unknown",
                service="default",
                origin=Place("BR", "01310", None, None),
                destination=Place("BR", "20040", -22.9, -43.2),
                ordered_at=datetime(2018, 1, 1, 10, tzinfo=UTC),
                shipped_at=datetime(2018, 1, 2, 10, 0, 0, 123000, tzinfo=UTC),
                promised_date=date(2018, 1, 20),
            ),
            datetime(2018, 1, 10, 12, 0, 0, 500000, tzinfo=UTC),
        ),
        HistoryRecord(
            ShipmentInfo(
                shipment_id="M2",
                carrier="x",
                service="default",
                origin=Place("BR", "01310", None, None),
                destination=Place("BR", "20040", None, None),
                ordered_at=datetime(2018, 1, 1, 10, tzinfo=UTC),
                shipped_at=datetime(2018, 1, 2, 10, tzinfo=UTC),
                promised_date=date(2018, 1, 20),
            ),
            None,
        ),
    ]
    # The line of separators only is a blank spreadsheet row: ignored like the empty line.
    assert (report.rows_read, report.rows_skipped) == (4, 2)
    assert report.examples == [
        "line 6: duplicate shipment_id 'M1'",
        "line 7: delivered_at is before shipped_at",
    ]
