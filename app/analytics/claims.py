"""Claims per carrier: claim rate (app/claims/analytics.py's definition), recovery and time to resolution.

claim rate    claims (not cancelled) ÷ shipments handed over in the range, per carrier
recovery      over claims opened in the range and submitted to the carrier: approved amount ÷ claimed
              amount, per carrier and currency
resolution    days from opening to closing of the claims opened in the range and closed, p50 and p90
              (nearest rank, to the hour); open ones are counted as waiting
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select

from app.analytics.delivery import shipment_scope
from app.analytics.filters import Filters, nearest_rank, share
from app.analytics.sql import epoch_seconds, whole
from app.claims.analytics import claim_rates
from app.extensions import db
from app.models import Claim, ClaimState, Shipment


@dataclass(frozen=True)
class CarrierClaimRate:
    """Claims ÷ shipments handed over, for one carrier."""

    carrier: str
    shipments: int
    claims: int

    @property
    def rate(self) -> float | None:
        """Claims per shipment."""
        return share(self.claims, self.shipments)


@dataclass(frozen=True)
class CarrierRecovery:
    """Claimed and recovered money of one carrier in one currency."""

    carrier: str
    currency: str
    submitted: int
    claimed: Decimal
    recovered: Decimal

    @property
    def rate(self) -> float | None:
        """Recovered ÷ claimed."""
        return float(self.recovered / self.claimed) if self.claimed else None


@dataclass(frozen=True)
class Resolution:
    """Days from opening to closing, over one carrier's claims opened in the range."""

    carrier: str
    closed: int
    waiting: int
    p50_days: float | None
    p90_days: float | None


def claim_rate_by_carrier(filters: Filters) -> list[CarrierClaimRate]:
    """Claim rate per carrier, shipments handed over in the range."""
    rates = claim_rates(
        filters.since, filters.until, by=("carrier",), shop_id=filters.shop_id, carrier=filters.carrier
    )
    return [CarrierClaimRate(r.carrier, r.shipments, r.claims) for r in rates]


def _claims_opened(filters: Filters) -> list:
    return [
        *shipment_scope(filters),
        Claim.opened_at >= filters.start,
        Claim.opened_at < filters.end,
        Claim.state != ClaimState.CANCELLED,
    ]


def recovery_by_carrier(filters: Filters) -> list[CarrierRecovery]:
    """Claimed and approved amounts of the submitted claims opened in the range, per carrier and currency."""
    currency = func.coalesce(Claim.currency, "")
    rows = db.session.execute(
        select(
            Shipment.carrier,
            currency,
            func.count(),
            func.coalesce(func.sum(Claim.claim_amount), 0),
            func.coalesce(func.sum(Claim.approved_amount), 0),
        )
        .select_from(Claim)
        .join(Shipment, Shipment.id == Claim.shipment_id)
        .where(*_claims_opened(filters), Claim.submitted_at.is_not(None))
        .group_by(Shipment.carrier, currency)
        .order_by(Shipment.carrier, currency)
    )
    return [
        CarrierRecovery(carrier, code, n, Decimal(str(claimed)), Decimal(str(recovered)))
        for carrier, code, n, claimed, recovered in rows
    ]


def resolution_times(filters: Filters) -> list[Resolution]:
    """p50 and p90 days to closing per carrier, of the claims opened in the range."""
    hours = whole((epoch_seconds(Claim.closed_at) - epoch_seconds(Claim.opened_at)) / 3600).label("h")
    closed = Claim.closed_at.is_not(None)
    histogram: dict[str, list[tuple[float, int]]] = defaultdict(list)
    rows = db.session.execute(
        select(Shipment.carrier, hours, func.count())
        .select_from(Claim)
        .join(Shipment, Shipment.id == Claim.shipment_id)
        .where(*_claims_opened(filters), closed)
        .group_by(Shipment.carrier, hours)
        .order_by(Shipment.carrier, hours)
    )
    for carrier, hour, count in rows:
        histogram[carrier].append((max(float(hour), 0.0) / 24, count))
    waiting = dict(
        db.session.execute(
            select(Shipment.carrier, func.count())
            .select_from(Claim)
            .join(Shipment, Shipment.id == Claim.shipment_id)
            .where(*_claims_opened(filters), Claim.closed_at.is_(None))
            .group_by(Shipment.carrier)
        ).all()
    )
    return [
        Resolution(
            carrier,
            sum(n for _, n in histogram.get(carrier, [])),
            waiting.get(carrier, 0),
            nearest_rank(histogram.get(carrier, []), 0.5),
            nearest_rank(histogram.get(carrier, []), 0.9),
        )
        for carrier in sorted(set(histogram) | set(waiting))
    ]
