"""Detection: the job that finds failed shipments and opens their claims, with the rule and its evidence.

Rules (thresholds in the claim rules file, `[detection]`):
- lost, `carrier_lost_code`: the carrier itself says lost (UPS 68 / R9 / UO, …) — at once;
- lost, `no_scan`: no scan for N business days (7 domestic / 20 international, in the customer's calendar)
  and the carrier's earliest filing day has come;
- lost, `p_lost`: the prediction's p_lost at or above the threshold and the earliest filing day has come;
- damaged, `carrier_damage_code`: a carrier damage scan (UPS 59, 81, …);
- refused / returned, `refused_by_receiver` / `returned_to_sender`: the parcel is going back;
- failed_delivery, `attempts_exhausted`: N failed delivery attempts without a delivery.
"Delivered but not received", damage and missing contents also come from customer reports (app/claims/reports.py).

One run reads shipments in id batches with a fixed number of queries per batch, never per shipment.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
from flask import current_app
from sqlalchemy import Integer, any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY

from app.claims.calendar import anchors
from app.claims.rules import ClaimRules
from app.claims.service import ClaimCandidate, current_rules, open_claims
from app.database import is_postgresql
from app.extensions import db
from app.models import Claim, ClaimKind, ClaimState, Shipment, Shop, TrackingEvent
from app.models.types import utcnow
from carriers.model import ACTIVE_STATUSES, Reason, Status
from planning.calendar import business_calendar

ACTOR = "system:detector"
UTC_ZONE = ZoneInfo("UTC")
_WATCHED = sorted(ACTIVE_STATUSES | {Status.RETURNED, Status.EXPIRED})
_SILENT_OK = frozenset({Status.AVAILABLE_FOR_PICKUP, Status.RETURNING, Status.RETURNED})
_COLUMNS = (
    Shipment.id,
    Shipment.shop_id,
    Shipment.carrier,
    Shipment.status,
    Shipment.reason,
    Shipment.shipped_at,
    Shipment.created_at,
    Shipment.last_event_at,
    Shipment.promised_date,
    Shipment.carrier_eta,
    Shipment.delivered_at,
    Shipment.origin_country,
    Shipment.destination_country,
    Shipment.customer_timezone,
    Shipment.p_lost,
)


@dataclass
class DetectionStats:
    """What one detection run did."""

    scanned: int = 0
    batches: int = 0
    opened: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def detect_claims(now: datetime | None = None, batch_size: int | None = None) -> DetectionStats:
    """Periodic job: open the claims that today's facts call for, one transaction per batch."""
    now = now or utcnow()
    rules = current_rules()
    batch_size = batch_size or current_app.config["CLAIM_DETECT_BATCH"]
    zones = _shop_zones()
    stats = DetectionStats()
    last_id = 0
    while True:
        batch = (
            select(*_COLUMNS)
            .where(Shipment.id > last_id, Shipment.deleted_at.is_(None), Shipment.status.in_(_WATCHED))
            .order_by(Shipment.id)
            .limit(batch_size)
        )
        # Plain rows through the session's connection: the ORM's per-row loading would double the cost.
        rows = db.session.connection().execute(batch).all()
        if not rows:
            return stats
        last_id = rows[-1].id
        stats.scanned += len(rows)
        stats.batches += 1
        found = candidates_for(rows, rules, zones, now)
        if found:
            shipments = {
                s.id: s
                for s in db.session.scalars(select(Shipment).where(Shipment.id.in_([f[0] for f in found])))
            }
            # Opening a claim looks its shop up twice (filing window, acknowledgement); the identity map
            # answers those without a query only while something holds the shops, so this list does.
            # Without autoflush the batch's audit events and acknowledgements are written together at
            # commit, not flushed one claim at a time by each notification insert.
            shop_ids = {s.shop_id for s in shipments.values()}
            shops = db.session.scalars(select(Shop).where(Shop.id.in_(shop_ids))).all()
            with db.session.no_autoflush:
                opened = open_claims(
                    [
                        ClaimCandidate(shipments[sid], kind, rule, evidence)
                        for sid, kind, rule, evidence in found
                    ],
                    actor=ACTOR,
                    now=now,
                )
            del shops
            for claim in opened:
                stats.opened[claim.rule] += 1
        db.session.commit()


