"""How good the predictions were on our own finished shipments: delay warnings, the at-risk queue,
calibration of p_late and the ETA, overall, by carrier and by ISO week.

A shipment counts once it is delivered (`delivered_at` set, a promised date known). It was late when it
was delivered after the end of its promised day in the customer's time zone. p_late, the ETA and the risk
state on the shipment are overwritten on every re-score; the prediction history (PredictionChange, a row
whenever they move) gives the first prediction and whether the parcel was ever in the queue (see
`LIMITATIONS`).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from statistics import median
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app
from sqlalchemy import ColumnElement, DateTime, func, select, type_coerce
from sqlalchemy.orm import InstrumentedAttribute

from app.extensions import db
from app.models import Notification, PredictionChange, Shipment, Shop
from app.models.notification import OutboxState
from app.notify.enqueue import CUSTOMER_CHANNELS
from app.risk.queue import at_risk_query
from carriers.model import ACTIVE_STATUSES
from notifications.model import Trigger
from planning.prediction.data import AT_RISK_STATES

CALIBRATION_BINS = 10
# Rows that never reached (and never will reach) the customer: a bad address, or an unsubscribe.
NOT_TOLD = (OutboxState.DEAD.value, OutboxState.CANCELLED.value)
LIMITATIONS = (
    "Only delivered shipments with a promised date are scored; returned, cancelled and expired parcels are"
    " not delay outcomes.",
    "A warning is the first predicted_delay outbox row on a customer channel (email or SMS) that was not"
    " dead or cancelled; its created_at is when the customer was warned (quiet hours may delay the send).",
    "Calibration and ETA error are given twice: on the last p_late, ETA and p10-p90 stored before delivery,"
    " often made late in the journey (see median hours from last score to delivery), and on the first"
    " one in the prediction history (usually at registration or the first scan), the honest figure for"
    " what the customer was shown early.",
    "'In the queue' means the prediction history shows the shipment at_risk, late, stuck or lost before"
    " delivery, or a predicted_delay or stuck outbox row (any channel) was written for it, or its last"
    " stored p_lost was at or above the lost threshold (the staff analytics page, which does not read the"
    " history, uses only the last two).",
)


@dataclass(frozen=True)
class Outcome:
    """One delivered shipment, what we told and predicted about it, and when it was due."""

    shipment_id: int
    carrier: str
    deadline: datetime  # the end of the promised day in the customer's zone, UTC
    delivered_at: datetime
    first_warned_at: datetime | None = None
    flagged: bool = False  # ever in the at-risk queue, as far as can be told
    p_late: float | None = None
    eta_p10: datetime | None = None
    eta_p50: datetime | None = None
    eta_p90: datetime | None = None
    scored_at: datetime | None = None

    @property
    def late(self) -> bool:
        """Delivered after the end of the promised day."""
        return self.delivered_at >= self.deadline

    @property
    def warned(self) -> bool:
        """A delay warning was written before delivery."""
        return self.first_warned_at is not None and self.first_warned_at <= self.delivered_at


UTC_ZONE = ZoneInfo("UTC")


@lru_cache(maxsize=512)
def _zone(name: str | None) -> ZoneInfo | None:
    try:
        return ZoneInfo(name) if name else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


def deadline_of(promised: date, zone: ZoneInfo) -> datetime:
    """The end of the promised day in `zone` (midnight after it), as aware UTC."""
    return datetime.combine(promised + timedelta(days=1), time(0), zone).astimezone(UTC)


def iso_week(moment: datetime) -> str:
    """The ISO week of a UTC instant, as 2026-W48."""
    year, week, _ = moment.astimezone(UTC).isocalendar()
    return f"{year}-W{week:02d}"


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def warning_counts(delivered: int, late: int, warned: int, hits: int) -> dict:
    """Delivered, late, warned and warned-and-late counts with the warnings' precision and recall."""
    return {
        "delivered": delivered,
        "late": late,
        "warned": warned,
        "warned_and_late": hits,
        "precision": _share(hits, warned),
        "recall": _share(hits, late),
    }


