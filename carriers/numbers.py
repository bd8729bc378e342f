"""Which carrier a tracking number belongs to (check digits where the format has them); valid test numbers."""

from __future__ import annotations

import re
from collections.abc import Callable

S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)
S10_COUNTRIES = {
    "NO": "bring",
    "SE": "postnord",
    "DK": "postnord",
    "FI": "postnord",
    "TH": "thailandpost",
    "US": "usps",
}
# GS1 company prefixes of the SSCC (after the extension digit): Norway 70, Sweden 73, Denmark 57.
SSCC_COUNTRIES = {"70": "bring", "73": "postnord", "57": "postnord"}


def s10_check_digit(serial: str) -> int:
    """UPU S10 check digit of the 8-digit serial."""
    remainder = 11 - sum(int(d) * w for d, w in zip(serial, S10_WEIGHTS, strict=True)) % 11
    return {10: 0, 11: 5}.get(remainder, remainder)


def mod10_check_digit(digits: str) -> int:
    """GS1 / USPS IMpb mod-10 check digit (weights 3,1 from the right)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return (10 - total % 10) % 10


def ups_check_digit(body: str) -> int:
    """UPS 1Z check digit over the 15 characters after `1Z` (letters folded to digits)."""
    values = [int(c) if c.isdigit() else (ord(c) - 63) % 10 for c in body]
    total = sum(v * (2 if i % 2 else 1) for i, v in enumerate(values))
    return (10 - total % 10) % 10


def fedex_check_digit(digits: str) -> int:
    """FedEx Express 12-digit check digit (weights 1,3,7 from the right, mod 11, mod 10)."""
    weights = (1, 3, 7)
    total = sum(int(d) * weights[i % 3] for i, d in enumerate(reversed(digits)))
    return total % 11 % 10


def dhl_check_digit(digits: str) -> int:
    """DHL Express 10-digit waybill check digit (mod 7)."""
    return int(digits) % 7


def _rules(number: str) -> list[tuple[str, int]]:
    """(carrier, confidence) pairs: 2 = check digit verified, 1 = format only."""
    found: list[tuple[str, int]] = []
    if re.fullmatch(r"1Z[0-9A-Z]{16}", number) and ups_check_digit(number[2:17]) == int(number[17]):
        found.append(("ups", 2))
    s10 = re.fullmatch(r"[A-Z]{2}(\d{8})(\d)([A-Z]{2})", number)
    if s10 and s10_check_digit(s10.group(1)) == int(s10.group(2)) and s10.group(3) in S10_COUNTRIES:
        found.append((S10_COUNTRIES[s10.group(3)], 2))
    if not number.isdigit():
        return found
    length = len(number)
    valid_mod10 = mod10_check_digit(number[:-1]) == int(number[-1])
    if length in (20, 22) and valid_mod10:
        found.append(("usps", 2))
    if length in (18, 20) and valid_mod10:
        sscc = number[-18:]
        if sscc[1:3] in SSCC_COUNTRIES:
            found.append((SSCC_COUNTRIES[sscc[1:3]], 2))
    if length == 12 and fedex_check_digit(number[:11]) == int(number[11]):
        found.append(("fedex", 2))
    if length == 15 and valid_mod10:
        found.append(("fedex", 2))
    if length == 10 and dhl_check_digit(number[:9]) == int(number[9]):
        found.append(("dhl", 2))
    if length in (11, 12) and valid_mod10:
        found.append(("gls", 2))
    return found


def normalise_number(number: str) -> str:
    """A tracking number as we store and compare it: no whitespace, upper case."""
    return "".join(number.split()).upper()


def detect_carriers(tracking_number: str) -> list[str]:
    """Candidate carriers for a number, best first (empty when no format matches)."""
    number = normalise_number(tracking_number)
    ranked = sorted(_rules(number), key=lambda pair: -pair[1])
    return list(dict.fromkeys(carrier for carrier, _ in ranked))


def _s10(prefix: str, country: str) -> Callable[[int], str]:
    return lambda n: f"{prefix}{n % 10**8:08d}{s10_check_digit(f'{n % 10**8:08d}')}{country}"


def _with_mod10(stem: Callable[[int], str]) -> Callable[[int], str]:
    return lambda n: stem(n) + str(mod10_check_digit(stem(n)))


def _fedex(n: int) -> str:
    stem = f"7{n % 10**10:010d}"
    return stem + str(fedex_check_digit(stem))


def _ups(n: int) -> str:
    body = f"999AA101{n % 10**7:07d}"
    return f"1Z{body}{ups_check_digit(body)}"


def _dhl(n: int) -> str:
    stem = f"{n % 10**9:09d}"
    return stem + str(dhl_check_digit(stem))


MAKERS: dict[str, Callable[[int], str]] = {
    "bring": _s10("CE", "NO"),
    "postnord": _s10("UA", "SE"),
    "thailandpost": _s10("EY", "TH"),
    "usps": _with_mod10(lambda n: f"9400111{n % 10**14:014d}"),
    "ups": _ups,
    "fedex": _fedex,
    "dhl": _dhl,
    "gls": _with_mod10(lambda n: f"{n % 10**10:010d}"),
}
ATTEMPTS = 10


def make_tracking_number(carrier: str, seq: int) -> str:
    """A valid number for `carrier`, distinct per `seq`, chosen so that detection names only that carrier."""
    try:
        make = MAKERS[carrier]
    except KeyError:
        raise ValueError(f"no number format for carrier {carrier!r}") from None
    for attempt in range(ATTEMPTS):
        number = make(seq * ATTEMPTS + attempt)
        if detect_carriers(number) == [carrier]:
            return number
    return make(seq * ATTEMPTS)
