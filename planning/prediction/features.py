"""Vectorised shipment features: lanes, business-day clocks, distance and as-of recent performance."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

import numpy as np

from planning.calendar import count_many, offset_many, roll_forward_many
from planning.prediction.data import UTC_ZONE, RiskSettings, ShipmentInfo, promise_end

DAY_S = 86400.0
EARTH_KM = 6371.0


@dataclass(frozen=True)
class ShipmentArrays:
    """Column arrays for a batch of shipments, in the same order."""

    carrier: np.ndarray  # str
    service: np.ndarray  # str
    origin_region: np.ndarray  # str
    dest_region: np.ndarray  # str
    international: np.ndarray  # bool
    distance_km: np.ndarray  # float, NaN when coordinates are missing
    ordered_ts: np.ndarray  # epoch seconds
    shipped_ts: np.ndarray  # epoch seconds
    start_day: np.ndarray  # datetime64[D]: first business day the parcel travels (cut-off applied)
    promised_day: np.ndarray  # datetime64[D]
    promise_end_ts: np.ndarray  # epoch seconds: the end of the promised date in the destination's zone
    deadline_y: np.ndarray  # promise_end_ts on the transit clock (business days from start_day)
    cal_keys: np.ndarray  # index into `calendars`
    calendars: list[tuple[str, ...]]

    def __len__(self) -> int:
        return len(self.carrier)

    def lane_keys(self) -> list[tuple[tuple[str, ...], ...]]:
        """Per row, the fallback chain of group keys: lane, carrier-service, carrier, global."""
        out = []
        for c, s, o, d, i in zip(
            self.carrier, self.service, self.origin_region, self.dest_region, self.international, strict=False
        ):
            scope = "intl" if i else "domestic"
            out.append(((c, s, o, d), (c, s, scope), (c, scope), (scope,)))
        return out

    @cached_property
    def groups(self) -> dict[str, np.ndarray]:
        """Per row, the keys recent performance is grouped by: carrier, carrier × destination, lane."""
        dest = [f"{c}|{d}" for c, d in zip(self.carrier, self.dest_region, strict=True)]
        lane = [
            f"{c}|{s}|{o}|{d}"
            for c, s, o, d in zip(
                self.carrier, self.service, self.origin_region, self.dest_region, strict=True
            )
        ]
        return {
            "carrier": self.carrier,
            "dest": np.array(dest, dtype=object),
            "lane": np.array(lane, dtype=object),
        }

    @cached_property
    def group_codes(self) -> GroupCodes:
        """The group keys as integer codes (computed once per batch)."""
        return GroupCodes.of(self.groups)

    @property
    def deadline_log(self) -> np.ndarray:
        """The promise on the log1p transit scale; a promise already passed at handoff is 0."""
        return np.log1p(np.maximum(self.deadline_y, 0.0))

    def select(self, rows: np.ndarray) -> ShipmentArrays:
        """A subset of rows (calendars shared)."""
        fields = {k: v[rows] for k, v in vars(self).items() if isinstance(v, np.ndarray)}
        return ShipmentArrays(calendars=self.calendars, **fields)


def epoch(values: Sequence[datetime | None]) -> np.ndarray:
    """Aware datetimes as epoch seconds (NaN for None)."""
    return np.array([np.nan if v is None else v.timestamp() for v in values], dtype=float)


def to_day(ts: np.ndarray) -> np.ndarray:
    """Epoch seconds to UTC datetime64[D] (NaN must be masked by the caller)."""
    return np.floor(np.nan_to_num(ts) / DAY_S).astype("int64").astype("datetime64[D]")


def day_fraction(ts: np.ndarray) -> np.ndarray:
    """Time of day as a fraction of the UTC day."""
    return np.mod(ts, DAY_S) / DAY_S


def haversine_km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Great-circle distance; NaN where any coordinate is missing."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2 - lon1)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def encode_shipments(infos: Sequence[ShipmentInfo], settings: RiskSettings) -> ShipmentArrays:
    """Turn shipments into column arrays with their business-day clock."""
    k = settings.postcode_prefix_len
    pairs: dict[tuple[str, ...], int] = {}
    keys = np.array(
        [
            pairs.setdefault(
                tuple(sorted({i.origin.country.upper(), i.destination.country.upper()})), len(pairs)
            )
            for i in infos
        ],
        dtype=np.int64,
    )
    calendars = list(pairs)

    def coord(values: list[float | None]) -> np.ndarray:
        return np.array([np.nan if v is None else v for v in values], dtype=float)

    shipped_ts = epoch([i.shipped_at for i in infos])
    handoff_day = to_day(shipped_ts)
    late_handoff = day_fraction(shipped_ts) * 24 >= settings.cutoff_hour_utc
    start_day = roll_forward_many(handoff_day + late_handoff.astype("timedelta64[D]"), keys, calendars)
    promised_day = np.array([i.promised_date for i in infos], dtype="datetime64[D]")
    end_ts = promise_end_ts(infos, promised_day)
    end_day = to_day(end_ts)
    deadline = count_many(start_day, end_day, keys, calendars).astype(float) + day_fraction(end_ts)
    return ShipmentArrays(
        carrier=np.array([i.carrier for i in infos], dtype=object),
        service=np.array([i.service for i in infos], dtype=object),
        origin_region=np.array([i.origin.region(k) for i in infos], dtype=object),
        dest_region=np.array([i.destination.region(k) for i in infos], dtype=object),
        international=np.array(
            [i.origin.country.upper() != i.destination.country.upper() for i in infos], dtype=bool
        ),
        distance_km=haversine_km(
            coord([i.origin.lat for i in infos]),
            coord([i.origin.lon for i in infos]),
            coord([i.destination.lat for i in infos]),
            coord([i.destination.lon for i in infos]),
        ),
        ordered_ts=epoch([i.ordered_at for i in infos]),
        shipped_ts=shipped_ts,
        start_day=start_day,
        promised_day=promised_day,
        promise_end_ts=end_ts,
        deadline_y=deadline,
        cal_keys=keys,
        calendars=calendars,
    )


def promise_end_ts(infos: Sequence[ShipmentInfo], promised_day: np.ndarray) -> np.ndarray:
    """Per row, the end of the promised date in the destination's zone (epoch seconds)."""
    out = (promised_day.astype(np.int64) + 1) * DAY_S
    zoned: dict[tuple, float] = {}
    for row, info in enumerate(infos):
        if info.zone != UTC_ZONE:
            key = (info.zone, info.promised_date)
            if key not in zoned:
                zoned[key] = promise_end(info.promised_date, info.zone).timestamp()
            out[row] = zoned[key]
    return out.astype(float)


