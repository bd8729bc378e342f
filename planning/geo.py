"""Geocoding through geopy, and travel times and distances between points (haversine at a road speed)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import numpy as np
from geopy.exc import GeocoderServiceError, GeopyError
from geopy.extra.rate_limiter import RateLimiter
from geopy.geocoders import Nominatim

from planning.routing.model import Matrix

EARTH_KM = 6371.0


class GeocodingError(RuntimeError):
    """The geocoder could not be asked (unreachable, timed out, refused): try again later."""


@dataclass(frozen=True)
class Point:
    """A WGS84 position in degrees."""

    lat: float
    lon: float


@dataclass(frozen=True)
class Address:
    """A postal address as a shop sends it; `country` is ISO 3166-1 alpha-2."""

    street: str
    postcode: str
    city: str
    country: str

    def key(self) -> str:
        """A normalised form for caching: case and whitespace do not make a different address."""
        parts = (self.street, self.postcode.replace(" ", ""), self.city, self.country)
        return "|".join(" ".join(part.lower().split()) for part in parts)

    def text(self) -> str:
        """The address on one line."""
        return f"{self.street}, {self.postcode} {self.city}, {self.country.upper()}"


@dataclass(frozen=True)
class Place:
    """Where the geocoder put an address."""

    point: Point
    label: str


@dataclass(frozen=True)
class GeocoderSettings:
    """A Nominatim-compatible service: its base URL, our user agent, politeness delay and timeout."""

    url: str = "https://nominatim.openstreetmap.org"
    user_agent: str = "leveranse/0.1"
    min_delay_seconds: float = 1.0  # Nominatim's usage policy: at most one request per second
    timeout_seconds: float = 3.0


Geocoder = Callable[[Address], Place | None]


def make_geocoder(settings: GeocoderSettings) -> Geocoder:
    """A function placing an address (None when the service knows no such place), rate limited."""
    parts = urlsplit(settings.url)
    nominatim = Nominatim(
        user_agent=settings.user_agent,
        domain=parts.netloc + parts.path.rstrip("/"),
        scheme=parts.scheme or "https",
        timeout=settings.timeout_seconds,
    )
    # Errors must reach the caller (a checkout answers 503), so the limiter neither retries nor swallows.
    limited = RateLimiter(
        nominatim.geocode,
        min_delay_seconds=settings.min_delay_seconds,
        max_retries=0,
        swallow_exceptions=False,
    )

    def geocode(address: Address) -> Place | None:
        query = {"street": address.street, "postalcode": address.postcode, "city": address.city}
        try:
            found = limited(query, country_codes=address.country.lower(), exactly_one=True)
        except (GeocoderServiceError, GeopyError) as error:
            raise GeocodingError(f"geocoder at {settings.url} failed: {error}") from error
        if found is None:
            return None
        return Place(Point(found.latitude, found.longitude), found.address)

    return geocode


def haversine_km(a: Point, b: Point) -> float:
    """Great-circle distance between two points."""
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dp, dl = p2 - p1, math.radians(b.lon - a.lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_KM * math.asin(math.sqrt(min(1.0, h)))


@dataclass(frozen=True)
class TravelModel:
    """Road distance as the great-circle distance times a detour factor, driven at a constant speed."""

    speed_kmh: float = 30.0
    detour_factor: float = 1.3

    def distances_from(self, origin: Point, points: Sequence[Point]) -> np.ndarray:
        """Road kilometres from one point to each of `points`."""
        lat = np.radians([p.lat for p in points])
        lon = np.radians([p.lon for p in points])
        return self._road_km(math.radians(origin.lat), math.radians(origin.lon), lat, lon)

    def matrices(self, points: Sequence[Point]) -> tuple[Matrix, Matrix]:
        """Travel durations (seconds) and road distances (km) between every pair of points."""
        lat = np.radians([p.lat for p in points])
        lon = np.radians([p.lon for p in points])
        km = self._road_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
        return _as_matrix(km * self.seconds_per_km), _as_matrix(km)

    @property
    def seconds_per_km(self) -> float:
        """Driving time per road kilometre."""
        return 3600.0 / self.speed_kmh

    def _road_km(self, lat1, lon1, lat2, lon2) -> np.ndarray:
        h = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
        return 2 * EARTH_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0))) * self.detour_factor


def _as_matrix(values: np.ndarray) -> Matrix:
    return tuple(map(tuple, values.tolist()))
