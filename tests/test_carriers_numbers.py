"""Carrier detection from tracking numbers, and generated numbers for demos and tests."""

from __future__ import annotations

import pytest

from carriers.numbers import detect_carriers, make_tracking_number
from carriers.registry import CARRIERS


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("1Z999AA10123456784", ["ups"]),
        ("1Z999AA10123456785", []),
        ("ED852942182TH", ["thailandpost"]),
        ("ed 852 942 182 th", ["thailandpost"]),
        ("CE000000005NO", ["bring"]),
        ("UA000000005SE", ["postnord"]),
        ("9400111000000000000002", ["usps"]),
        ("370438101015432213", ["bring"]),
        ("373570123456789011", ["postnord"]),
        ("370438101015432217", []),
        ("0000000103", ["dhl"]),
        ("0000000104", []),
        ("hello", []),
    ],
)
def test_detect(number: str, expected: list[str]) -> None:
    assert detect_carriers(number) == expected


@pytest.mark.parametrize("carrier", sorted(CARRIERS))
def test_made_numbers_are_valid_distinct_and_unambiguous(carrier: str) -> None:
    numbers = [make_tracking_number(carrier, seq) for seq in range(300)]
    assert len(set(numbers)) == 300
    assert all(detect_carriers(number) == [carrier] for number in numbers)


def test_make_unknown_carrier() -> None:
    with pytest.raises(ValueError, match="pigeon"):
        make_tracking_number("pigeon", 1)
