"""Carrier claim rules as configuration: filing windows and liability caps, each with its source and date.

The defaults are `carrier_rules.toml` beside this module; `LEVERANSE_CLAIM_RULES_FILE` replaces it.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from planning.calendar import business_calendar

DEFAULT_RULES_FILE = Path(__file__).with_name("carrier_rules.toml")
ANCHORS = ("ship", "expected_delivery", "last_scan", "delivery")


class RulesError(ValueError):
    """The rules file is malformed."""


@dataclass(frozen=True)
class Window:
    """A point in time relative to an anchor: N days, hours or business days after it."""

    after: str
    days: int = 0
    hours: int = 0
    business_days: int = 0

    def from_anchor(
        self, anchor: datetime, zone: ZoneInfo, countries: tuple[str, ...], *, closing: bool
    ) -> datetime:
        """Where the window ends for an anchor (UTC). Hours are exact; days and business days are the
        customer's local days: an opening window starts at that day's local midnight, a closing one ends
        at the local midnight after it (so DST changes never move a deadline by an hour)."""
        if self.hours and not (self.days or self.business_days):
            return anchor + timedelta(hours=self.hours)
        day = anchor.astimezone(zone).date()
        if self.business_days:
            day = np.busday_offset(
                day, self.business_days, roll="backward", busdaycal=business_calendar(countries)
            ).astype(date)
        day += timedelta(days=self.days + (1 if closing else 0))
        moment = datetime.combine(day, time(0), tzinfo=zone) + timedelta(hours=self.hours)
        return moment.astimezone(UTC)


@dataclass(frozen=True)
class Liability:
    """A cap per parcel (amount + currency) or per kilogram in SDR."""

    amount: Decimal | None = None
    currency: str | None = None
    sdr_per_kg: Decimal | None = None


@dataclass(frozen=True)
class CarrierRules:
    """One carrier's claim terms."""

    carrier: str
    liability: Liability
    sources: tuple[str, ...]
    lost_earliest: Window | None = None
    lost_latest: Window | None = None
    damage_notice: Window | None = None
    claim_latest: Window | None = None
    notes: str = ""


@dataclass(frozen=True)
class DetectionSettings:
    """Thresholds of the detection rules."""

    lost_quiet_business_days_domestic: int
    lost_quiet_business_days_international: int
    lost_past_expected_business_days: int
    lost_p_lost_threshold: float
    failed_attempts_exhausted: int
    dnr_min_days_after_delivery: int
    warn_days_before_last_day: int
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClaimRules:
    """The whole rules file."""

    checked: date
    detection: DetectionSettings
    carriers: dict[str, CarrierRules]
    sdr_rates: dict[str, Decimal] = field(default_factory=dict)
    sdr_checked: date | None = None

    def for_carrier(self, carrier: str) -> CarrierRules:
        """A carrier's rules; an unknown carrier gets no windows and no cap (staff decide)."""
        return self.carriers.get(carrier) or CarrierRules(carrier, Liability(), ())

    def cap(self, carrier: str, currency: str | None, weight_kg: Decimal | None) -> Decimal | None:
        """The carrier's default liability in `currency`, or None when it cannot be computed here."""
        liability = self.for_carrier(carrier).liability
        if liability.amount is not None:
            if liability.currency == currency:
                return liability.amount
            return self._convert(liability.amount, liability.currency, currency)
        if liability.sdr_per_kg is not None and weight_kg is not None and currency in self.sdr_rates:
            return (liability.sdr_per_kg * weight_kg * self.sdr_rates[currency]).quantize(Decimal("0.01"))
        return None

    def _convert(self, amount: Decimal, source: str | None, target: str | None) -> Decimal | None:
        if source in self.sdr_rates and target in self.sdr_rates:
            return (amount / self.sdr_rates[source] * self.sdr_rates[target]).quantize(Decimal("0.01"))
        return None


def _window(raw: dict | None, where: str) -> Window | None:
    if raw is None:
        return None
    if raw.get("after") not in ANCHORS:
        raise RulesError(f"{where}: 'after' must be one of {', '.join(ANCHORS)}")
    unknown = set(raw) - {"after", "days", "hours", "business_days"}
    if unknown:
        raise RulesError(f"{where}: unknown keys {sorted(unknown)}")
    return Window(**raw)


def _carrier(code: str, raw: dict) -> CarrierRules:
    where = f"carriers.{code}"
    try:
        liability = raw.get("liability", {})
        return CarrierRules(
            carrier=code,
            liability=Liability(
                amount=Decimal(str(liability["amount"])) if "amount" in liability else None,
                currency=liability.get("currency"),
                sdr_per_kg=Decimal(str(liability["sdr_per_kg"])) if "sdr_per_kg" in liability else None,
            ),
            sources=tuple(raw["sources"]),
            lost_earliest=_window(raw.get("lost_earliest"), f"{where}.lost_earliest"),
            lost_latest=_window(raw.get("lost_latest"), f"{where}.lost_latest"),
            damage_notice=_window(raw.get("damage_notice"), f"{where}.damage_notice"),
            claim_latest=_window(raw.get("claim_latest"), f"{where}.claim_latest"),
            notes=raw.get("notes", ""),
        )
    except KeyError as missing:
        raise RulesError(f"{where}: missing {missing}") from None


def parse_rules(text: str) -> ClaimRules:
    """Parse a rules file; RulesError names what is wrong."""
    try:
        raw = tomllib.loads(text)
        detection = DetectionSettings(
            **{**raw["detection"], "sources": tuple(raw["detection"].get("sources", ()))}
        )
        sdr = raw.get("sdr", {})
        return ClaimRules(
            checked=date.fromisoformat(raw["checked"]),
            detection=detection,
            carriers={code: _carrier(code, value) for code, value in raw.get("carriers", {}).items()},
            sdr_rates={k: Decimal(str(v)) for k, v in sdr.get("rates", {}).items()},
            sdr_checked=date.fromisoformat(sdr["checked"]) if "checked" in sdr else None,
        )
    except (tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as error:
        if isinstance(error, RulesError):
            raise
        raise RulesError(f"claim rules: {error}") from None


@lru_cache(maxsize=4)
def load_rules(path: str | None = None) -> ClaimRules:
    """The rules from `path` (default: the shipped file), parsed once per process."""
    return parse_rules(Path(path or DEFAULT_RULES_FILE).read_text(encoding="utf-8"))
