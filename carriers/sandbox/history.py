"""Realistic synthetic delivery history: lanes, weekdays, holidays, carrier delays, losses and drift."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

import numpy as np

from carriers.model import Reason, Status
from planning.calendar import add_business_days, business_calendar
from planning.prediction.data import HistoryRecord, Place, ScanEvent, ShipmentInfo
from planning.prediction.features import haversine_km


class HistoryMode(StrEnum):
    """What kind of history to generate."""

    PARCEL = "parcel"  # a shop shipping with several Nordic / German / Thai carriers, with scans
    MARKETPLACE = "marketplace"  # a Brazilian-style marketplace: many sellers, one carrier, no scans


@dataclass(frozen=True)
class Region:
    """A postcode area with a representative point."""

    country: str
    postcode: str
    lat: float
    lon: float


REGIONS = (
    Region("NO", "0150", 59.91, 10.75),
    Region("NO", "5003", 60.39, 5.32),
    Region("NO", "7010", 63.43, 10.39),
    Region("NO", "9008", 69.65, 18.96),
    Region("NO", "4006", 58.97, 5.73),
    Region("DK", "1050", 55.68, 12.57),
    Region("DK", "8000", 56.16, 10.20),
    Region("DK", "5000", 55.40, 10.39),
    Region("SE", "11120", 59.33, 18.06),
    Region("SE", "41103", 57.71, 11.97),
    Region("SE", "21119", 55.60, 13.00),
    Region("TH", "10200", 13.75, 100.50),
    Region("TH", "50000", 18.79, 98.98),
    Region("TH", "83000", 7.88, 98.39),
    Region("DE", "10115", 52.53, 13.38),
    Region("DE", "80331", 48.14, 11.58),
)


@dataclass(frozen=True)
class CarrierProfile:
    """How a carrier behaves: services with base business days, delay and loss rates, drift."""

    code: str
    countries: frozenset[str]
    services: tuple[tuple[str, int], ...]
    delay_rate: float  # daily chance that a three-day disruption starts in a destination country
    loss_rate: float
    drift_per_year: float  # yearly change in the chance of a one-day slip
    km_per_day: float  # distance travelled per business day before extra days accrue
    delivery_hour_utc: float


CARRIERS = (
    CarrierProfile(
        "bring",
        frozenset({"NO", "SE", "DK"}),
        (("servicepakke", 1), ("pakke_i_postkassen", 2)),
        0.010,
        0.004,
        0.04,
        450,
        10.0,
    ),
    CarrierProfile(
        "postnord",
        frozenset({"SE", "DK", "NO"}),
        (("mypack", 1), ("varubrev", 2)),
        0.015,
        0.008,
        0.08,
        400,
        11.0,
    ),
    CarrierProfile("gls", frozenset({"DK", "DE", "SE"}), (("business", 1),), 0.010, 0.005, 0.0, 600, 9.0),
    CarrierProfile(
        "dhl",
        frozenset({"DE", "DK", "SE", "NO", "TH"}),
        (("express", 1), ("parcel", 2)),
        0.006,
        0.003,
        -0.02,
        900,
        8.0,
    ),
    CarrierProfile(
        "thailandpost", frozenset({"TH"}), (("ems", 1), ("registered", 3)), 0.020, 0.012, 0.05, 350, 4.0
    ),
)


@dataclass(frozen=True)
class GeneratedShipment:
    """One history record and its scan events."""

    record: HistoryRecord
    events: tuple[ScanEvent, ...]


def _km(a: Region, b: Region) -> float:
    return float(haversine_km(np.array(a.lat), np.array(a.lon), np.array(b.lat), np.array(b.lon)))


def _at(day: date, hour: float) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(hours=hour)


def generate_history(
    n: int,
    *,
    seed: int = 0,
    start: date = date(2023, 1, 2),
    days: int = 540,
    mode: HistoryMode | str = HistoryMode.PARCEL,
) -> list[GeneratedShipment]:
    """`n` shipments ordered between `start` and `start + days`, in order of time, in the given mode."""
    if HistoryMode(mode) is HistoryMode.MARKETPLACE:
        return generate_marketplace(n, seed=seed, start=start, days=days)
    return _parcel_history(n, seed=seed, start=start, days=days)


def _parcel_history(n: int, *, seed: int, start: date, days: int) -> list[GeneratedShipment]:
    rng = np.random.default_rng(seed)
    # Lane quirks: some lanes are reliably a day slower than the carrier's published standard.
    lane_extra: dict[tuple[str, str, str], int] = {}
    # Disruptions: (carrier, destination country) → set of day indexes with a delay event.
    disruptions = {
        (c.code, country): {
            int(d) + k for d in np.flatnonzero(rng.random(days + 60) < c.delay_rate) for k in range(3)
        }
        for c in CARRIERS
        for country in sorted(c.countries)
    }
    out: list[GeneratedShipment] = []
    handoff_days = np.sort(rng.integers(0, days, size=n))
    for i, day_index in enumerate(handoff_days):
        carrier = CARRIERS[rng.choice(len(CARRIERS), p=[0.3, 0.25, 0.15, 0.2, 0.1])]
        regions = [r for r in REGIONS if r.country in carrier.countries]
        origin = regions[rng.integers(len(regions))]
        domestic = [r for r in regions if r.country == origin.country]
        pool = domestic if rng.random() < 0.8 else regions
        dest = pool[rng.integers(len(pool))]
        service, base = carrier.services[rng.integers(len(carrier.services))]
        km = _km(origin, dest)
        countries = (origin.country, dest.country)
        international = origin.country != dest.country
        ordered_day = start + timedelta(days=int(day_index))
        ordered_at = _at(ordered_day, float(rng.uniform(6, 22)))
        shipped_at = ordered_at + timedelta(hours=float(rng.gamma(2.0, 10.0)))
        late_handoff = shipped_at.hour >= 15
        leave = add_business_days(shipped_at.date() + timedelta(days=int(late_handoff)), 0, countries)
        standard = base + int(km // carrier.km_per_day) + (2 if international else 0)
        # Most shops promise a day more than the carrier's standard.
        promised = add_business_days(leave, standard + int(rng.random() < 0.7), countries)
        key = (carrier.code, origin.postcode[:2], dest.postcode[:2])
        extra = lane_extra.setdefault(key, int(rng.random() < 0.08))
        slow = 0.01 + carrier.drift_per_year * day_index / 365.0 + (0.5 if extra else 0.0)
        delay = int(rng.random() < slow)
        if leave.weekday() == 0:
            delay += int(rng.random() < 0.05)  # Monday backlog
        if (11, 24) <= (ordered_day.month, ordered_day.day) <= (12, 22):
            delay += rng.poisson(0.4)  # peak season
        disrupted = any(
            (int(day_index) + k) in disruptions[(carrier.code, dest.country)] for k in range(standard)
        )
        if disrupted:
            delay += 1 + rng.poisson(1.0)
        customs = international and bool({origin.country, dest.country} & {"TH", "NO"}) and rng.random() < 0.3
        if customs:
            delay += 1 + rng.poisson(0.7)
        early = int(rng.random() < 0.3 and standard > 1)
        transit = max(standard + int(delay) - early, 0)
        lost = rng.random() < carrier.loss_rate * (3 if international else 1)
        failed = rng.random() < 0.02
        delivered_day = add_business_days(leave, transit + int(failed), countries)
        delivered_at = _at(
            delivered_day, float(np.clip(rng.normal(carrier.delivery_hour_utc + 3, 2.0), 5, 20))
        )
        sid = f"S{seed}-{i:06d}"
        events = [ScanEvent(sid, ordered_at + timedelta(minutes=30), Status.INFO_RECEIVED)]
        events.append(ScanEvent(sid, shipped_at, Status.IN_TRANSIT))
        last_hub = min(transit, 1 + transit // 2) if lost else transit
        for k in range(1, last_hub):
            hub_day = add_business_days(leave, k, countries)
            reason = None
            if customs and k == 1:
                reason = Reason.CUSTOMS
            elif disrupted and k == 1:
                reason = Reason.CARRIER_DELAY
            status = Status.EXCEPTION if reason is not None else Status.IN_TRANSIT
            events.append(ScanEvent(sid, _at(hub_day, float(rng.uniform(0, 6))), status, reason))
        if not lost:
            if failed:
                first = add_business_days(leave, transit, countries)
                events.append(ScanEvent(sid, _at(first, 6.0), Status.OUT_FOR_DELIVERY))
                events.append(
                    ScanEvent(sid, _at(first, carrier.delivery_hour_utc + 4), Status.FAILED_ATTEMPT)
                )
            events.append(
                ScanEvent(sid, _at(delivered_day, min(delivered_at.hour, 6.0)), Status.OUT_FOR_DELIVERY)
            )
            events.append(ScanEvent(sid, delivered_at, Status.DELIVERED))
        info = ShipmentInfo(
            shipment_id=sid,
            carrier=carrier.code,
            service=service,
            origin=Place(origin.country, origin.postcode, origin.lat, origin.lon),
            destination=Place(dest.country, dest.postcode, dest.lat, dest.lon),
            ordered_at=ordered_at,
            shipped_at=shipped_at,
            promised_date=promised,
        )
        record = HistoryRecord(info, None if lost else delivered_at)
        out.append(GeneratedShipment(record, tuple(sorted(events, key=lambda e: e.occurred_at))))
    return out


# -- marketplace mode ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class State:
    """A Brazilian state: its range of 5-digit postcode prefixes, capital, share of buyers and sellers."""

    code: str
    zip_low: int
    zip_high: int
    lat: float
    lon: float
    buyers: float
    sellers: float
    remote_days: float  # extra business days of the last mile beyond what distance explains


STATES = (
    State("SP", 1000, 19999, -23.55, -46.63, 41.9, 60.0, 0.0),
    State("RJ", 20000, 28999, -22.91, -43.17, 12.9, 5.0, 1.5),
    State("ES", 29000, 29999, -20.32, -40.34, 2.0, 0.8, 1.0),
    State("MG", 30000, 39999, -19.92, -43.94, 11.7, 8.0, 0.5),
    State("BA", 40000, 48999, -12.97, -38.50, 3.4, 0.6, 2.0),
    State("SE", 49000, 49999, -10.91, -37.07, 0.35, 0.1, 2.5),
    State("PE", 50000, 56999, -8.05, -34.88, 1.7, 0.4, 2.0),
    State("AL", 57000, 57999, -9.67, -35.74, 0.4, 0.1, 3.0),
    State("PB", 58000, 58999, -7.12, -34.86, 0.55, 0.2, 2.5),
    State("RN", 59000, 59999, -5.79, -35.21, 0.5, 0.2, 2.5),
    State("CE", 60000, 63999, -3.73, -38.52, 1.35, 0.3, 3.0),
    State("PI", 64000, 64999, -5.09, -42.80, 0.5, 0.1, 3.0),
    State("MA", 65000, 65999, -2.53, -44.30, 0.75, 0.1, 4.0),
    State("PA", 66000, 68899, -1.46, -48.50, 1.0, 0.1, 4.0),
    State("AP", 68900, 68999, 0.03, -51.07, 0.07, 0.0, 6.0),
    State("AM", 69000, 69299, -3.12, -60.02, 0.15, 0.05, 6.0),
    State("RR", 69300, 69399, 2.82, -60.67, 0.05, 0.0, 7.0),
    State("AC", 69900, 69999, -9.97, -67.81, 0.08, 0.0, 6.0),
    State("DF", 70000, 73699, -15.79, -47.88, 2.15, 1.0, 0.5),
    State("GO", 74000, 76799, -16.68, -49.25, 2.0, 1.2, 1.0),
    State("RO", 76800, 76999, -8.76, -63.90, 0.25, 0.05, 5.0),
    State("TO", 77000, 77999, -10.18, -48.33, 0.3, 0.05, 3.5),
    State("MT", 78000, 78899, -15.60, -56.10, 0.9, 0.3, 2.5),
    State("MS", 79000, 79999, -20.45, -54.62, 0.7, 0.3, 1.5),
    State("PR", 80000, 87999, -25.43, -49.27, 5.0, 8.0, 0.5),
    State("SC", 88000, 89999, -27.60, -48.55, 3.7, 4.5, 0.5),
    State("RS", 90000, 99999, -30.03, -51.23, 5.5, 3.5, 1.0),
)
MARKET_CARRIER = "correios"
KM_PER_BUSINESS_DAY = 550.0
PROMISE_HANDLING_DAYS = 3  # the shop allows this many calendar days between order and handoff
PROMISE_FACTOR = 2.0  # promised transit: the published lane standard times this, plus the margin below
PROMISE_MARGIN_DAYS = 4


@dataclass(frozen=True)
class _People:
    """Column arrays for one side of the orders (sellers or buyers)."""

    state: np.ndarray  # index into STATES
    zip_code: np.ndarray  # 5-digit prefix as int
    lat: np.ndarray
    lon: np.ndarray
    interior_km: np.ndarray  # distance from the state's capital


def _people(rng: np.random.Generator, n: int, weights: np.ndarray) -> _People:
    state = rng.choice(len(STATES), size=n, p=weights / weights.sum())
    low = np.array([s.zip_low for s in STATES])[state]
    high = np.array([s.zip_high for s in STATES])[state]
    capital = rng.random(n) < 0.45  # the capital's area holds the lowest postcodes of the state
    share = np.where(capital, rng.random(n) * 0.08, 0.08 + rng.random(n) * 0.92)
    zip_code = (low + share * (high - low)).astype(int)
    interior_km = np.where(capital, rng.gamma(2.0, 8.0, n), rng.gamma(2.0, 110.0, n))
    bearing = rng.uniform(0, 2 * np.pi, n)
    lat0, lon0 = np.array([s.lat for s in STATES])[state], np.array([s.lon for s in STATES])[state]
    lat = lat0 + interior_km / 111.0 * np.sin(bearing)
    lon = lon0 + interior_km / (111.0 * np.cos(np.radians(lat0))) * np.cos(bearing)
    return _People(state, zip_code, lat, lon, interior_km)


def _order_days(rng: np.random.Generator, n: int, start: date, days: int) -> np.ndarray:
    """Order day indexes: growing volume, a weekly rhythm, Black Friday and the Christmas rush."""
    day = np.arange(days)
    when = np.datetime64(start, "D") + day
    weekday = (when.astype(np.int64) + 3) % 7
    weight = (1 + 3 * day / days) * np.array([1.15, 1.15, 1.05, 1.0, 0.95, 0.8, 0.85])[weekday]
    for bf in _black_fridays(start, days):
        offset = (bf - when).astype(np.int64)
        weight *= np.where(offset == 0, 5.0, np.where((offset >= -3) & (offset < 7), 1.8, 1.0))
    month_day = when.astype("datetime64[M]")
    in_december = month_day.astype(int) % 12 == 11
    weight *= np.where(in_december & ((when - month_day).astype(int) < 20), 1.3, 1.0)
    return np.sort(rng.choice(days, size=n, p=weight / weight.sum()))


def _black_fridays(start: date, days: int) -> list[np.datetime64]:
    """The fourth Friday of each November in the period."""
    out = []
    for year in range(start.year, (start + timedelta(days=days)).year + 1):
        first = date(year, 11, 1)
        out.append(np.datetime64(first + timedelta(days=(4 - first.weekday()) % 7 + 21), "D"))
    return out


def _backlog(start: date, days: int) -> np.ndarray:
    """Extra business days of transit for parcels handed over on each day: Black Friday and a strike."""
    when = np.datetime64(start, "D") + np.arange(days + 60)
    extra = np.zeros(len(when))
    for bf in _black_fridays(start, days + 60):
        since = (when - bf).astype(np.int64).astype(float)
        extra += np.where(since >= 0, 2.5 * np.exp(-since / 9.0), 0.0)
    # A carrier strike three quarters into the period: the backlog builds for 16 days, then clears slowly.
    strike = int(days * 0.78)
    since = np.arange(len(when)) - strike
    build = np.clip(since / 16.0, 0, 1) * 6.0
    extra += np.where(since < 0, 0.0, np.where(since < 16, build, 6.0 * np.exp(-(since - 16) / 12.0)))
    return extra


def generate_marketplace(
    n: int, *, seed: int = 0, start: date = date(2017, 1, 2), days: int = 600
) -> list[GeneratedShipment]:
    """Orders of a marketplace: many sellers with their own handling times, generous rule-made promises."""
    rng = np.random.default_rng(seed)
    cal = business_calendar(["BR"])
    n_sellers = max(30, n // 30)
    sellers = _people(rng, n_sellers, np.array([s.sellers for s in STATES]))
    seller_handling = np.clip(rng.lognormal(np.log(1.0), 0.6, n_sellers), 0.2, 10.0)
    popularity = 1.0 / np.arange(1, n_sellers + 1) ** 0.9
    seller = rng.choice(n_sellers, size=n, p=popularity / popularity.sum())
    buyers = _people(rng, n, np.array([s.buyers for s in STATES]))
    o_state, d_state = sellers.state[seller], buyers.state
    lat = np.array([s.lat for s in STATES])
    lon = np.array([s.lon for s in STATES])
    hub_km = haversine_km(lat[o_state], lon[o_state], lat[d_state], lon[d_state])
    remote = np.array([s.remote_days for s in STATES])[d_state]
    # The published lane standard (business days) the promise is made from: capitals only.
    standard = np.ceil(1 + hub_km / KM_PER_BUSINESS_DAY + remote)

    day_index = _order_days(rng, n, start, days)
    order_day = np.datetime64(start, "D") + day_index
    ordered_h = np.clip(rng.normal(15.0, 5.0, n), 0.0, 23.99)
    busy = (_backlog(start, days)[day_index] > 1.0).astype(float)
    handling = seller_handling[seller] * rng.lognormal(0.0, 0.5, n) * (1 + 0.5 * busy)
    handling += np.where(rng.random(n) < 0.03, rng.gamma(2.0, 2.5, n), 0.0)  # stock-outs
    same_day = (handling < 0.5) & (ordered_h < 11)
    ship_day = np.busday_offset(
        order_day,
        np.where(same_day, 0, np.maximum(np.round(handling), 1)).astype(int),
        "forward",
        busdaycal=cal,
    )
    shipped_h = np.where(
        same_day, np.minimum(ordered_h + 2 + 4 * rng.random(n), 23.5), rng.uniform(11, 22, n)
    )
    drift = 1 + 0.1 * day_index / days  # the carrier slowly gets slower
    last_mile = (sellers.interior_km[seller] + buyers.interior_km) / 250.0
    ship_index = (ship_day - np.datetime64(start, "D")).astype(int)
    transit = (1 + hub_km / KM_PER_BUSINESS_DAY + remote + last_mile) * drift * rng.lognormal(0, 0.3, n)
    transit += _backlog(start, days)[np.minimum(ship_index, days + 59)] * (0.5 + hub_km / 2000.0)
    transit += np.where(rng.random(n) < 0.04, rng.gamma(2.0, 3.0, n), 0.0)  # misrouted parcels
    leave = np.busday_offset(ship_day + (shipped_h >= 17).astype(int), 0, "forward", busdaycal=cal)
    delivered_day = np.busday_offset(leave, np.maximum(np.round(transit), 1).astype(int), busdaycal=cal)
    delivered_h = np.clip(rng.normal(17.0, 2.5, n), 11.0, 23.5)
    promised = order_day + (
        PROMISE_HANDLING_DAYS + np.ceil(PROMISE_FACTOR * standard * 7 / 5) + PROMISE_MARGIN_DAYS
    ).astype(int)
    lost = rng.random(n) < 0.004
    has_coords = rng.random(n) < 0.9
    out = []
    for i in np.argsort(day_index + ordered_h / 24, kind="stable"):
        sid = f"M{seed}-{i:06d}"
        ordered_at = _at(order_day[i].astype(date), float(ordered_h[i]))
        shipped_at = max(_at(ship_day[i].astype(date), float(shipped_h[i])), ordered_at + timedelta(hours=1))
        delivered_at = None if lost[i] else _at(delivered_day[i].astype(date), float(delivered_h[i]))
        s, b = seller[i], i
        coords = bool(has_coords[i])
        info = ShipmentInfo(
            shipment_id=sid,
            carrier=MARKET_CARRIER,
            service="standard",
            origin=Place(
                "BR",
                f"{sellers.zip_code[s]:05d}",
                round(float(sellers.lat[s]), 4) if coords else None,
                round(float(sellers.lon[s]), 4) if coords else None,
            ),
            destination=Place(
                "BR",
                f"{buyers.zip_code[b]:05d}",
                round(float(buyers.lat[b]), 4) if coords else None,
                round(float(buyers.lon[b]), 4) if coords else None,
            ),
            ordered_at=ordered_at,
            shipped_at=shipped_at,
            promised_date=promised[i].astype(date),
        )
        events = [
            ScanEvent(sid, ordered_at, Status.INFO_RECEIVED),
            ScanEvent(sid, shipped_at, Status.IN_TRANSIT),
        ]
        if delivered_at is not None:
            events.append(ScanEvent(sid, delivered_at, Status.DELIVERED))
        out.append(GeneratedShipment(HistoryRecord(info, delivered_at), tuple(events)))
    return out
