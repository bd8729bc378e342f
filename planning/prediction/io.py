"""HISTORY.csv and EVENTS.csv: read (bad rows counted, shown and skipped) and write."""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from carriers.model import Reason, Status
from planning.prediction.data import HistoryRecord, Place, ScanEvent, ShipmentInfo

HISTORY_COLUMNS = (
    "shipment_id",
    "carrier",
    "service",
    "origin_postcode",
    "origin_country",
    "origin_lat",
    "origin_lon",
    "destination_postcode",
    "destination_country",
    "destination_lat",
    "destination_lon",
    "ordered_at",
    "shipped_at",
    "promised_date",
    "delivered_at",
)
EVENT_COLUMNS = ("shipment_id", "occurred_at", "status", "reason")
OPTIONAL_HISTORY = {
    "origin_lat",
    "origin_lon",
    "destination_lat",
    "destination_lon",
    "ordered_at",
    "carrier",
    "service",
}
OPTIONAL_EVENTS = {"reason"}
MAX_EXAMPLES = 5
T = TypeVar("T")
MISSING = {
    "",
    "nan",
    "null",
    "none",
    "na",
    "n/a",
    "-",
}  # cell values spreadsheets and exports use for "empty"
DELIMITERS = ",;\t|"
# Beyond these a row is a typo or a placeholder (0001-01-01, 9999-12-31), not a parcel.
YEARS = (1970, 2100)
MAX_DAYS = 365  # longest credible promise (from the order) and transit (from handoff)
ORDER_SLACK = timedelta(days=1)  # an order stamped a little after handoff: zones mixed up in the export


class BadRow(ValueError):
    """A row that cannot be used; the message says which field and why."""


@dataclass
class ParseReport:
    """How many rows were read and skipped, with the first few reasons."""

    rows_read: int = 0
    rows_skipped: int = 0
    duplicates: int = 0  # exact repeats of an earlier row, dropped (not counted as skipped)
    examples: list[str] = field(default_factory=list)

    def skip(self, line: int, why: str) -> None:
        """Count a skipped row and keep its reason if among the first few."""
        self.rows_skipped += 1
        if len(self.examples) < MAX_EXAMPLES:
            self.examples.append(f"line {line}: {why}")


def parse_instant(text: str, name: str) -> datetime:
    """ISO 8601 timestamp as aware UTC; naive means UTC."""
    try:
        value = datetime.fromisoformat(text.strip())
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except (ValueError, OverflowError):
        raise BadRow(f"{name} is not an ISO 8601 timestamp: {text!r}") from None
    _check_year(value, name, text)
    return value


def _check_year(value: date, name: str, text: str) -> None:
    if not YEARS[0] <= value.year <= YEARS[1]:
        raise BadRow(f"{name} out of range: {text!r}")


def _date(text: str, name: str) -> date:
    """A date, or the date part (as written, not converted to UTC) of a timestamp."""
    try:
        value = datetime.fromisoformat(text.strip()).date()
    except ValueError:
        raise BadRow(f"{name} is not an ISO 8601 date: {text!r}") from None
    _check_year(value, name, text)
    return value


def _cell(row: dict[str, str], name: str) -> str:
    value = (row.get(name) or "").strip()
    return "" if value.lower() in MISSING else value


def _coord(text: str, name: str, limit: float) -> float | None:
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise BadRow(f"{name} is not a number: {text!r}") from None
    if not -limit <= value <= limit:
        raise BadRow(f"{name} out of range: {text!r}")
    return value


def _required(row: dict[str, str], name: str) -> str:
    value = _cell(row, name)
    if not value:
        raise BadRow(f"{name} is empty")
    return value


def _history_row(row: dict[str, str]) -> HistoryRecord:
    shipped = parse_instant(_required(row, "shipped_at"), "shipped_at")
    ordered_text = _cell(row, "ordered_at")
    delivered_text = _cell(row, "delivered_at")
    delivered = parse_instant(delivered_text, "delivered_at") if delivered_text else None
    if delivered is not None and delivered < shipped:
        raise BadRow("delivered_at is before shipped_at")
    if delivered is not None and delivered - shipped > timedelta(days=MAX_DAYS):
        raise BadRow(f"delivered_at is more than {MAX_DAYS} days after shipped_at")
    ordered = parse_instant(ordered_text, "ordered_at") if ordered_text else shipped
    if ordered > shipped + ORDER_SLACK:
        raise BadRow("ordered_at is after shipped_at")
    ordered = min(ordered, shipped)
    promised = _date(_required(row, "promised_date"), "promised_date")
    if not 0 <= (promised - ordered.date()).days <= MAX_DAYS:
        raise BadRow(f"promised_date is not within {MAX_DAYS} days after the order")
    info = ShipmentInfo(
        shipment_id=_required(row, "shipment_id"),
        carrier=_cell(row, "carrier") or "unknown",
        service=_cell(row, "service") or "default",
        origin=Place(
            _required(row, "origin_country").upper(),
            _cell(row, "origin_postcode"),
            _coord(_cell(row, "origin_lat"), "origin_lat", 90),
            _coord(_cell(row, "origin_lon"), "origin_lon", 180),
        ),
        destination=Place(
            _required(row, "destination_country").upper(),
            _cell(row, "destination_postcode"),
            _coord(_cell(row, "destination_lat"), "destination_lat", 90),
            _coord(_cell(row, "destination_lon"), "destination_lon", 180),
        ),
        ordered_at=ordered,
        shipped_at=shipped,
        promised_date=promised,
    )
    return HistoryRecord(info, delivered)