def transit_clock(arrays: ShipmentArrays, ts: np.ndarray) -> np.ndarray:
    """Business days elapsed from each row's start to `ts` (plus the time-of-day fraction), never negative."""
    days = count_many(arrays.start_day, to_day(ts), arrays.cal_keys, arrays.calendars).astype(float)
    return np.maximum(days + day_fraction(ts), 0.0)


def clock_to_epoch(arrays: ShipmentArrays, y: np.ndarray) -> np.ndarray:
    """Transit-clock values (business days from each row's start, N×K) back to epoch seconds."""
    whole = np.floor(y).astype(np.int64)
    cols = []
    for j in range(y.shape[1]):
        day = offset_many(arrays.start_day, whole[:, j], arrays.cal_keys, arrays.calendars)
        cols.append(day.astype(np.int64) * DAY_S + (y[:, j] - whole[:, j]) * DAY_S)
    return np.column_stack(cols)


def business_gap(arrays: ShipmentArrays, from_ts: np.ndarray, to_ts: np.ndarray) -> np.ndarray:
    """Business days between two instants on each row's calendar, never negative."""
    days = count_many(to_day(from_ts), to_day(to_ts), arrays.cal_keys, arrays.calendars).astype(float)
    return np.maximum(days + day_fraction(to_ts) - day_fraction(from_ts), 0.0)


@dataclass(frozen=True)
class GroupCodes:
    """A batch's recent-performance group keys as integer codes, with the tables that made them."""

    codes: dict[str, np.ndarray]
    tables: dict[str, dict[object, int]]

    @classmethod
    def of(cls, keys: dict[str, np.ndarray]) -> GroupCodes:
        """Code every level's keys (equal keys, equal codes)."""
        codes, tables = {}, {}
        for level, values in keys.items():
            table: dict[object, int] = {}
            codes[level] = np.array([table.setdefault(v, len(table)) for v in values], dtype=np.int64)
            tables[level] = table
        return cls(codes, tables)

    def lookup(self, level: str, keys: np.ndarray) -> np.ndarray:
        """The codes of other keys in this batch's table; −1 for keys the batch does not have."""
        table = self.tables[level]
        return np.array([table.get(v, -1) for v in keys], dtype=np.int64)

    def select(self, rows: np.ndarray) -> GroupCodes:
        """A subset of rows (same tables)."""
        return GroupCodes({k: v[rows] for k, v in self.codes.items()}, self.tables)
