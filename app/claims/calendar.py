"""The filing calendar: from a carrier's windows and a shipment's dates, when a claim may be filed and by
when it must be (and when staff are warned)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from app.claims.rules import CarrierRules, Window
from app.models import ClaimKind, Shipment

# Which window bounds which kind of claim (the first one the carrier's terms define wins).
_LATEST_WINDOWS = {
    ClaimKind.LOST: ("lost_latest", "claim_latest"),
    ClaimKind.NOT_RECEIVED: ("lost_latest", "claim_latest"),
    ClaimKind.DAMAGED: ("damage_notice", "claim_latest"),
    ClaimKind.MISSING_CONTENTS: ("damage_notice", "claim_latest"),
    ClaimKind.WRONG_ITEM: ("damage_notice", "claim_latest"),
    ClaimKind.REFUSED: ("claim_latest", "lost_latest"),
    ClaimKind.RETURNED: ("claim_latest", "lost_latest"),
    ClaimKind.FAILED_DELIVERY: ("claim_latest", "lost_latest"),
}


@dataclass(frozen=True)
class FilingWindow:
    """When a claim may be filed, and by when it must be."""

    earliest: datetime | None
    latest: datetime | None


def anchors(shipment: Shipment, zone: ZoneInfo) -> dict[str, datetime | None]:
    """The moments windows count from: handed over, expected (the last instant of the promised day, local),
    last scan, delivered."""
    expected_day: date | None = shipment.promised_date or shipment.carrier_eta
    expected = datetime.combine(expected_day, time.max, tzinfo=zone).astimezone(UTC) if expected_day else None
    return {
        "ship": shipment.shipped_at or shipment.created_at,
        "expected_delivery": expected,
        "last_scan": shipment.last_event_at,
        "delivery": shipment.delivered_at,
    }


def _end(
    window: Window | None, moments: dict, zone: ZoneInfo, countries: tuple[str, ...], *, closing: bool
) -> datetime | None:
    if window is None or moments.get(window.after) is None:
        return None
    return window.from_anchor(moments[window.after], zone, countries, closing=closing)


def filing_window(kind: ClaimKind, shipment: Shipment, carrier: CarrierRules, zone: ZoneInfo) -> FilingWindow:
    """The window of a claim of `kind` about `shipment` under `carrier`'s terms."""
    moments = anchors(shipment, zone)
    countries = tuple(c for c in (shipment.origin_country, shipment.destination_country) if c)
    earliest = (
        _end(carrier.lost_earliest, moments, zone, countries, closing=False)
        if kind is ClaimKind.LOST
        else None
    )
    latest = next(
        (
            end
            for name in _LATEST_WINDOWS[kind]
            if (end := _end(getattr(carrier, name), moments, zone, countries, closing=True)) is not None
        ),
        None,
    )
    return FilingWindow(earliest=earliest, latest=latest)
