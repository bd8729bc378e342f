"""Readable reasons behind a prediction, each with a stable machine key and parameters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from carriers.model import Reason, Status

CARRIER_LOST, CARRIER_DAMAGED, CUSTOMS = Reason.LOST.value, Reason.DAMAGED.value, Reason.CUSTOMS.value
DELAYS = frozenset({Reason.CARRIER_DELAY.value, Reason.WEATHER.value})
RETURNING = (Status.RETURNING, Status.RETURNED)


@dataclass(frozen=True)
class RiskReason:
    """One reason: `key` and `params` for translation, `text` in English."""

    key: str
    text: str
    params: tuple[tuple[str, object], ...] = ()


@dataclass(frozen=True)
class RowFacts:
    """What the reasons are decided from, for one shipment."""

    status: Status
    signals: frozenset[str]
    today: date
    promised: date
    eta_p50: date
    dwell_business_days: float
    normal_gap_days: float
    km_to_go: float | None
    recent_late_rate: float | None
    usual_late_rate: float
    recent_half_life_days: float


def _days_word(days: int) -> str:
    return {0: "today", 1: "tomorrow"}.get(days, f"in {days} days")


def _every(gap: float) -> str:
    return "daily" if gap <= 1.5 else f"every {round(gap)} business days"


def explain(f: RowFacts) -> tuple[RiskReason, ...]:
    """The reasons that apply, most important first."""
    out: list[RiskReason] = []
    if f.status in RETURNING:
        out.append(RiskReason("returning", "parcel is being returned to the sender"))
    if CARRIER_LOST in f.signals:
        out.append(RiskReason("carrier_lost", "carrier reports the parcel lost"))
    if CARRIER_DAMAGED in f.signals:
        out.append(RiskReason("carrier_damaged", "carrier reports the parcel damaged"))
    if f.today > f.promised:
        out.append(
            RiskReason(
                "promise_passed",
                f"promised date {f.promised.isoformat()} has passed",
                (("date", f.promised),),
            )
        )
    days = int(f.dwell_business_days)
    if days >= 1 and f.dwell_business_days >= 2 * f.normal_gap_days:
        plural = "s" if days != 1 else ""
        text = (
            f"no scan for {days} business day{plural}; this lane normally scans {_every(f.normal_gap_days)}"
        )
        out.append(
            RiskReason("no_scan", text, (("days", days), ("normal_days", round(f.normal_gap_days, 1))))
        )
    if f.signals & DELAYS:
        out.append(RiskReason("carrier_delay", "carrier delay event"))
    if CUSTOMS in f.signals:
        out.append(RiskReason("customs", "customs hold"))
    if f.status is Status.FAILED_ATTEMPT:
        out.append(RiskReason("failed_attempt", "delivery attempt failed"))
    if not out and "exception" in f.signals:
        out.append(RiskReason("exception", "carrier reported an exception"))
    left = (f.promised - f.today).days
    if 0 <= left <= 1 and f.km_to_go is not None and f.km_to_go >= 300:
        km = int(round(f.km_to_go, -1))
        text = f"promised date is {_days_word(left)}, parcel still {km} km away"
        out.append(RiskReason("far_from_destination", text, (("days", left), ("km", km))))
    if f.today <= f.promised < f.eta_p50:
        text = f"expected {f.eta_p50.isoformat()}, after the promised {f.promised.isoformat()}"
        out.append(RiskReason("expected_after_promise", text, (("eta", f.eta_p50), ("promised", f.promised))))
    rate = f.recent_late_rate
    if rate is not None and rate >= 0.2 and rate >= 2 * f.usual_late_rate:
        pct = round(100 * rate)
        text = f"this lane is running late: {pct}% of its recent parcels were late"
        out.append(RiskReason("lane_running_late", text, (("percent", pct),)))
    return tuple(out)
