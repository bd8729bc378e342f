"""What claims teach: claim rates per carrier, service, lane and month, recovery, how fast each step goes,
why carriers deny, how many claims were filed in time, and which carriers or lanes are getting worse.

Pure queries and arithmetic (no request objects); `claim_stats` is what the staff pages and the shop API
call. Conventions shared by every figure:
- a shipment's moment is when it was handed over (`shipped_at`, else `created_at`), in UTC;
- shipments the shop deleted count nowhere; cancelled claims (the parcel turned up) are not claims in
  the rates;
- the claim-process figures (recovery, durations, denials, filing) are over the claims opened in the range.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import numpy as np
from sqlalchemy import and_, extract, func, or_, select

from app.extensions import db
from app.models import Claim, ClaimEvent, ClaimState, Shipment
from app.models.claim import FINISHED_CLAIM_STATES
from app.models.types import utcnow
from carriers.registry import DISPLAY_NAMES

RATE_DIMENSIONS = frozenset({"carrier", "service", "lane", "month"})
_OUTCOMES = (ClaimState.APPROVED, ClaimState.PARTIALLY_APPROVED, ClaimState.DENIED)
_RECOVERED = frozenset({ClaimState.APPROVED, ClaimState.PARTIALLY_APPROVED})
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
NO_REASON = "(no reason given)"


@dataclass(frozen=True)
class ClaimRate:
    """Claims ÷ shipments handed over in one group; a dimension not grouped by is None."""

    shipments: int
    claims: int
    carrier: str | None = None
    service: str | None = None
    origin_country: str | None = None
    destination_country: str | None = None
    month: date | None = None  # the month's first day

    @property
    def rate(self) -> float | None:
        """Claims per shipment (None without shipments)."""
        return self.claims / self.shipments if self.shipments else None


@dataclass(frozen=True)
class RecoveredMoney:
    """Claimed and recovered amounts of submitted claims in one currency."""

    currency: str | None
    claimed: Decimal
    recovered: Decimal

    @property
    def share(self) -> float | None:
        """Recovered ÷ claimed."""
        return float(self.recovered / self.claimed) if self.claimed else None


@dataclass(frozen=True)
class Recovery:
    """What carriers paid on the claims filed with them."""

    submitted: int
    decided: int
    recovered: int  # approved or partially approved
    denied: int
    amounts: tuple[RecoveredMoney, ...]

    @property
    def rate(self) -> float | None:
        """Claims approved or partially approved ÷ claims submitted."""
        return self.recovered / self.submitted if self.submitted else None


@dataclass(frozen=True)
class Duration:
    """How long a step took over the claims that reached it (`measured`); `waiting` are open claims that
    have not reached it yet (so a median over few measured claims and many waiting ones is optimistic)."""

    measured: int
    waiting: int
    median: timedelta | None
    p90: timedelta | None


@dataclass(frozen=True)
class DenialReason:
    """One reason carriers gave for denying claims, and how often."""

    reason: str
    count: int


@dataclass(frozen=True)
class FilingTimeliness:
    """Submitted claims that reached the carrier inside its window."""

    submitted: int
    in_time: int
    late: int
    unknown: int

    @property
    def share(self) -> float | None:
        """Filed in time ÷ submitted."""
        return self.in_time / self.submitted if self.submitted else None


@dataclass(frozen=True)
class RateAnomaly:
    """A carrier (or one of its lanes) whose claim rate in the latest period is well above its own normal."""

    carrier: str
    origin_country: str | None  # None: the carrier as a whole
    destination_country: str | None
    period_start: date
    period_end: date  # inclusive
    claims: int
    shipments: int
    baseline_start: date
    baseline_claims: int
    baseline_shipments: int
    p_value: float  # one-sided, exact, conditional on the claims of both periods
    adjusted_p_value: float  # Benjamini–Hochberg over every group tested
    groups_tested: int
    words: str

    @property
    def rate(self) -> float:
        """Claims per shipment in the period."""
        return self.claims / self.shipments

    @property
    def baseline_rate(self) -> float:
        """Claims per shipment in the periods before."""
        return self.baseline_claims / self.baseline_shipments


@dataclass(frozen=True)
class ClaimStats:
    """Every claim figure for a date range (inclusive days, UTC), one shop or all, one carrier or all."""

    start: date
    end: date
    carrier: str | None
    overall: ClaimRate
    by_month: tuple[ClaimRate, ...]  # carrier × month
    by_service: tuple[ClaimRate, ...]  # carrier × service
    by_lane: tuple[ClaimRate, ...]  # carrier × origin → destination country
    recovery: Recovery
    to_acknowledgement: Duration  # opened → acknowledged
    to_remedy: Duration  # opened → the customer's remedy decided
    to_carrier_decision: Duration  # submitted → the carrier decided
    denial_reasons: tuple[DenialReason, ...]
    filing: FilingTimeliness
    anomalies: tuple[RateAnomaly, ...]


def claim_stats(
    start: date,
    end: date,
    *,
    shop_id: int | None = None,
    carrier: str | None = None,
    now: datetime | None = None,
) -> ClaimStats:
    """All claim figures for the days `start`..`end`, with the rate anomalies of the 4 weeks up to `end`
    (or up to yesterday when `end` has not finished yet)."""
    scope = {"shop_id": shop_id, "carrier": carrier}
    claims = _claims_opened(start, end, **scope)
    outcomes = _outcomes(claims, start, end, **scope)
    today = (now or utcnow()).astimezone(UTC).date()
    return ClaimStats(
        start=start,
        end=end,
        carrier=carrier,
        overall=claim_rates(start, end, by=(), **scope)[0],
        by_month=tuple(claim_rates(start, end, by=("carrier", "month"), **scope)),
        by_service=tuple(claim_rates(start, end, by=("carrier", "service"), **scope)),
        by_lane=tuple(claim_rates(start, end, by=("carrier", "lane"), **scope)),
        recovery=_recovery(claims, outcomes),
        to_acknowledgement=_duration(claims, "opened_at", "acknowledged_at"),
        to_remedy=_duration(claims, "opened_at", "remedy_decided_at"),
        to_carrier_decision=_duration(claims, "submitted_at", "carrier_decided_at"),
        denial_reasons=_denial_reasons(claims, outcomes),
        filing=_filing(claims),
        anomalies=tuple(detect_rate_anomalies(min(end, today - timedelta(days=1)), **scope)),
    )


def claim_rates(
    start: date,
    end: date,
    *,
    by: Sequence[str] = ("carrier", "month"),
    shop_id: int | None = None,
    carrier: str | None = None,
) -> list[ClaimRate]:
    """Claims ÷ shipments handed over on the days `start`..`end`, grouped by any of carrier, service,
    lane and month.

    A claim counts in its shipment's group and month (the cohort), so the latest weeks are incomplete
    until the slowest rule has had its time (20 business days for an international parcel).
    """
    unknown = set(by) - RATE_DIMENSIONS
    if unknown:
        raise ValueError(f"unknown dimensions {sorted(unknown)}; use {sorted(RATE_DIMENSIONS)}")
    columns = _dimension_columns(by)
    where = _shipment_scope(_day_start(start), _day_start(end + timedelta(days=1)), shop_id, carrier)
    shipped = db.session.execute(select(*columns, func.count()).where(*where).group_by(*columns))
    claimed = db.session.execute(
        select(*columns, func.count(Claim.id))
        .join(Shipment, Claim.shipment_id == Shipment.id)
        .where(*where, Claim.state != ClaimState.CANCELLED)
        .group_by(*columns)
    )
    claim_counts = {tuple(row[:-1]): row[-1] for row in claimed}
    rates = []
    for row in shipped:
        key = tuple(row[:-1])
        rates.append(ClaimRate(row[-1], claim_counts.get(key, 0), **_group_fields(by, key)))
    return sorted(rates, key=_rate_order)


def detect_rate_anomalies(
    period_end: date,
    *,
    period_days: int = 28,
    baseline_periods: int = 3,
    shop_id: int | None = None,
    carrier: str | None = None,
    min_claims: int = 3,
    min_ratio: float = 1.5,
    alpha: float = 0.05,
) -> list[RateAnomaly]:
    """Carriers and carrier lanes whose claim rate in the `period_days` up to `period_end` (inclusive) is
    well above their rate in the `baseline_periods` periods before, most significant first.

    Claims count in the period they opened, shipments in the period they were handed over: counting
    claims by cohort would leave the latest period incomplete (lost parcels surface weeks later) and make
    it look better than its baseline. Under "the rate has not changed", the period's share of the claims of
    both periods is binomial with p = its share of the shipments; the p-value is that binomial's upper
    tail (exact, sound for small rates, and it treats the baseline as the estimate it is rather than as
    a known rate). A group is flagged when the p-value, adjusted by Benjamini–Hochberg over every group
    tested, is at most `alpha`, it has at least `min_claims` claims and at least `min_ratio` times its
    baseline rate.
    """
    period_start = period_end - timedelta(days=period_days - 1)
    baseline_start = period_start - timedelta(days=period_days * baseline_periods)
    current = _lane_counts(period_start, period_end, shop_id, carrier)
    baseline = _lane_counts(baseline_start, period_start - timedelta(days=1), shop_id, carrier)
    tested = []
    for group in sorted(set(current) | set(baseline), key=lambda g: tuple(part or "" for part in g)):
        shipments, claims = current.get(group, (0, 0))
        base_shipments, base_claims = baseline.get(group, (0, 0))
        if not shipments or not base_shipments:
            continue  # no period to judge, or no normal to judge it against
        p_value = binomial_upper_tail(claims, claims + base_claims, shipments / (shipments + base_shipments))
        tested.append((group, shipments, claims, base_shipments, base_claims, p_value))
    adjusted = benjamini_hochberg([t[-1] for t in tested])
    anomalies = []
    for (group, shipments, claims, base_shipments, base_claims, p_value), q in zip(
        tested, adjusted, strict=True
    ):
        rising = claims * base_shipments >= min_ratio * base_claims * shipments
        if q > alpha or claims < min_claims or not rising:
            continue
        anomaly = RateAnomaly(
            carrier=group[0],
            origin_country=group[1],
            destination_country=group[2],
            period_start=period_start,
            period_end=period_end,
            claims=claims,
            shipments=shipments,
            baseline_start=baseline_start,
            baseline_claims=base_claims,
            baseline_shipments=base_shipments,
            p_value=p_value,
            adjusted_p_value=q,
            groups_tested=len(tested),
            words="",
        )
        anomalies.append(_with_words(anomaly, period_days, baseline_periods))
    return sorted(anomalies, key=lambda a: (a.p_value, a.carrier, a.origin_country or ""))


def binomial_upper_tail(k: int, n: int, p: float) -> float:
    """P(X ≥ k) for X ~ Binomial(n, p), summed in log space so tiny tails stay exact."""
    if k <= 0:
        return 1.0
    if k > n or p <= 0.0:
        return 0.0
    if p >= 1.0:
        return 1.0
    log_p, log_q = math.log(p), math.log1p(-p)
    terms = [
        math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * log_p + (n - i) * log_q
        for i in range(k, n + 1)
    ]
    top = max(terms)
    return min(1.0, math.exp(top) * math.fsum(math.exp(t - top) for t in terms))


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Benjamini–Hochberg adjusted p-values (q-values), in the input's order."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [1.0] * m
    running = 1.0
    for rank in range(m, 0, -1):
        i = order[rank - 1]
        running = min(running, p_values[i] * m / rank)
        adjusted[i] = running
    return adjusted


def describe_anomaly(anomaly: RateAnomaly, period_days: int, baseline_periods: int) -> str:
    """The anomaly in one sentence, with its counts, rates and probability."""
    lane = f" {anomaly.origin_country}→{anomaly.destination_country}" if anomaly.origin_country else ""
    name = DISPLAY_NAMES.get(anomaly.carrier, anomaly.carrier)
    chance = _probability(anomaly.p_value)
    adjusted = _probability(anomaly.adjusted_p_value)
    return (
        f"{name}{lane}: {anomaly.claims:,} claims in {anomaly.shipments:,} shipments "
        f"({_percent(anomaly.rate)}) in the {_span(period_days)} to {_day(anomaly.period_end)}, "
        f"against {_percent(anomaly.baseline_rate)} ({anomaly.baseline_claims:,} in "
        f"{anomaly.baseline_shipments:,}) in the {_span(period_days * baseline_periods)} before; "
        f"if the rate had not changed, that many or more would happen by chance with probability {chance} "
        f"(exact binomial test; {adjusted} after the Benjamini–Hochberg correction over the "
        f"{anomaly.groups_tested} carriers and lanes checked)."
    )


def _with_words(anomaly: RateAnomaly, period_days: int, baseline_periods: int) -> RateAnomaly:
    return replace(anomaly, words=describe_anomaly(anomaly, period_days, baseline_periods))


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def _handed_over():
    return func.coalesce(Shipment.shipped_at, Shipment.created_at)


def _shipment_scope(start_at: datetime, end_at: datetime, shop_id: int | None, carrier: str | None) -> list:
    """Shipments handed over in [start_at, end_at), not deleted, of the shop and carrier if given."""
    # `_handed_over()` in the range, spelled so both databases range-scan ix_shipment_shipped
    handed = or_(
        and_(Shipment.shipped_at >= start_at, Shipment.shipped_at < end_at),
        and_(Shipment.shipped_at.is_(None), Shipment.created_at >= start_at, Shipment.created_at < end_at),
    )
    where = [handed, Shipment.deleted_at.is_(None)]
    if shop_id is not None:
        where.append(Shipment.shop_id == shop_id)
    if carrier is not None:
        where.append(Shipment.carrier == carrier)
    return where


def _dimension_columns(by: Iterable[str]) -> list:
    columns = []
    if "carrier" in by:
        columns.append(Shipment.carrier)
    if "service" in by:
        columns.append(Shipment.service)
    if "lane" in by:
        columns += [Shipment.origin_country, Shipment.destination_country]
    if "month" in by:
        columns += [extract("year", _handed_over()), extract("month", _handed_over())]
    return columns


def _group_fields(by: Sequence[str], key: tuple) -> dict:
    values = iter(key)
    fields: dict = {}
    if "carrier" in by:
        fields["carrier"] = next(values)
    if "service" in by:
        fields["service"] = next(values)
    if "lane" in by:
        fields["origin_country"], fields["destination_country"] = next(values), next(values)
    if "month" in by:
        fields["month"] = date(int(next(values)), int(next(values)), 1)
    return fields


def _rate_order(rate: ClaimRate) -> tuple:
    return (
        rate.carrier or "",
        rate.month or date.min,
        rate.service or "",
        rate.origin_country or "",
        rate.destination_country or "",
    )


def _lane_counts(
    first: date, last: date, shop_id: int | None, carrier: str | None
) -> dict[tuple[str, str | None, str | None], tuple[int, int]]:
    """(carrier, origin, destination) and (carrier, None, None) → (shipments handed over, claims opened)
    in the days `first`..`last`; a lane needs both countries."""
    start_at, end_at = _day_start(first), _day_start(last + timedelta(days=1))
    lane = (Shipment.carrier, Shipment.origin_country, Shipment.destination_country)
    shipped = db.session.execute(
        select(*lane, func.count())
        .where(*_shipment_scope(start_at, end_at, shop_id, carrier))
        .group_by(*lane)
    )
    claim_scope = [
        Claim.opened_at >= start_at,
        Claim.opened_at < end_at,
        Claim.state != ClaimState.CANCELLED,
        Shipment.deleted_at.is_(None),
    ]
    if shop_id is not None:
        claim_scope.append(Shipment.shop_id == shop_id)
    if carrier is not None:
        claim_scope.append(Shipment.carrier == carrier)
    claimed = db.session.execute(
        select(*lane, func.count(Claim.id))
        .join(Shipment, Claim.shipment_id == Shipment.id)
        .where(*claim_scope)
        .group_by(*lane)
    )
    counts: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for column, rows in ((0, shipped), (1, claimed)):
        for code, origin, destination, count in rows:
            counts[(code, None, None)][column] += count
            if origin and destination:
                counts[(code, origin, destination)][column] += count
    return {group: (shipments, claims) for group, (shipments, claims) in counts.items()}


_CLAIM_COLUMNS = (
    Claim.id,
    Claim.state,
    Claim.opened_at,
    Claim.acknowledged_at,
    Claim.remedy_decided_at,
    Claim.submitted_at,
    Claim.carrier_decided_at,
    Claim.claim_amount,
    Claim.approved_amount,
    Claim.currency,
    Claim.denial_reason,
    Claim.filed_in_time,
)


def _claim_scope(start: date, end: date, shop_id: int | None, carrier: str | None) -> list:
    where = [
        Claim.opened_at >= _day_start(start),
        Claim.opened_at < _day_start(end + timedelta(days=1)),
        Shipment.deleted_at.is_(None),
    ]
    if shop_id is not None:
        where.append(Claim.shop_id == shop_id)
    if carrier is not None:
        where.append(Shipment.carrier == carrier)
    return where


def _claims_opened(start: date, end: date, *, shop_id: int | None, carrier: str | None) -> list:
    return list(
        db.session.execute(
            select(*_CLAIM_COLUMNS)
            .join(Shipment, Claim.shipment_id == Shipment.id)
            .where(*_claim_scope(start, end, shop_id, carrier))
        )
    )


def _outcomes(
    claims: list, start: date, end: date, *, shop_id: int | None, carrier: str | None
) -> dict[int, ClaimState]:
    """The carrier's decision per claim: its state, or for a claim closed since, the audit trail's last
    decision (a closed claim without one falls back on the amounts)."""
    outcomes = {claim.id: claim.state for claim in claims if claim.state in _OUTCOMES}
    closed = {
        claim.id: claim
        for claim in claims
        if claim.state is ClaimState.CLOSED and claim.carrier_decided_at is not None
    }
    if closed:
        trail = db.session.execute(
            select(ClaimEvent.claim_id, ClaimEvent.to_state)
            .join(Claim, ClaimEvent.claim_id == Claim.id)
            .join(Shipment, Claim.shipment_id == Shipment.id)
            .where(
                *_claim_scope(start, end, shop_id, carrier),
                Claim.state == ClaimState.CLOSED,
                ClaimEvent.to_state.in_([str(state) for state in _OUTCOMES]),
            )
            .order_by(ClaimEvent.id)
        )
        for claim_id, to_state in trail:
            outcomes[claim_id] = ClaimState(to_state)
        for claim_id, claim in closed.items():
            if claim_id not in outcomes:
                paid = claim.approved_amount is not None and claim.approved_amount > 0
                outcomes[claim_id] = ClaimState.APPROVED if paid else ClaimState.DENIED
    return outcomes


def _recovery(claims: list, outcomes: dict[int, ClaimState]) -> Recovery:
    submitted = [claim for claim in claims if claim.submitted_at is not None]
    claimed: dict[str | None, Decimal] = defaultdict(Decimal)
    recovered: dict[str | None, Decimal] = defaultdict(Decimal)
    for claim in submitted:
        claimed[claim.currency] += claim.claim_amount or Decimal(0)
        if outcomes.get(claim.id) in _RECOVERED:
            recovered[claim.currency] += claim.approved_amount or Decimal(0)
    decided = [outcomes[c.id] for c in submitted if c.id in outcomes]
    return Recovery(
        submitted=len(submitted),
        decided=len(decided),
        recovered=sum(1 for outcome in decided if outcome in _RECOVERED),
        denied=sum(1 for outcome in decided if outcome is ClaimState.DENIED),
        amounts=tuple(
            RecoveredMoney(currency, claimed[currency], recovered[currency])
            for currency in sorted(claimed, key=lambda c: c or "")
        ),
    )


def _duration(claims: list, since: str, until: str) -> Duration:
    """Median and 90th percentile (linear interpolation between order statistics) of `until − since`."""
    spans, waiting = [], 0
    for claim in claims:
        began, ended = getattr(claim, since), getattr(claim, until)
        if began is None:
            continue
        if ended is not None:
            spans.append((ended - began).total_seconds())
        elif claim.state not in FINISHED_CLAIM_STATES:
            waiting += 1
    if not spans:
        return Duration(0, waiting, None, None)
    median, p90 = np.percentile(spans, [50, 90])
    return Duration(len(spans), waiting, timedelta(seconds=float(median)), timedelta(seconds=float(p90)))


def _denial_reasons(claims: list, outcomes: dict[int, ClaimState]) -> tuple[DenialReason, ...]:
    reasons = Counter(
        (claim.denial_reason or "").strip() or NO_REASON
        for claim in claims
        if outcomes.get(claim.id) is ClaimState.DENIED
    )
    return tuple(
        DenialReason(reason, count) for reason, count in sorted(reasons.items(), key=lambda r: (-r[1], r[0]))
    )


def _filing(claims: list) -> FilingTimeliness:
    flags = [claim.filed_in_time for claim in claims if claim.submitted_at is not None]
    return FilingTimeliness(
        submitted=len(flags),
        in_time=sum(1 for flag in flags if flag is True),
        late=sum(1 for flag in flags if flag is False),
        unknown=sum(1 for flag in flags if flag is None),
    )


def _percent(rate: float) -> str:
    return f"{rate * 100:.1f} %" if rate >= 0.01 or rate == 0 else f"{rate * 100:.2f} %"


def _probability(p: float) -> str:
    return "below 0.0001" if p < 0.0001 else f"{p:.2g}"


def _span(days: int) -> str:
    if days % 7 == 0:
        weeks = days // 7
        return "week" if weeks == 1 else f"{weeks} weeks"
    return f"{days} days"


def _day(day: date) -> str:
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"