def warning_figures(outcomes: Sequence[Outcome]) -> dict:
    """Precision and recall of delay warnings, and the lead time (hours before the deadline) of true ones.

    The median lead is over the warnings that were predictions, given before the promise ended; a parcel
    first seen (or first told) after that is counted apart, as `told_after_deadline`.
    """
    late = sum(o.late for o in outcomes)
    warned = [o for o in outcomes if o.warned]
    hits = [o for o in warned if o.late]
    leads = [(o.deadline - o.first_warned_at).total_seconds() / 3600 for o in hits]
    ahead = [lead for lead in leads if lead > 0]
    return {
        **warning_counts(len(outcomes), late, len(warned), len(hits)),
        "lead_time_hours_median": round(median(ahead), 2) if ahead else None,
        "warned_before_deadline_share": _share(len(ahead), len(hits)),
        "told_after_deadline": len(hits) - len(ahead),
    }


def queue_figures(outcomes: Sequence[Outcome]) -> dict:
    """How many delivered shipments had been in the at-risk queue, and the share of those that were late."""
    flagged = [o for o in outcomes if o.flagged]
    late = sum(o.late for o in outcomes)
    hits = sum(o.late for o in flagged)
    return {
        "flagged": len(flagged),
        "flagged_share": _share(len(flagged), len(outcomes)),
        "precision": _share(hits, len(flagged)),
        "recall": _share(hits, late),
    }


def calibration(outcomes: Sequence[Outcome], bins: int = CALIBRATION_BINS) -> dict:
    """Reliability table of p_late in equal-width bins and the ECE (bin-size-weighted mean |observed − p|)."""
    return calibration_table([(o.p_late, o.late) for o in outcomes if o.p_late is not None], bins)


def calibration_table(scored: Sequence[tuple[float, bool]], bins: int = CALIBRATION_BINS) -> dict:
    """`calibration` of (p_late, late) pairs."""
    groups: dict[int, list[tuple[float, bool]]] = defaultdict(list)
    for pair in scored:
        groups[min(int(pair[0] * bins), bins - 1)].append(pair)
    table, ece = [], 0.0
    for b in range(bins):
        rows = groups.get(b, [])
        mean_p = sum(p for p, _ in rows) / len(rows) if rows else None
        observed = sum(late for _, late in rows) / len(rows) if rows else None
        if rows:
            ece += len(rows) * abs(observed - mean_p)
        table.append(
            {
                "bin": f"{b / bins:.1f}–{(b + 1) / bins:.1f}",
                "n": len(rows),
                "mean_p_late": None if mean_p is None else round(mean_p, 4),
                "observed_late": None if observed is None else round(observed, 4),
            }
        )
    return {"n": len(scored), "ece": round(ece / len(scored), 4) if scored else None, "table": table}


def eta_figures(outcomes: Sequence[Outcome]) -> dict:
    """ETA p50 absolute error (hours, days) and the share delivered inside p10–p90, on the last prediction."""
    before = [
        (o.delivered_at - o.scored_at).total_seconds() / 3600
        for o in outcomes
        if o.scored_at is not None and o.scored_at <= o.delivered_at
    ]
    return {
        **eta_accuracy([(o.delivered_at, o.eta_p10, o.eta_p50, o.eta_p90) for o in outcomes]),
        "last_score_hours_before_delivery_median": round(median(before), 2) if before else None,
    }


def eta_accuracy(rows: Sequence[tuple[datetime, datetime | None, datetime | None, datetime | None]]) -> dict:
    """`eta_figures` but the last score's age, of (delivered_at, eta_p10, eta_p50, eta_p90) rows."""
    with_eta = [row for row in rows if row[2] is not None]
    errors = [abs((delivered - p50).total_seconds()) / 3600 for delivered, _, p50, _ in with_eta]
    band = [row for row in with_eta if row[1] is not None and row[3] is not None]
    inside = sum(p10 <= delivered <= p90 for delivered, p10, _, p90 in band)
    mae = sum(errors) / len(errors) if errors else None
    return {
        "n": len(with_eta),
        "mae_hours": None if mae is None else round(mae, 2),
        "mae_days": None if mae is None else round(mae / 24, 3),
        "p10_p90_coverage": _share(inside, len(band)),
    }


def summarise(outcomes: Sequence[Outcome], *, table: bool = False) -> dict:
    """Every figure for one group of outcomes (the reliability table only when asked for)."""
    calib = calibration(outcomes)
    return {
        "warnings": warning_figures(outcomes),
        "queue": queue_figures(outcomes),
        "calibration": calib if table else {"n": calib["n"], "ece": calib["ece"]},
        "eta": eta_figures(outcomes),
    }


def _grouped(outcomes: Iterable[Outcome], key: Callable[[Outcome], str]) -> dict[str, dict]:
    groups: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        groups[key(o)].append(o)
    return {name: summarise(groups[name]) for name in sorted(groups)}


