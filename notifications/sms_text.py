"""SMS length accounting (GSM-7 vs UCS-2 segments) and graceful shortening to a segment budget."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import StrEnum

_GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_THAI_LEADING_VOWELS = "\u0e40\u0e41\u0e42\u0e43\u0e44"  # written before their consonant
_GSM_EXTENDED = set("^{}\\[~]|€\f")  # cost two septets each (escape + char)
# Typography that Babel and translators produce but that would force the whole SMS into UCS-2.
_TYPOGRAPHY = str.maketrans(
    {
        "\u2013": "-",
        "\u2014": "-",
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2026": "...",
        "\u00a0": " ",
        "\u202f": " ",
        "\u2009": " ",
    }
)


class SmsEncoding(StrEnum):
    """How an SMS body is carried."""

    GSM7 = "gsm7"
    UCS2 = "ucs2"


@dataclass(frozen=True)
class SmsLength:
    """Size of an SMS body: its encoding, length in encoding units and number of segments."""

    encoding: SmsEncoding
    units: int
    segments: int


def fold_typography(text: str) -> str:
    """Replace typographic punctuation and special spaces by their GSM-7 equivalents."""
    return text.translate(_TYPOGRAPHY)


def measure_sms(text: str) -> SmsLength:
    """Count GSM-7 septets (extension characters cost two) or UCS-2 code units and segments."""
    if all(c in _GSM_BASIC or c in _GSM_EXTENDED for c in text):
        units = sum(2 if c in _GSM_EXTENDED else 1 for c in text)
        single, multi, encoding = 160, 153, SmsEncoding.GSM7
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, multi, encoding = 70, 67, SmsEncoding.UCS2
    segments = 1 if units <= single else -(-units // multi)
    return SmsLength(encoding, units, segments)


def fits_sms(text: str, max_segments: int) -> bool:
    """True when the text fits in at most `max_segments` segments."""
    return measure_sms(text).segments <= max_segments


def shorten_sms(text: str, suffix: str, max_segments: int) -> str:
    """Return `text + suffix`, cutting `text` (at a word or cluster boundary, with an ellipsis) to fit.

    The suffix (typically " <tracking link>") is never cut; ValueError if it cannot fit with any text.
    """
    if fits_sms(text + suffix, max_segments):
        return text + suffix
    ellipsis = "..." if measure_sms(text + suffix).encoding is SmsEncoding.GSM7 else "\u2026"
    low, high = 0, len(text)
    while low < high:  # longest prefix that still fits
        mid = (low + high + 1) // 2
        if fits_sms(text[:mid] + ellipsis + suffix, max_segments):
            low = mid
        else:
            high = mid - 1
    cut = _clean_cut(text, low)
    if not cut:
        raise ValueError(f"SMS suffix of {len(suffix)} characters leaves no room for text")
    return cut + ellipsis + suffix


def _clean_cut(text: str, end: int) -> str:
    """Back off to a word boundary when the text has one nearby, never splitting a combining cluster."""
    prefix = text[:end]
    space = prefix.rfind(" ")
    if end < len(text) and text[end] != " " and space >= end * 2 // 3:
        prefix = prefix[:space]
    else:
        # Thai has no spaces: never leave a base character without its vowel or tone marks.
        while prefix and len(prefix) < len(text) and unicodedata.category(text[len(prefix)]) == "Mn":
            prefix = prefix[:-1]
    return prefix.rstrip(" ,.;:-" + _THAI_LEADING_VOWELS)
