"""Own-fleet slot offers at checkout: which windows a new stop fits into, at what price, and why (pure).

A window is offered when it is still open for orders, has capacity left, and the stop can be inserted
feasibly into the day's current plan within it (planning.routing.gaps, the exact test of planning.routing.insertion). The price is the window's base
price adjusted by the marginal distance the stop adds: where a van passes anyway the slot is cheaper
("green"); where it needs a detour or a van of its own, dearer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from planning.routing.day_plan import BookedStop, DayPlan
from planning.routing.insertion import Insertion


class Why(StrEnum):
    """Why a slot is or is not offered."""

    FITS = "fits"
    GREEN = "green"
    DETOUR = "detour"
    CLOSED = "closed"
    FULL = "full"
    NO_ROUTE = "no_route"
    NOT_WORKING = "not_working"
    TOO_HEAVY = "too_heavy"
    OUTSIDE_ZONE = "outside_zone"


@dataclass(frozen=True)
class Explanation:
    """One reason, as a stable code and a sentence."""

    code: Why
    text: str


@dataclass(frozen=True)
class SlotWindow:
    """A bookable window of a day: capacity, how much of it is taken, base price, last order time."""

    key: str
    start: datetime
    end: datetime
    capacity: int
    taken: int
    base_price: Decimal
    closes_at: datetime


@dataclass(frozen=True)
class Pricing:
    """Marginal-cost pricing: money per km of detour against half the solo round trip, clamped."""

    per_km: Decimal = Decimal("4")
    max_discount: Decimal = Decimal("30")
    max_surcharge: Decimal = Decimal("60")
    green_ratio: float = 0.25  # marginal km at most this share of the solo round trip: a van passes anyway
    step: Decimal = Decimal("1")


@dataclass(frozen=True)
class SlotOffer:
    """A window and whether it is offered, with its price and the reasons."""

    window: SlotWindow
    offered: bool
    price: Decimal | None
    green: bool
    insertion: Insertion | None
    reasons: tuple[Explanation, ...]


def offer_slots(
    day: DayPlan, stop: BookedStop, windows: Sequence[SlotWindow], order_time: datetime, pricing: Pricing
) -> list[SlotOffer]:
    """Each window with whether the stop fits there now, its price and why."""
    open_windows = [w for w in windows if order_time < w.closes_at and w.taken < w.capacity]
    fits, depot_km = (
        day.insertions(stop, [(w.start, w.end) for w in open_windows]) if open_windows else ([], 0.0)
    )
    solo_km = 2 * depot_km
    found = dict(zip((w.key for w in open_windows), fits, strict=True))
    offers = []
    for window in windows:
        if order_time >= window.closes_at:
            offers.append(
                _refused(window, Why.CLOSED, f"orders for this window closed at {window.closes_at}")
            )
        elif window.taken >= window.capacity:
            offers.append(_refused(window, Why.FULL, f"all {window.capacity} deliveries are taken"))
        elif found[window.key] is None:
            offers.append(_refused(window, Why.NO_ROUTE, "no van can reach the address in this window"))
        else:
            offers.append(_priced(window, found[window.key], solo_km, pricing))
    return offers


def refuse_all(windows: Sequence[SlotWindow], code: Why, text: str) -> list[SlotOffer]:
    """Every window refused for one reason of the whole day (not working, too heavy, outside the zone)."""
    return [_refused(window, code, text) for window in windows]


def _refused(window: SlotWindow, code: Why, text: str) -> SlotOffer:
    return SlotOffer(window, False, None, False, None, (Explanation(code, text),))


def _priced(window: SlotWindow, insertion: Insertion, solo_km: float, pricing: Pricing) -> SlotOffer:
    raw = pricing.per_km * Decimal(str(round(insertion.cost - solo_km / 2, 3)))
    adjustment = min(max(raw, -pricing.max_discount), pricing.max_surcharge)
    price = max(Decimal(0), (window.base_price + adjustment).quantize(pricing.step, rounding=ROUND_HALF_UP))
    price = price.quantize(Decimal("0.01"))
    green = insertion.cost <= pricing.green_ratio * solo_km
    left = window.capacity - window.taken
    reasons = [Explanation(Why.FITS, f"fits van {insertion.vehicle}; {left} of {window.capacity} left")]
    if green:
        reasons.append(Explanation(Why.GREEN, f"a van passes nearby: {insertion.cost:.1f} km extra driving"))
    else:
        reasons.append(Explanation(Why.DETOUR, f"{insertion.cost:.1f} km extra driving"))
    return SlotOffer(window, True, price, green, insertion, tuple(reasons))