def build_report(outcomes: Sequence[Outcome]) -> dict:
    """Overall (with the reliability table), by carrier and by ISO week of delivery."""
    return {
        "overall": summarise(outcomes, table=True),
        "by_carrier": _grouped(outcomes, lambda o: o.carrier),
        "by_week": _grouped(outcomes, lambda o: iso_week(o.delivered_at)),
    }


def _delivered_filter(since: date | None, until: date | None, shop_id: int | None) -> list:
    where = [
        Shipment.delivered_at.is_not(None),
        Shipment.promised_date.is_not(None),
        Shipment.deleted_at.is_(None),
    ]
    if shop_id is not None:
        where.append(Shipment.shop_id == shop_id)
    if since is not None:
        where.append(Shipment.delivered_at >= datetime.combine(since, time(0), UTC))
    if until is not None:
        where.append(Shipment.delivered_at < datetime.combine(until + timedelta(days=1), time(0), UTC))
    return where


def stored_utc(column: ColumnElement | InstrumentedAttribute) -> ColumnElement:
    """`column` read as the stored naive UTC value, skipping UTCDateTime's per-value Python step."""
    return type_coerce(column, DateTime())


def _aware(value: datetime | None) -> datetime | None:
    return None if value is None else value.replace(tzinfo=UTC)


@lru_cache(maxsize=8192)
def utc_deadline(promised: date, timezone: str | None, shop_zone: ZoneInfo | None) -> datetime:
    """The deadline of a promised day (see `deadline_of`) in the customer's zone, else the shop's, else
    UTC, as naive UTC."""
    return deadline_of(promised, _zone(timezone) or shop_zone or UTC_ZONE).replace(tzinfo=None)


def shop_zones() -> dict[int, ZoneInfo | None]:
    """Every shop's default time zone (None where unset or unknown), the fallback for the customer's."""
    return {
        shop_id: _zone(name) for shop_id, name in db.session.execute(select(Shop.id, Shop.default_timezone))
    }


def alerts_where(where: list) -> tuple[set[int], dict[int, datetime]]:
    """Of the shipments matching `where`: those with a delay or stuck message (any channel, any state),
    and the first delay warning (naive UTC) of those whose customer was told."""
    alerted: set[int] = set()
    first_warned: dict[int, datetime] = {}
    messages = db.session.execute(
        select(
            Notification.shipment_id,
            Notification.trigger,
            Notification.channel,
            Notification.state,
            stored_utc(Notification.created_at),
        ).where(
            Notification.shipment_id.in_(select(Shipment.id).where(*where)),
            Notification.trigger.in_([Trigger.PREDICTED_DELAY.value, Trigger.STUCK.value]),
        )
    )
    for shipment_id, trigger, channel, state, created in messages:
        alerted.add(shipment_id)
        warning = trigger == Trigger.PREDICTED_DELAY.value and channel in CUSTOMER_CHANNELS
        if (
            warning
            and state not in NOT_TOLD
            and (shipment_id not in first_warned or created < first_warned[shipment_id])
        ):
            first_warned[shipment_id] = created
    return alerted, first_warned


def delivered_rows(where: list, *columns: Any) -> list[tuple]:
    """`columns` of the shipments matching `where`, in id order (the order sums of floats are made in), read
    through the session's connection: plain tuples, skipping the ORM's row handling and its autoflush."""
    db.session.flush()
    return db.session.connection().execute(select(*columns).where(*where).order_by(Shipment.id)).all()


def outcomes_where(where: list, *, lost_p_lost: float) -> list[Outcome]:
    """The shipments matching `where` (delivered, with a promised date) as outcomes, read as plain column
    tuples (the report's loader: 20,000 outcomes in about 0.2 s)."""
    alerted, first_warned = alerts_where(where)
    zones = shop_zones()
    rows = delivered_rows(
        where,
        Shipment.id,
        Shipment.carrier,
        Shipment.shop_id,
        Shipment.customer_timezone,
        Shipment.promised_date,
        stored_utc(Shipment.delivered_at),
        Shipment.p_late,
        Shipment.p_lost,
        stored_utc(Shipment.eta_p10),
        stored_utc(Shipment.eta_p50),
        stored_utc(Shipment.eta_p90),
        stored_utc(Shipment.risk_computed_at),
    )
    outcomes = []
    for (
        shipment_id,
        carrier,
        shop_id,
        timezone,
        promised,
        delivered,
        p_late,
        p_lost,
        p10,
        p50,
        p90,
        scored,
    ) in rows:
        flagged = shipment_id in alerted or (p_lost is not None and p_lost >= lost_p_lost)
        outcomes.append(
            Outcome(
                shipment_id,
                carrier,
                utc_deadline(promised, timezone, zones.get(shop_id)).replace(tzinfo=UTC),
                delivered.replace(tzinfo=UTC),
                _aware(first_warned.get(shipment_id)),
                flagged,
                p_late,
                _aware(p10),
                _aware(p50),
                _aware(p90),
                _aware(scored),
            )
        )
    return outcomes


