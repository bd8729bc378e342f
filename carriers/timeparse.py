"""Every timestamp format the carriers send, parsed into aware datetimes (and dates) once."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

from carriers.errors import MalformedPayload

UTC = UTC
_OFFSET = re.compile(r"(?:([+-])(\d{1,2}):?(\d{2})|Z)$", re.IGNORECASE)
_SLASHED = re.compile(
    r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?\s*([+-]\d{1,2}:?\d{2}|Z)?$"
)
BUDDHIST_ERA_OFFSET = 543

# Main zone per country (alpha-2 and alpha-3): enough for the carriers' home markets and big lanes.
_COUNTRY_ZONES = {
    ("NO", "NOR"): "Europe/Oslo",
    ("SE", "SWE"): "Europe/Stockholm",
    ("DK", "DNK"): "Europe/Copenhagen",
    ("FI", "FIN"): "Europe/Helsinki",
    ("IS", "ISL"): "Atlantic/Reykjavik",
    ("DE", "DEU"): "Europe/Berlin",
    ("NL", "NLD"): "Europe/Amsterdam",
    ("BE", "BEL"): "Europe/Brussels",
    ("FR", "FRA"): "Europe/Paris",
    ("GB", "GBR"): "Europe/London",
    ("IE", "IRL"): "Europe/Dublin",
    ("ES", "ESP"): "Europe/Madrid",
    ("PT", "PRT"): "Europe/Lisbon",
    ("IT", "ITA"): "Europe/Rome",
    ("AT", "AUT"): "Europe/Vienna",
    ("CH", "CHE"): "Europe/Zurich",
    ("PL", "POL"): "Europe/Warsaw",
    ("CZ", "CZE"): "Europe/Prague",
    ("HU", "HUN"): "Europe/Budapest",
    ("EE", "EST"): "Europe/Tallinn",
    ("LV", "LVA"): "Europe/Riga",
    ("LT", "LTU"): "Europe/Vilnius",
    ("US", "USA"): "America/New_York",
    ("CA", "CAN"): "America/Toronto",
    ("MX", "MEX"): "America/Mexico_City",
    ("BR", "BRA"): "America/Sao_Paulo",
    ("CN", "CHN"): "Asia/Shanghai",
    ("HK", "HKG"): "Asia/Hong_Kong",
    ("JP", "JPN"): "Asia/Tokyo",
    ("KR", "KOR"): "Asia/Seoul",
    ("TH", "THA"): "Asia/Bangkok",
    ("SG", "SGP"): "Asia/Singapore",
    ("IN", "IND"): "Asia/Kolkata",
    ("AE", "ARE"): "Asia/Dubai",
    ("AU", "AUS"): "Australia/Sydney",
    ("NZ", "NZL"): "Pacific/Auckland",
}
COUNTRY_ZONES = {code: zone for codes, zone in _COUNTRY_ZONES.items() for code in codes}
#: alpha-2 and alpha-3 country codes → alpha-2 (PostNord reports alpha-3)
COUNTRY_ALPHA2 = {code: codes[0] for codes in _COUNTRY_ZONES for code in codes}

_US_STATE_ZONES = {
    "America/Chicago": "AL AR IA IL KS LA MN MO MS ND NE OK SD TN TX WI",
    "America/Denver": "CO MT NM UT WY ID",
    "America/Phoenix": "AZ",
    "America/Los_Angeles": "CA NV OR WA",
    "America/Anchorage": "AK",
    "Pacific/Honolulu": "HI",
    "America/Puerto_Rico": "PR VI",
}
US_STATE_ZONES = {state: zone for zone, states in _US_STATE_ZONES.items() for state in states.split()}


def zone_for(country: str | None, default: str, state: str | None = None) -> ZoneInfo:
    """The IANA zone for a country (alpha-2 or alpha-3, plus US state), else the carrier's default."""
    country = (country or "").strip().upper()
    state = (state or "").strip().upper()
    if country in ("", "US", "USA") and state in US_STATE_ZONES:
        return ZoneInfo(US_STATE_ZONES[state])
    return ZoneInfo(COUNTRY_ZONES.get(country, default))


def _normalise_offset(text: str) -> str:
    """`Z`, `+0200`, `-7:00` → `+00:00`, `+02:00`, `-07:00` (what fromisoformat wants)."""
    match = _OFFSET.search(text)
    if not match:
        return text
    if not match.group(1):
        return text[: match.start()] + "+00:00"
    sign, hours, minutes = match.groups()
    return f"{text[: match.start()]}{sign}{int(hours):02d}:{minutes}"


