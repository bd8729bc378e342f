"""Placing checkout addresses: the configured geocoder behind a cache table (found and not-found answers)."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from app.database import insert_ignoring_conflicts
from app.extensions import db
from app.models import GeocodeCache
from app.models.types import utcnow
from planning.geo import Address, Geocoder, GeocoderSettings, Place, Point, make_geocoder

_EXTENSION_KEY = "leveranse_geocoder"


def geocoder_settings() -> GeocoderSettings:
    """The geocoder settings from config."""
    config = current_app.config
    return GeocoderSettings(
        url=config["GEOCODER_URL"],
        user_agent=config["GEOCODER_USER_AGENT"],
        min_delay_seconds=config["GEOCODER_MIN_DELAY_SECONDS"],
        timeout_seconds=config["GEOCODER_TIMEOUT_SECONDS"],
    )


def current_geocoder() -> Geocoder:
    """This process's geocoder (its rate limiter is shared by all requests), rebuilt if config changed."""
    settings = geocoder_settings()
    cached = current_app.extensions.get(_EXTENSION_KEY)
    if cached is None or cached[0] != settings:
        cached = (settings, make_geocoder(settings))
        current_app.extensions[_EXTENSION_KEY] = cached
    return cached[1]


def locate(address: Address) -> Place | None:
    """Where the address is (None when the geocoder does not know it); asks the geocoder once per address.

    Raises planning.geo.GeocodingError when the geocoder cannot be reached. Adds the cache row; the
    caller commits.
    """
    key = hashlib.sha256(address.key().encode()).hexdigest()
    fresh_after = utcnow() - timedelta(days=current_app.config["GEOCODE_CACHE_DAYS"])
    cached = db.session.scalar(select(GeocodeCache).where(GeocodeCache.key == key))
    if cached is not None and cached.created_at >= fresh_after:
        return Place(Point(cached.lat, cached.lon), cached.label) if cached.found else None
    place = current_geocoder()(address)
    row = {
        "key": key,
        "query": address.text(),
        "found": place is not None,
        "lat": place.point.lat if place else None,
        "lon": place.point.lon if place else None,
        "label": place.label if place else "",
        "created_at": utcnow(),
    }
    if cached is not None:
        for name, value in row.items():
            setattr(cached, name, value)
    else:
        insert_ignoring_conflicts(GeocodeCache, [row])
    return place
