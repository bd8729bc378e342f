"""Plain records the prediction works on: shipments, their history outcome, scans and in-flight snapshots."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from carriers.model import TERMINAL_STATUSES, Reason, Status

# Signals a snapshot may carry besides the reasons of carriers.model: any exception scan.
EXCEPTION_SIGNAL = "exception"
UTC_ZONE = ZoneInfo("UTC")
# Damage and a refusal stay true after later scans; other reasons describe only the latest scan (a customs
# hold followed by any scan without it has cleared).
LASTING_SIGNALS = frozenset({Reason.DAMAGED.value, Reason.REFUSED.value})
# The statuses at which a parcel has arrived: at the door, or at the pickup point ready for collection.
ARRIVED = (Status.DELIVERED, Status.AVAILABLE_FOR_PICKUP)


class RiskState(StrEnum):
    """The derived risk of a shipment: the delay model's states, then those of parcels that left it."""

    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    LATE = "late"
    STUCK = "stuck"
    LOST = "lost"
    RETURNING = "returning"  # refused or undeliverable, on its way back: a return, never a delay
    CLAIM_CANDIDATE = "claim_candidate"  # returned or never collected: a refund or claim to decide on
    CANCELLED = "cancelled"


# The states staff should look at for a delay or a loss; each has at least one reason.
AT_RISK_STATES = frozenset({RiskState.AT_RISK, RiskState.LATE, RiskState.STUCK, RiskState.LOST})
# The states of parcels that left the delay model (p_late is 0: they will not be delivered at all).
LEFT_STATES = frozenset({RiskState.RETURNING, RiskState.CLAIM_CANDIDATE, RiskState.CANCELLED})


@dataclass(frozen=True)
class Place:
    """An origin or destination: ISO country, postcode, optional coordinates."""

    country: str
    postcode: str = ""
    lat: float | None = None
    lon: float | None = None

    def region(self, prefix_len: int) -> str:
        """The lane end: country plus the first `prefix_len` postcode characters."""
        code = self.postcode.replace(" ", "").upper()[:prefix_len]
        return f"{self.country.upper()}-{code or '?'}"


@dataclass(frozen=True)
class ShipmentInfo:
    """What is known about a shipment when it is handed to the carrier."""

    shipment_id: str
    carrier: str
    service: str
    origin: Place
    destination: Place
    ordered_at: datetime
    shipped_at: datetime
    promised_date: date
    zone: ZoneInfo = UTC_ZONE  # the destination's zone: the promise ends at midnight there

    @property
    def promise_end(self) -> datetime:
        """The end of the promised day in the destination's zone (the delivery deadline)."""
        return promise_end(self.promised_date, self.zone)


def promise_end(promised: date, zone: ZoneInfo) -> datetime:
    """Midnight after `promised` in `zone`, as an aware UTC datetime."""
    return datetime.combine(promised + timedelta(days=1), time(), zone).astimezone(UTC)


@dataclass(frozen=True)
class HistoryRecord:
    """A past shipment and its outcome; `delivered_at` is None for parcels never delivered."""

    shipment: ShipmentInfo
    delivered_at: datetime | None


@dataclass(frozen=True)
class ScanEvent:
    """One normalised carrier scan of a shipment."""

    shipment_id: str
    occurred_at: datetime
    status: Status
    reason: Reason | None = None


@dataclass(frozen=True)
class Snapshot:
    """An in-flight shipment as seen at `now`."""

    shipment: ShipmentInfo
    now: datetime
    status: Status = Status.INFO_RECEIVED
    last_event_at: datetime | None = None
    n_scans: int = 0
    n_hubs: int = 0
    # Current Reason values (customs, carrier_delay, lost, …; see LASTING_SIGNALS) and "exception" while the
    # parcel is at an exception.
    signals: frozenset[str] = frozenset()
    km_remaining: float | None = None  # distance still to go when the carrier's scans tell it
    arrived_at: datetime | None = None  # when it reached the door or the pickup point, if it has


def build_snapshot(shipment: ShipmentInfo, events: Iterable[ScanEvent], now: datetime) -> Snapshot:
    """The snapshot of `shipment` at `now` from its scans (those after `now` are ignored)."""
    seen = sorted((e for e in events if e.occurred_at <= now), key=lambda e: e.occurred_at)
    if not seen:
        return Snapshot(shipment=shipment, now=now)
    status, last = seen[-1].status, seen[-1].reason
    signals = {e.reason.value for e in seen if e.reason is not None} & LASTING_SIGNALS
    if last is not None:
        signals.add(last.value)
    if status is Status.EXCEPTION:
        signals.add(EXCEPTION_SIGNAL)
    hubs = sum(1 for e in seen if e.status is Status.IN_TRANSIT)
    # Arrival is the first of the trailing pickup-point / delivered scans: collection later is not delay.
    first = len(seen)
    while first > 0 and seen[first - 1].status in ARRIVED:
        first -= 1
    return Snapshot(
        shipment=shipment,
        now=now,
        status=status,
        last_event_at=seen[-1].occurred_at,
        n_scans=len(seen),
        n_hubs=hubs,
        signals=frozenset(signals),
        arrived_at=seen[first].occurred_at if first < len(seen) else None,
    )


def is_terminal(status: Status) -> bool:
    """True for statuses after which nothing more will happen to the parcel."""
    return status in TERMINAL_STATUSES


@dataclass(frozen=True)
class RiskSettings:
    """Thresholds and learning knobs for the risk model (plain values; the app fills them from config)."""

    at_risk_p_late: float = 0.4  # p_late at or above this → at_risk
    lost_p_lost: float = 0.5  # p_lost at or above this → lost
    stuck_dwell_factor: float = 3.0  # no scan for more than factor × the lane's normal gap → stuck
    stuck_min_business_days: float = 2.0  # … and at least this long
    lost_after_days: int = 30  # an undelivered history parcel older than this counts as lost
    cutoff_hour_utc: int = 15  # handed over at or after this hour → leaves the next business day
    postcode_prefix_len: int = 2  # lane ends are country + this many postcode characters
    min_group_size: int = 30  # a fallback level is "used" from this many shipments on
    shrinkage: float = 20.0  # pseudo-count pulling a thin group towards its parent level
    recent_half_life_days: float = 7.0  # recent performance (drift): weight halves every this many days
    track_drift: bool = True  # move ETAs and p_late by how far recent parcels ran behind their ETAs
    drift_half_life_days: float = 3.0  # … weighing those checks with this half-life
    # The share of parcels the p90 date aims to cover. A little above 0.9: the rolling correction learns of
    # a sudden slowdown only as its dates pass, and slowdowns start faster than they clear.
    p90_aim: float = 0.91
    use_gbm: bool = True  # learn a gradient-boosted correction on top of the lane statistics
    min_train_for_gbm: int = 2000
    lane_folds: int = 5  # the boosted models see lane statistics from the other folds only
    calibrate: bool = True  # stacked Platt calibration of p_late on the most recent training slice
    calibration_share: float = 0.2
    min_calibration_rows: int = 300
    prior_scan_gap_days: float = 1.0  # normal business days between scans when no scans were learned
    carrier_lost_p: float = 0.95  # p_lost floor when the carrier itself says lost
    carrier_damaged_p: float = 0.5  # p_lost floor when the carrier says damaged
    threads: int = 1  # OpenMP threads for the boosted models while training and scoring
    signal_log_odds: float = 1.0  # p_late log-odds added per delay / customs / exception signal
    # p_late of a parcel out for delivery on its promised day: the share the van brings back.
    out_for_delivery_miss_p: float = 0.05