def detect_for(shipments: list[Shipment], now: datetime) -> list[Claim]:
    """The carrier-signal rules for shipments whose status just moved (called from the tracking update path);
    the rules about time passing (silence, p_lost) are the periodic job's."""
    if not shipments:
        return []
    found = candidates_for(shipments, current_rules(), _shop_zones(), now, time_rules=False)
    by_id = {s.id: s for s in shipments}
    return open_claims(
        [ClaimCandidate(by_id[sid], kind, rule, evidence) for sid, kind, rule, evidence in found],
        actor=ACTOR,
        now=now,
    )


def candidates_for(
    rows: list, rules: ClaimRules, zones: dict[int, ZoneInfo], now: datetime, *, time_rules: bool = True
) -> list[tuple[int, ClaimKind, str, dict]]:
    """(shipment id, kind, rule, evidence) for every claim the rows call for and do not have yet."""
    ids = [row.id for row in rows]
    signals = _carrier_signals(ids)
    attempts = _failed_attempts(ids)
    taken = _claimed(ids)
    settings = rules.detection
    quiet = _quiet_enough(rows, settings, zones, now) if time_rules else []
    found = []

    def want(row, kind: ClaimKind, rule: str, evidence: dict) -> None:
        if (row.id, kind) not in taken:
            taken.add((row.id, kind))
            found.append((row.id, kind, rule, evidence))

    for index, row in enumerate(rows):
        seen = signals.get(row.id, {})
        if Reason.DAMAGED in seen:
            want(row, ClaimKind.DAMAGED, "carrier_damage_code", seen[Reason.DAMAGED])
        if row.status in (Status.DELIVERED, Status.CANCELLED):
            continue
        if row.status in (Status.RETURNING, Status.RETURNED):
            if Reason.REFUSED in seen or row.reason == Reason.REFUSED:
                want(
                    row,
                    ClaimKind.REFUSED,
                    "refused_by_receiver",
                    seen.get(Reason.REFUSED, {"status": row.status}),
                )
            else:
                want(row, ClaimKind.RETURNED, "returned_to_sender", {"status": str(row.status)})
            continue
        if attempts.get(row.id, 0) >= settings.failed_attempts_exhausted:
            evidence = {"failed_attempts": attempts[row.id], "threshold": settings.failed_attempts_exhausted}
            want(row, ClaimKind.FAILED_DELIVERY, "attempts_exhausted", evidence)
        if Reason.LOST in seen:
            want(row, ClaimKind.LOST, "carrier_lost_code", seen[Reason.LOST])
            continue
        if row.status in _SILENT_OK or not time_rules:
            continue
        likely_lost = row.p_lost is not None and row.p_lost >= settings.lost_p_lost_threshold
        if quiet[index] is None and not likely_lost:
            continue  # neither time rule fires: the carrier's earliest filing day is not needed
        earliest = _earliest_lost(row, rules, zones)
        if earliest is not None and now < earliest:
            continue
        base = {"earliest_file_at": earliest.isoformat() if earliest else None}
        if quiet[index] is not None:
            want(row, ClaimKind.LOST, "no_scan", base | quiet[index])
        else:
            evidence = base | {"p_lost": row.p_lost, "threshold": settings.lost_p_lost_threshold}
            want(row, ClaimKind.LOST, "p_lost", evidence)
    return found


def _quiet_enough(rows: list, settings, zones: dict[int, ZoneInfo], now: datetime) -> list[dict | None]:
    """Per row: evidence when the last scan is N business days ago in the customer's calendar, else None.

    N business days after the last scan's day (a weekend or holiday scan counts from the business day
    before), the rule fires at the customer's local midnight: numpy's busday arithmetic, one call per
    country pair.
    """
    groups: dict[tuple[tuple[str, ...], int], list[int]] = defaultdict(list)
    scan_days, today = [], []
    today_in: dict[ZoneInfo, date] = {}
    lanes: dict[tuple[str | None, str | None], tuple[tuple[str, ...], int]] = {}
    for index, row in enumerate(rows):
        zone = _zone(row, zones)
        last = row.last_event_at or row.shipped_at or row.created_at
        scan_days.append(last.astimezone(zone).date())
        if zone not in today_in:
            today_in[zone] = now.astimezone(zone).date()
        today.append(today_in[zone])
        lane = (row.origin_country, row.destination_country)
        if lane not in lanes:
            domestic = bool(row.origin_country) and row.origin_country == row.destination_country
            days = (
                settings.lost_quiet_business_days_domestic
                if domestic
                else settings.lost_quiet_business_days_international
            )
            lanes[lane] = (tuple(sorted({c for c in lane if c})), days)
        groups[lanes[lane]].append(index)
    result: list[dict | None] = [None] * len(rows)
    for (countries, days), indexes in groups.items():
        calendar = business_calendar(countries)
        starts = np.array([scan_days[i] for i in indexes], dtype="datetime64[D]")
        fire = np.busday_offset(starts, days, roll="backward", busdaycal=calendar)
        now_days = np.array([today[i] for i in indexes], dtype="datetime64[D]")
        one = np.timedelta64(1, "D")
        quiet = np.busday_count(
            starts + one, now_days + one, busdaycal=calendar
        )  # after the scan day, up to today
        for j in np.flatnonzero(now_days >= fire):  # the few due rows, not a numpy scalar per row
            i = indexes[j]
            result[i] = {
                "last_scan_at": _iso(rows[i].last_event_at),
                "quiet_business_days": int(quiet[j]),
                "threshold_business_days": days,
                "calendar": list(countries),
                "fired_on": str(fire[j]),
            }
    return result


