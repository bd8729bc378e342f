"""Plain records the prediction works on: shipments, their history outcome, scans and in-flight snapshots."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from carriers.model import TERMINAL_STATUSES, Reason, Status

# Signals a snapshot may carry besides the reasons of carriers.model: any exception scan.
EXCEPTION_SIGNAL = "exception"


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
    signals: frozenset[str] = (
        frozenset()
    )  # Reason values seen (customs, carrier_delay, lost, …) and "exception"
    km_remaining: float | None = None  # distance still to go when the carrier's scans tell it


def build_snapshot(shipment: ShipmentInfo, events: Iterable[ScanEvent], now: datetime) -> Snapshot:
    """The snapshot of `shipment` at `now` from its scans (those after `now` are ignored)."""
    seen = sorted((e for e in events if e.occurred_at <= now), key=lambda e: e.occurred_at)
    if not seen:
        return Snapshot(shipment=shipment, now=now)
    signals = {e.reason.value for e in seen if e.reason is not None}
    if any(e.status is Status.EXCEPTION for e in seen):
        signals.add(EXCEPTION_SIGNAL)
    hubs = sum(1 for e in seen if e.status is Status.IN_TRANSIT)
    return Snapshot(
        shipment=shipment,
        now=now,
        status=seen[-1].status,
        last_event_at=seen[-1].occurred_at,
        n_scans=len(seen),
        n_hubs=hubs,
        signals=frozenset(signals),
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