def _event_row(row: dict[str, str]) -> ScanEvent:
    status_text = _required(row, "status").lower()
    reason_text = _cell(row, "reason").lower()
    try:
        status = Status(status_text)
        reason = Reason(reason_text) if reason_text else None
    except ValueError:
        raise BadRow(f"unknown status or reason: {status_text!r} / {reason_text!r}") from None
    return ScanEvent(
        _required(row, "shipment_id"),
        parse_instant(_required(row, "occurred_at"), "occurred_at"),
        status,
        reason,
    )


def _read(
    path: Path | str,
    columns: tuple[str, ...],
    optional: set[str],
    parse: Callable[[dict[str, str]], T],
    unique: Callable[[T], str] | None = None,
) -> tuple[list[T], ParseReport]:
    report = ParseReport()
    out: list[T] = []
    seen: dict[str, T] = {}
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as fh:
        header = fh.readline()
        delimiter = max(DELIMITERS, key=header.count)
        fh.seek(0)
        reader = csv.reader(fh, delimiter=delimiter)
        names = [n.strip().lstrip("\ufeff").lower() for n in next(reader, [])]
        missing = [c for c in columns if c not in optional and c not in names]
        if missing:
            raise ValueError(f"{path}: missing columns {', '.join(missing)}")
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue  # blank line
            report.rows_read += 1
            try:
                item = parse(dict(zip(names, cells, strict=False)))
                key = unique(item) if unique else None
                if key is not None and key in seen:
                    if seen[key] == item:
                        report.duplicates += 1
                        continue
                    raise BadRow(f"duplicate {columns[0]} {key!r}")  # other values: the first row is kept
            except BadRow as err:
                report.skip(reader.line_num, str(err))
                continue
            if key is not None:
                seen[key] = item
            out.append(item)
    return out, report


def read_history_csv(path: Path | str) -> tuple[list[HistoryRecord], ParseReport]:
    """Parse HISTORY.csv (`,` `;` tab or `|` separated); raises ValueError only without a required column."""
    records, report = _read(
        path, HISTORY_COLUMNS, OPTIONAL_HISTORY, _history_row, lambda r: r.shipment.shipment_id
    )
    return _restore_leading_zeros(records), report


def _restore_leading_zeros(records: list[HistoryRecord]) -> list[HistoryRecord]:
    """Pad numeric postcodes that lost leading zeros (spreadsheets) to their country's usual length."""
    lengths: dict[str, Counter[int]] = defaultdict(Counter)
    for r in records:
        for place in (r.shipment.origin, r.shipment.destination):
            if place.postcode.isdigit():
                lengths[place.country][len(place.postcode)] += 1
    usual = {country: c.most_common(1)[0][0] for country, c in lengths.items()}

    def fix(place: Place) -> Place:
        width = usual.get(place.country, 0)
        if place.postcode.isdigit() and len(place.postcode) < width:
            return replace(place, postcode=place.postcode.zfill(width))
        return place

    out = []
    for r in records:
        info = r.shipment
        origin, destination = fix(info.origin), fix(info.destination)
        if origin is not info.origin or destination is not info.destination:
            r = replace(r, shipment=replace(info, origin=origin, destination=destination))
        out.append(r)
    return out


def read_events_csv(path: Path | str) -> tuple[list[ScanEvent], ParseReport]:
    """Parse EVENTS.csv (an optional `reason` column carries the normalised reason)."""
    return _read(path, EVENT_COLUMNS, OPTIONAL_EVENTS, _event_row)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return str(value)


def write_history_csv(path: Path | str, records: Iterable[HistoryRecord]) -> int:
    """Write HISTORY.csv; returns the number of rows."""
    n = 0
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(HISTORY_COLUMNS)
        for r in records:
            s, o, d = r.shipment, r.shipment.origin, r.shipment.destination
            values = (
                s.shipment_id,
                s.carrier,
                s.service,
                o.postcode,
                o.country,
                o.lat,
                o.lon,
                d.postcode,
                d.country,
            )
            tail = (d.lat, d.lon, s.ordered_at, s.shipped_at, s.promised_date.isoformat(), r.delivered_at)
            writer.writerow([_text(v) for v in values + tail])
            n += 1
    return n


def write_events_csv(path: Path | str, events: Iterable[ScanEvent]) -> int:
    """Write EVENTS.csv; returns the number of rows."""
    n = 0
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(EVENT_COLUMNS)
        for e in events:
            writer.writerow(
                [e.shipment_id, _text(e.occurred_at), e.status.value, e.reason.value if e.reason else ""]
            )
            n += 1
    return n