def queue_now(shop_id: int | None = None) -> dict:
    """The share of the open book (active shipments, of one shop or all) in the at-risk queue right now."""
    open_book = [Shipment.deleted_at.is_(None), Shipment.status.in_(sorted(ACTIVE_STATUSES))]
    if shop_id is not None:
        open_book.append(Shipment.shop_id == shop_id)
    active = db.session.scalar(select(func.count()).select_from(Shipment).where(*open_book))
    queued = db.session.scalar(
        select(func.count()).select_from(at_risk_query(shop_id).order_by(None).subquery())
    )
    warned_open = db.session.scalar(
        select(func.count(func.distinct(Notification.shipment_id)))
        .join(Shipment, Shipment.id == Notification.shipment_id)
        .where(
            *open_book,
            Notification.trigger == Trigger.PREDICTED_DELAY.value,
            Notification.channel.in_(CUSTOMER_CHANNELS),
            Notification.state.not_in(NOT_TOLD),
        )
    )
    return {
        "active": active,
        "in_queue": queued,
        "share": _share(queued, active),
        "warned_awaiting_outcome": warned_open,
    }


_QUEUE_STATES = tuple(state.value for state in AT_RISK_STATES)


def with_history(outcomes: Sequence[Outcome], where: list) -> tuple[list[Outcome], list[Outcome]]:
    """The outcomes with their queue flag completed from the prediction history (at risk before delivery),
    and the same outcomes as of their first stored prediction (for calibration and ETA at the start)."""
    first: dict[int, tuple] = {}
    queued: set[int] = set()
    changes = db.session.execute(
        select(
            PredictionChange.shipment_id,
            stored_utc(PredictionChange.recorded_at),
            PredictionChange.p_late,
            stored_utc(PredictionChange.eta_p10),
            stored_utc(PredictionChange.eta_p50),
            stored_utc(PredictionChange.eta_p90),
            PredictionChange.risk_state,
        )
        .where(PredictionChange.shipment_id.in_(select(Shipment.id).where(*where)))
        .order_by(PredictionChange.shipment_id, PredictionChange.recorded_at, PredictionChange.id)
    )
    delivered = {o.shipment_id: o.delivered_at.replace(tzinfo=None) for o in outcomes}
    for shipment_id, at, p_late, p10, p50, p90, state in changes:
        if at > delivered.get(shipment_id, at):
            continue
        first.setdefault(shipment_id, (at, p_late, p10, p50, p90))
        if state in _QUEUE_STATES:
            queued.add(shipment_id)
    completed = [replace(o, flagged=True) if o.shipment_id in queued else o for o in outcomes]
    at_start = [
        replace(
            o, p_late=p, eta_p10=_aware(p10), eta_p50=_aware(p50), eta_p90=_aware(p90), scored_at=_aware(at)
        )
        for o in completed
        if o.shipment_id in first
        for at, p, p10, p50, p90 in [first[o.shipment_id]]
    ]
    return completed, at_start


def risk_report(since: date | None = None, until: date | None = None, shop_id: int | None = None) -> dict:
    """The whole report from the database (one shop's, or all shops'): figures on delivered shipments, the
    same at their first stored prediction, the queue now, the caveats."""
    where = _delivered_filter(since, until, shop_id)
    outcomes, at_start = with_history(
        outcomes_where(
            where,
            lost_p_lost=current_app.config["RISK_LOST_P_LOST"],
        ),
        where,
    )
    calib = calibration(at_start)
    return {
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
        **build_report(outcomes),
        "at_first_score": {"calibration": calib, "eta": eta_figures(at_start)},
        "queue_now": queue_now(shop_id),
        "limitations": list(LIMITATIONS),
    }


def format_share(value: float | None) -> str:
    """0.8123 → '81.2 %', None → '–' (for the page and the CLI)."""
    return "–" if value is None or math.isnan(value) else f"{value * 100:.1f} %"
