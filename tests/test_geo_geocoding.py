"""Geocoding through geopy against the local Nominatim-compatible gazetteer, and travel matrices."""

from __future__ import annotations

import math

import pytest

from planning.geo import (
    Address,
    GeocoderSettings,
    GeocodingError,
    Place,
    Point,
    TravelModel,
    haversine_km,
    make_geocoder,
)
from planning.geo_sandbox import GeocoderSandbox

OSLO = Point(59.9139, 10.7522)
BERGEN = Point(60.3913, 5.3221)


@pytest.fixture(scope="module")
def sandbox():
    with GeocoderSandbox() as server:
        yield server


def _geocoder(url: str):
    return make_geocoder(GeocoderSettings(url=url, user_agent="leveranse-tests", min_delay_seconds=0.0))


def test_addresses_are_placed_through_nominatim_protocol(sandbox) -> None:
    geocode = _geocoder(sandbox.url)
    assert geocode(Address("Storgata 12", "0150", "Oslo", "NO")) == Place(
        Point(59.908906, 10.658924), "Storgata 12, 0150 Oslo, NO"
    )
    assert geocode(Address("Vestergade 3", "1050", "København", "DK")) == Place(
        Point(55.661614, 12.57952), "Vestergade 3, 1050 København, DK"
    )
    assert geocode(Address("Silom Road 99", "10100", "Bangkok", "TH")) == Place(
        Point(13.727983, 100.518081), "Silom Road 99, 10100 Bangkok, TH"
    )


def test_unknown_addresses_are_not_found(sandbox) -> None:
    geocode = _geocoder(sandbox.url)
    assert geocode(Address("Nowhere Lane 1", "0150", "Oslo", "NO")) is None
    assert geocode(Address("Storgata 12", "9999", "Oslo", "NO")) is None
    assert geocode(Address("Storgata 12", "0150", "Bergen", "NO")) is None
    assert geocode(Address("Storgata 12", "0150", "Oslo", "SE")) is None


def test_an_unreachable_geocoder_raises_a_geocoding_error() -> None:
    with GeocoderSandbox() as server:
        url = server.url
    with pytest.raises(GeocodingError):
        _geocoder(url)(Address("Storgata 12", "0150", "Oslo", "NO"))


def test_cache_key_ignores_case_and_spacing() -> None:
    assert (
        Address(" Storgata  12", "0 150", "OSLO", "no").key()
        == Address("storgata 12", "0150", "oslo", "NO").key()
    )
    assert (
        Address("Storgata 12", "0150", "Oslo", "NO").key()
        != Address("Storgata 13", "0150", "Oslo", "NO").key()
    )


def test_haversine_oslo_bergen() -> None:
    assert haversine_km(OSLO, BERGEN) == pytest.approx(305.067, abs=0.001)
    assert haversine_km(OSLO, OSLO) == 0.0


def test_travel_matrices_apply_detour_and_speed() -> None:
    travel = TravelModel(speed_kmh=60.0, detour_factor=1.5)
    durations, distances = travel.matrices([OSLO, BERGEN])
    road = 305.0667134 * 1.5
    assert distances[0][0] == 0.0 and distances[1][1] == 0.0
    assert distances[0][1] == pytest.approx(road) and distances[1][0] == pytest.approx(road)
    assert durations[0][1] == pytest.approx(road * 60.0)


def test_distances_from_one_point_equal_a_matrix_row() -> None:
    travel = TravelModel()
    points = [OSLO, BERGEN, Point(63.4305, 10.3951)]
    new = Point(59.3293, 18.0686)
    row = travel.distances_from(new, points).tolist()
    full = travel.matrices([*points, new])[1][3][:3]
    assert all(math.isclose(a, b, abs_tol=1e-9) for a, b in zip(row, full, strict=True))
    assert row[0] == pytest.approx(541.19, abs=0.01)
