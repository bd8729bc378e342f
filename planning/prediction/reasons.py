"""Readable reasons behind a prediction from current evidence only, each with a stable machine key."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from carriers.model import Reason, Status
from planning.prediction.data import AT_RISK_STATES, LEFT_STATES, RiskState

CARRIER_LOST, CARRIER_DAMAGED, CUSTOMS = Reason.LOST.value, Reason.DAMAGED.value, Reason.CUSTOMS.value
REFUSED = Reason.REFUSED.value
DELAYS = frozenset({Reason.CARRIER_DELAY.value, Reason.WEATHER.value})


@dataclass(frozen=True)
class RiskReason:
    """One reason: `key` and `params` for translation, `text` in English."""

    key: str
    text: str
    params: tuple[tuple[str, object], ...] = ()


@dataclass(frozen=True)
class RowFacts:
    """What the reasons are decided from, for one shipment (dates in the destination's zone)."""

    state: RiskState
    status: Status
    signals: frozenset[str]
    today: date
    promised: date
    past: bool  # the promised day is over where the parcel goes
    eta_p50: date
    arrived_late: bool | None  # for a parcel at the door or the pickup point: after the promised day?
    p_late: float
    scanned: bool
    dwell_business_days: float  # since the last scan, or since handoff without one
    normal_gap_days: float
    km_to_go: float | None
    recent_late_rate: float | None
    usual_late_rate: float
    recent_half_life_days: float


def _days_word(days: int) -> str:
    return {0: "today", 1: "tomorrow"}.get(days, f"in {days} days")


def _every(gap: float) -> str:
    return "daily" if gap <= 1.5 else f"every {round(gap)} business days"


def _carrier_reports(f: RowFacts) -> list[RiskReason]:
    out = []
    if CARRIER_LOST in f.signals:
        out.append(RiskReason("carrier_lost", "carrier reports the parcel lost"))
    if CARRIER_DAMAGED in f.signals:
        out.append(RiskReason("carrier_damaged", "carrier reports the parcel damaged"))
    return out


def _left(f: RowFacts) -> list[RiskReason]:
    """Reasons of a parcel that left the delay model: why it will not be delivered."""
    out = []
    if REFUSED in f.signals:
        out.append(RiskReason("refused", "the receiver refused the parcel"))
    if f.status is Status.EXPIRED:
        out.append(RiskReason("expired", "parcel was not collected in time"))
    elif f.status is Status.RETURNED:
        out.append(RiskReason("returned", "parcel was returned to the sender"))
    elif f.status is Status.CANCELLED:
        out.append(RiskReason("cancelled", "shipment was cancelled"))
    elif f.state is RiskState.RETURNING:
        out.append(RiskReason("returning", "parcel is being returned to the sender"))
    return out + _carrier_reports(f)


def _arrived(f: RowFacts) -> list[RiskReason]:
    """Reasons of a parcel at the door or the pickup point: how it arrived, and collection."""
    out = []
    if f.arrived_late:
        where = "reached the pickup point" if f.status is Status.AVAILABLE_FOR_PICKUP else "was delivered"
        text = f"{where} after the promised {f.promised.isoformat()}"
        out.append(RiskReason("arrived_late", text, (("date", f.promised),)))
    if f.status is Status.AVAILABLE_FOR_PICKUP:
        out.append(RiskReason("awaiting_collection", "parcel is waiting at the pickup point"))
    return out + _carrier_reports(f)


def _silence(f: RowFacts) -> list[RiskReason]:
    days = int(f.dwell_business_days)
    if days < 1 or f.dwell_business_days < 2 * f.normal_gap_days:
        return []
    plural = "s" if days != 1 else ""
    params = (
        ("hours", round(24 * f.dwell_business_days)),
        ("days", days),
        ("normal_days", round(f.normal_gap_days, 1)),
    )
    if not f.scanned:
        text = f"no scan since handoff {days} business day{plural} ago"
        return [RiskReason("no_scan_since_handoff", text, params)]
    text = f"no scan for {days} business day{plural}; this lane normally scans {_every(f.normal_gap_days)}"
    return [RiskReason("no_scan_for_hours", text, params)]


def _in_flight(f: RowFacts) -> list[RiskReason]:
    """Reasons of a parcel still on its way, from what is true now."""
    out = _carrier_reports(f)
    if f.past:
        text = f"promised date {f.promised.isoformat()} has passed"
        out.append(RiskReason("past_promised_day", text, (("date", f.promised),)))
    out += _silence(f)
    if f.signals & DELAYS:
        out.append(RiskReason("carrier_delay", "carrier delay event"))
    held = f.status is Status.EXCEPTION or f.dwell_business_days >= f.normal_gap_days
    if CUSTOMS in f.signals and held:
        # Every cross-border parcel passes customs: a reason only when the carrier holds it or it stays there.
        out.append(RiskReason("customs_hold", "customs hold"))
    if f.status is Status.FAILED_ATTEMPT:
        out.append(RiskReason("failed_attempt", "delivery attempt failed"))
    if not out and f.status is Status.EXCEPTION:
        out.append(RiskReason("exception", "carrier reported an exception"))
    left = (f.promised - f.today).days
    if 0 <= left <= 1 and f.km_to_go is not None and f.km_to_go >= 300:
        km = int(round(f.km_to_go, -1))
        text = f"promised date is {_days_word(left)}, parcel still {km} km away"
        out.append(RiskReason("far_from_destination", text, (("days", left), ("km", km))))
    if not f.past and f.promised < f.eta_p50:
        text = f"expected {f.eta_p50.isoformat()}, after the promised {f.promised.isoformat()}"
        out.append(RiskReason("expected_after_promise", text, (("eta", f.eta_p50), ("promised", f.promised))))
    rate = f.recent_late_rate
    if rate is not None and rate >= 0.2 and rate >= 2 * f.usual_late_rate:
        pct = round(100 * rate)
        text = f"this lane is running late: {pct}% of its recent parcels were late"
        out.append(RiskReason("lane_running_late", text, (("percent", pct),)))
    return out


def _fallback(f: RowFacts) -> RiskReason:
    """The reason of an at-risk parcel that no single piece of evidence explains: the model's own odds."""
    if f.state in (RiskState.STUCK, RiskState.LOST):
        return RiskReason("no_progress", "no progress for longer than parcels that arrive usually take")
    pct = round(100 * f.p_late)
    text = f"{pct}% chance to arrive after the promised {f.promised.isoformat()} on this lane"
    return RiskReason("delay_likely", text, (("percent", pct), ("promised", f.promised)))


# Reasons about the lane or the odds, not about this parcel: context, never evidence on their own.
CONTEXT_KEYS = frozenset({"lane_running_late", "delay_likely"})


def has_evidence(reasons: tuple[RiskReason, ...] | list[RiskReason]) -> bool:
    """Whether any reason is about the parcel itself (a carrier report, silence, a delay, a failed attempt…)."""
    return any(r.key not in CONTEXT_KEYS for r in reasons)


def judge(f: RowFacts) -> tuple[RiskState, tuple[RiskReason, ...]]:
    """The parcel's state and the reasons that apply now.

    At risk needs something to look at: a parcel the model flags on its lane's odds alone (or its lane's
    recent lateness), and less likely late than not, is on track — neither queued for staff nor warned —,
    as early on most of its kind are.
    """
    if f.state is RiskState.AT_RISK and f.p_late < 0.5 and not has_evidence(_in_flight(f)):
        f = replace(f, state=RiskState.ON_TRACK)
    return f.state, explain(f)


def explain(f: RowFacts) -> tuple[RiskReason, ...]:
    """The reasons that apply now, most important first; an at-risk parcel always has one."""
    if f.state in LEFT_STATES:
        return tuple(_left(f))
    if f.arrived_late is not None:
        return tuple(_arrived(f))
    out = _in_flight(f)
    if not out and f.state in AT_RISK_STATES:
        out.append(_fallback(f))
    return tuple(out)