def _earliest_lost(row, rules: ClaimRules, zones: dict[int, ZoneInfo]) -> datetime | None:
    window = rules.for_carrier(row.carrier).lost_earliest
    if window is None:
        return None
    zone = _zone(row, zones)
    moment = anchors(row, zone).get(window.after)
    if moment is None:
        return None
    countries = tuple(c for c in (row.origin_country, row.destination_country) if c)
    return window.from_anchor(moment, zone, countries, closing=False)


def _carrier_signals(ids: list[int]) -> dict[int, dict[Reason, dict]]:
    """The first lost / damaged / refused scan of each shipment: the carrier's own word."""
    rows = db.session.execute(
        select(
            TrackingEvent.shipment_id,
            TrackingEvent.reason,
            TrackingEvent.occurred_at,
            TrackingEvent.carrier_code,
        )
        .where(
            _among(TrackingEvent.shipment_id, ids),
            TrackingEvent.reason.in_([Reason.LOST, Reason.DAMAGED, Reason.REFUSED]),
        )
        .order_by(TrackingEvent.occurred_at)
    )
    signals: dict[int, dict[Reason, dict]] = defaultdict(dict)
    for shipment_id, reason, occurred_at, code in rows:
        signals[shipment_id].setdefault(
            Reason(reason), {"carrier_code": code, "scanned_at": _iso(occurred_at)}
        )
    return signals


def _failed_attempts(ids: list[int]) -> dict[int, int]:
    rows = db.session.execute(
        select(TrackingEvent.shipment_id, func.count())
        .where(_among(TrackingEvent.shipment_id, ids), TrackingEvent.status == Status.FAILED_ATTEMPT)
        .group_by(TrackingEvent.shipment_id)
    )
    return dict(rows.all())


def _claimed(ids: list[int]) -> set[tuple[int, ClaimKind]]:
    """(shipment, kind) pairs with a claim that is open or was resolved (a cancelled one may reopen)."""
    rows = db.session.execute(
        select(Claim.shipment_id, Claim.kind).where(
            _among(Claim.shipment_id, ids), Claim.state != ClaimState.CANCELLED
        )
    )
    return {(shipment_id, ClaimKind(kind)) for shipment_id, kind in rows}


def _among(column, ids: list[int]):
    """`column IN ids`; on PostgreSQL `= ANY(array)`, one parameter instead of thousands to render and parse."""
    if is_postgresql():
        return column == any_(bindparam(None, ids, type_=ARRAY(Integer)))
    return column.in_(ids)


def _shop_zones() -> dict[int, ZoneInfo]:
    return {
        shop_id: _zone_named(name)
        for shop_id, name in db.session.execute(select(Shop.id, Shop.default_timezone))
    }


def _zone(row, zones: dict[int, ZoneInfo]) -> ZoneInfo:
    return _zone_named(row.customer_timezone) if row.customer_timezone else zones.get(row.shop_id, UTC_ZONE)


@lru_cache(maxsize=1024)  # ZoneInfo's own cache keeps only 8 zones strongly: more reload their files
def _zone_named(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name) if name else UTC_ZONE
    except (ZoneInfoNotFoundError, ValueError):
        return UTC_ZONE


def _iso(moment: datetime | date | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if isinstance(moment, datetime) else None
