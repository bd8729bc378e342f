"""A local Nominatim-compatible geocoder on loopback, serving a small generated gazetteer (NO, SE, DK, TH).

Tests and the embedded default geocode against it instead of the internet. The gazetteer is generated
deterministically: each city has postcodes around its centre and a few streets; a house number moves
along its street. Unknown postcodes, cities or streets are not found (an empty answer, like Nominatim).
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from dataclasses import dataclass

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from planning.geo import Address, Point


@dataclass(frozen=True)
class City:
    """A city of the gazetteer: its centre, postcodes and streets."""

    name: str
    country: str
    centre: Point
    postcodes: tuple[str, ...]
    streets: tuple[str, ...]
    radius_km: float = 4.0


def _codes(first: int, count: int, step: int, width: int) -> tuple[str, ...]:
    return tuple(f"{first + k * step:0{width}d}" for k in range(count))


_NORDIC_STREETS = ("Storgata", "Kirkegata", "Parkveien", "Skolegata", "Strandveien", "Bakkegata")
_SE_STREETS = ("Storgatan", "Kyrkogatan", "Parkvägen", "Skolgatan", "Strandvägen", "Drottninggatan")
_DK_STREETS = ("Vestergade", "Østergade", "Kirkevej", "Skolevej", "Strandvejen", "Nørregade")
_TH_STREETS = ("Sukhumvit Road", "Silom Road", "Rama IV Road", "Phahonyothin Road", "Charoen Krung Road")

CITIES: tuple[City, ...] = (
    City("Oslo", "NO", Point(59.9139, 10.7522), _codes(150, 40, 10, 4), _NORDIC_STREETS, 6.0),
    City("Bergen", "NO", Point(60.3913, 5.3221), _codes(5003, 20, 1, 4), _NORDIC_STREETS),
    City("Trondheim", "NO", Point(63.4305, 10.3951), _codes(7010, 20, 1, 4), _NORDIC_STREETS),
    City("Stockholm", "SE", Point(59.3293, 18.0686), _codes(11120, 30, 10, 5), _SE_STREETS, 6.0),
    City("Göteborg", "SE", Point(57.7089, 11.9746), _codes(41101, 20, 1, 5), _SE_STREETS),
    City("København", "DK", Point(55.6761, 12.5683), _codes(1050, 40, 10, 4), _DK_STREETS, 5.0),
    City("Aarhus", "DK", Point(56.1629, 10.2039), _codes(8000, 11, 10, 4), _DK_STREETS),
    City("Bangkok", "TH", Point(13.7563, 100.5018), _codes(10100, 40, 10, 5), _TH_STREETS, 8.0),
    City("Chiang Mai", "TH", Point(18.7883, 98.9853), _codes(50000, 30, 10, 5), _TH_STREETS),
)


def _unit(*parts: str) -> float:
    """A deterministic number in [0, 1) from text."""
    digest = hashlib.sha256("|".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _offset(origin: Point, north_km: float, east_km: float) -> Point:
    lat = origin.lat + north_km / 111.32
    lon = origin.lon + east_km / (111.32 * math.cos(math.radians(origin.lat)))
    return Point(round(lat, 6), round(lon, 6))


def _polar(origin: Point, radius_km: float, *seed: str) -> Point:
    angle, distance = 2 * math.pi * _unit("angle", *seed), radius_km * math.sqrt(_unit("radius", *seed))
    return _offset(origin, distance * math.cos(angle), distance * math.sin(angle))


def _split_street(street: str) -> tuple[str, int | None]:
    """'Storgata 12B' -> ('storgata', 12); a street without a number -> (name, None)."""
    words = street.split()
    if len(words) > 1 and words[-1][:1].isdigit():
        digits = "".join(ch for ch in words[-1] if ch.isdigit())
        return " ".join(words[:-1]).lower(), int(digits) if digits else None
    return " ".join(words).lower(), None


@dataclass(frozen=True)
class Gazetteer:
    """Places addresses of the generated cities."""

    cities: tuple[City, ...] = CITIES

    def place(self, address: Address) -> tuple[Point, str] | None:
        """The point and display name of an address, or None when it is not in the gazetteer."""
        postcode = address.postcode.replace(" ", "")
        for city in self.cities:
            if city.country != address.country.upper() or postcode not in city.postcodes:
                continue
            if address.city and address.city.strip().lower() != city.name.lower():
                return None
            name, number = _split_street(address.street)
            known = {s.lower(): s for s in city.streets}
            if name not in known:
                return None
            area = _polar(city.centre, city.radius_km, city.name, postcode)
            start = _polar(area, 0.8, city.name, postcode, name)
            bearing = 2 * math.pi * _unit("bearing", city.name, name)
            along = 0.012 * (number or 1)  # 12 m per house number
            point = _offset(start, along * math.cos(bearing), along * math.sin(bearing))
            label = f"{known[name]} {number or ''}".strip() + f", {postcode} {city.name}, {city.country}"
            return point, label
        return None

    def addresses(self, city_name: str, count: int, seed: str = "demo") -> list[Address]:
        """`count` addresses of one city, spread over its postcodes and streets (for demos and benches)."""
        city = next(c for c in self.cities if c.name == city_name)
        found = []
        for k in range(count):
            postcode = city.postcodes[int(_unit(seed, "pc", str(k)) * len(city.postcodes))]
            street = city.streets[int(_unit(seed, "st", str(k)) * len(city.streets))]
            number = 1 + int(_unit(seed, "no", str(k)) * 120)
            found.append(Address(f"{street} {number}", postcode, city.name, city.country))
        return found


def _answer(gazetteer: Gazetteer, request: Request) -> Response:
    if request.path.rstrip("/") != "/search":
        return Response("not found", status=404)
    args = request.args
    countries = [c.strip() for c in args.get("countrycodes", "").split(",") if c.strip()]
    results = []
    for country in countries or [c.country for c in gazetteer.cities]:
        address = Address(args.get("street", ""), args.get("postalcode", ""), args.get("city", ""), country)
        found = gazetteer.place(address)
        if found is not None:
            point, label = found
            results.append({"lat": str(point.lat), "lon": str(point.lon), "display_name": label})
            break
    return Response(json.dumps(results), mimetype="application/json")


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """No access log line per request."""


class GeocoderSandbox:
    """Serves the gazetteer as Nominatim's `/search?format=json` on 127.0.0.1 in a daemon thread."""

    def __init__(self, port: int = 0, gazetteer: Gazetteer | None = None) -> None:
        self.gazetteer = gazetteer or Gazetteer()
        self.requests = 0
        self._port = port
        self._server: BaseWSGIServer | None = None

    def _wsgi(self, environ, start_response):
        self.requests += 1
        return _answer(self.gazetteer, Request(environ))(environ, start_response)

    def start(self) -> GeocoderSandbox:
        """Listen and serve; returns once the socket is bound."""
        self._server = make_server(
            "127.0.0.1", self._port, self._wsgi, threaded=True, request_handler=_QuietHandler
        )
        threading.Thread(target=self._server.serve_forever, name="geocoder-sandbox", daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        """Base URL to give as the geocoder URL."""
        if self._server is None:
            raise RuntimeError("geocoder sandbox not started")
        return f"http://127.0.0.1:{self._server.server_port}"

    def __enter__(self) -> GeocoderSandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