def _offset_tz(text: str) -> tzinfo:
    """A fixed offset from `+07:00`, `+0700`, `-7:00` or `Z`."""
    match = re.fullmatch(r"([+-])(\d{1,2}):?(\d{2})", text.strip())
    if text.strip().upper() == "Z":
        return UTC
    if not match:
        raise MalformedPayload(f"unparseable UTC offset {text!r}")
    sign = -1 if match.group(1) == "-" else 1
    return timezone(sign * timedelta(hours=int(match.group(2)), minutes=int(match.group(3))))


def parse_iso(text: str, zone: tzinfo) -> tuple[datetime, bool]:
    """ISO 8601 with any offset style; a naive value is local to `zone` (second item True = assumed)."""
    raw = str(text).strip()
    # A bare date-time ending in an offset-like "-07" is a date, so only normalise when a time is present.
    value = _normalise_offset(raw) if "T" in raw or " " in raw else raw
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise MalformedPayload(f"unparseable timestamp {raw!r}") from exc
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=zone), True
    return parsed, False


def parse_compact(day: str, clock: str, zone: tzinfo) -> datetime:
    """UPS `YYYYMMDD` + `HHMMSS` (or `HH:MM:SS`) in the given zone."""
    digits = re.sub(r"\D", "", str(clock)).ljust(6, "0")
    try:
        return datetime.strptime(f"{str(day).strip()}{digits[:6]}", "%Y%m%d%H%M%S").replace(tzinfo=zone)
    except ValueError as exc:
        raise MalformedPayload(f"unparseable date/time {day!r} {clock!r}") from exc


def parse_slashed(text: str, zone: tzinfo) -> tuple[datetime, bool]:
    """Thailand Post `dd/MM/yyyy HH:mm[:ss]+07:00`, Buddhist-era years (> 2400) converted."""
    match = _SLASHED.match(str(text).strip())
    if not match:
        raise MalformedPayload(f"unparseable timestamp {text!r}")
    day, month, year, hour, minute, second, offset = match.groups()
    year_ce = int(year) - BUDDHIST_ERA_OFFSET if int(year) > 2400 else int(year)
    tz = _offset_tz(offset) if offset else zone
    try:
        parsed = datetime(year_ce, int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0))
    except ValueError as exc:
        raise MalformedPayload(f"invalid date {text!r}") from exc
    return parsed.replace(tzinfo=tz), offset is None


def with_offset(moment: datetime, offset: str) -> datetime:
    """Express an aware instant in the carrier-given local offset (`-05:00`, `-7:00`)."""
    return moment.astimezone(_offset_tz(offset))


def local_with_offset(naive_text: str, offset: str) -> datetime:
    """A zone-less local time plus a separately sent offset (USPS `eventTimestamp` + `GMTOffset`)."""
    parsed, _ = parse_iso(naive_text, UTC)
    return parsed.replace(tzinfo=_offset_tz(offset))


def parse_date(text: object) -> date | None:
    """A calendar date from ISO, `YYYYMMDD`, `dd.MM.yyyy` or `dd/MM/yyyy`; None when absent or invalid.

    Used for estimates, where a bad value must not cost the whole update. The date is taken as written
    (local), never shifted through UTC.
    """
    if not isinstance(text, str) or not text.strip():
        return None
    raw = text.strip()
    patterns = (
        (r"^(\d{4})-(\d{2})-(\d{2})", "ymd"),
        (r"^(\d{4})(\d{2})(\d{2})$", "ymd"),
        (r"^(\d{1,2})[./](\d{1,2})[./](\d{4})", "dmy"),
    )
    for pattern, order in patterns:
        match = re.match(pattern, raw)
        if match:
            a, b, c = (int(part) for part in match.groups())
            year, month, day = (a, b, c) if order == "ymd" else (c, b, a)
            if year > 2400:
                year -= BUDDHIST_ERA_OFFSET
            try:
                return date(year, month, day)
            except ValueError:
                return None
    return None


def to_utc_if_naive(text: str) -> datetime | None:
    """A zone-less value that the carrier documents as UTC (AfterShip `shipment_delivery_date`)."""
    try:
        return parse_iso(text, UTC)[0]
    except MalformedPayload:
        return None
