"""Messages per channel: weekly volume, failures and opt-outs.

volume     outbox rows created in the range, per channel and week of creation
delivered  of those, rows sent (or captured where the channel is not configured)
failed     rows that ended dead (permanent failure or retries spent)
retried    send attempts that failed and were retried
opt-outs   unsubscribes recorded in the range, per channel (they name no carrier: the carrier filter does
           not apply to them)
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import case, func, select

from app.analytics.delivery import shipment_scope
from app.analytics.filters import Filters, share
from app.analytics.sql import week_number
from app.extensions import db
from app.models import DeliveryAttempt, Notification, Shipment, Unsubscribe
from app.models.notification import OutboxState

_DELIVERED = (OutboxState.SENT.value, OutboxState.CAPTURED.value)


@dataclass(frozen=True)
class ChannelFigures:
    """One channel's messages in the range."""

    channel: str
    messages: int
    delivered: int
    failed: int
    retried_attempts: int
    opt_outs: int

    @property
    def failure_rate(self) -> float | None:
        """Dead ÷ messages."""
        return share(self.failed, self.messages)

    @property
    def opt_out_rate(self) -> float | None:
        """Opt-outs ÷ messages."""
        return share(self.opt_outs, self.messages)


def _scope(filters: Filters) -> list:
    where = [Notification.created_at >= filters.start, Notification.created_at < filters.end]
    if filters.shop_id is not None:
        where.append(Notification.shop_id == filters.shop_id)
    return where


def _scoped(query, filters: Filters):
    """Limit to the carrier's shipments when a carrier is chosen (rows without a shipment drop out)."""
    if filters.carrier is None:
        return query
    return query.join(Shipment, Shipment.id == Notification.shipment_id).where(*shipment_scope(filters))


def weekly_volume(filters: Filters) -> dict[tuple[int, str], int]:
    """Messages per (week, channel)."""
    week = week_number(Notification.created_at).label("week")
    query = select(week, Notification.channel, func.count()).where(*_scope(filters))
    rows = db.session.execute(_scoped(query, filters).group_by(week, Notification.channel))
    return {(int(w), channel): n for w, channel, n in rows}


def channel_figures(filters: Filters) -> list[ChannelFigures]:
    """Messages, deliveries, failures, retries and opt-outs per channel."""
    query = select(
        Notification.channel,
        func.count(),
        func.sum(case((Notification.state.in_(_DELIVERED), 1), else_=0)),
        func.sum(case((Notification.state == OutboxState.DEAD.value, 1), else_=0)),
    ).where(*_scope(filters))
    counts = {
        channel: (n, int(ok or 0), int(dead or 0))
        for channel, n, ok, dead in db.session.execute(_scoped(query, filters).group_by(Notification.channel))
    }
    retry_query = (
        select(Notification.channel, func.count())
        .select_from(DeliveryAttempt)
        .join(Notification, Notification.id == DeliveryAttempt.notification_id)
        .where(*_scope(filters), DeliveryAttempt.outcome == "retry")
    )
    retried = dict(db.session.execute(_scoped(retry_query, filters).group_by(Notification.channel)).all())
    opt_query = select(Unsubscribe.channel, func.count()).where(
        Unsubscribe.created_at >= filters.start, Unsubscribe.created_at < filters.end
    )
    if filters.shop_id is not None:
        opt_query = opt_query.where(Unsubscribe.shop_id == filters.shop_id)
    opt_outs = dict(db.session.execute(opt_query.group_by(Unsubscribe.channel)).all())
    merged: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for channel, values in counts.items():
        merged[channel] = list(values)
    return [
        ChannelFigures(channel, *merged[channel], retried.get(channel, 0), opt_outs.get(channel, 0))
        for channel in sorted(set(merged) | set(opt_outs))
    ]
