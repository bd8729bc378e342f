"""What changed since this browser last looked at the parcel: the tracking page remembers, per parcel,
the arrival day it showed and when, in a signed cookie that holds no personal data (a hash of the link
token, a date and a time) and is sent only to tracking pages. The next visit words the difference with
`notifications.change.describe_change`, the same wording the delay and back-on-track messages use.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Response, after_this_request, current_app, request
from itsdangerous import BadSignature, URLSafeSerializer

from app.models import Shipment
from app.notify.estimate_change import estimate_day, move_since
from notifications.change import describe_change
from notifications.render import LOCALES

COOKIE = "leveranse_seen"
COOKIE_PATH = "/t/"
SALT = "tracking-seen"
MAX_PARCELS = 20  # parcels remembered per browser
KEEP = timedelta(days=90)

Seen = dict[str, list]  # parcel key -> [ISO day shown or None, POSIX seconds of the visit]


def what_changed(
    shipment: Shipment, language: str, zone: ZoneInfo, now: datetime, *, shown: bool
) -> str | None:
    """The change since this browser's last visit in one sentence (None on a first visit or when nothing
    moved), and remember what this visit shows: the arrival day when `shown`, else nothing."""
    seen = _read()
    key = _parcel_key(shipment)
    day = estimate_day(shipment, zone) if shown else None
    sentence = None
    previous = seen.get(key)
    if day is not None and previous and previous[0]:
        before, visited = date.fromisoformat(previous[0]), datetime.fromtimestamp(previous[1], UTC)
        move = move_since(shipment, before, visited, zone)
        if move is not None:
            today = now.astimezone(zone).date()
            sentence = describe_change(
                move.days,
                locale=LOCALES[language],
                cause=move.cause,
                place=move.place,
                now_today=move.day == today,
            )
    seen.pop(key, None)
    seen[key] = [day.isoformat() if day else None, int(now.timestamp())]
    _remember(dict(list(seen.items())[-MAX_PARCELS:]))
    return sentence


def _parcel_key(shipment: Shipment) -> str:
    # A hash of the link token: the cookie names no shipment, and a new token forgets the old visits.
    return hashlib.sha256(shipment.link_token.encode()).hexdigest()[:16]


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def _read() -> Seen:
    raw = request.cookies.get(COOKIE)
    if not raw:
        return {}
    try:
        seen = _serializer().loads(raw)
    except BadSignature:
        return {}
    if not isinstance(seen, dict):
        return {}
    return {
        key: value
        for key, value in seen.items()
        if isinstance(value, list) and len(value) == 2 and isinstance(value[1], int)
    }


def _remember(seen: Seen) -> None:
    value = _serializer().dumps(seen)

    @after_this_request
    def _set_cookie(response: Response) -> Response:
        response.set_cookie(
            COOKIE,
            value,
            max_age=int(KEEP.total_seconds()),
            path=COOKIE_PATH,
            secure=current_app.config["SESSION_COOKIE_SECURE"],
            httponly=True,
            samesite="Lax",
        )
        return response
