"""The arrival window in words, shared by the tracking page and the messages.

Days when the window spans days ("on Thursday or Friday", "between Thursday and Saturday"), whole hours
only on the day itself ("today between 14:00 and 16:00"), and how sure we are ("very likely", "likely",
"uncertain") from the chance that the parcel arrives inside the window as shown, in the customer's
language and time zone. Each language's phrases are written for that language, not translated word for
word. Messages pass no `now`: they may be read days later, so they name dated days and never say
"today" or "tomorrow".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date

VERY_LIKELY_FROM = 0.9
LIKELY_FROM = 0.6
NEAR_DAYS = 6  # within the coming week a weekday name alone is unambiguous
MIN_GAP = timedelta(minutes=1)  # keeps the distribution's slopes finite when quantiles coincide
#: a day further away than NEAR_DAYS (and every day in a message), per language
DAY_PATTERNS = {"en": "EEEE d MMMM", "nb": "EEEE d. MMMM", "da": "EEEE 'den' d. MMMM", "th": "EEEEที่ d MMMM"}


class Sureness(StrEnum):
    """How sure we are that the parcel arrives inside the window as shown."""

    VERY_LIKELY = "very_likely"
    LIKELY = "likely"
    UNCERTAIN = "uncertain"


@dataclass(frozen=True)
class Phrases:
    """One language's words; `{…}` are filled in, `None` as a sentence key means "sureness unknown"."""

    today: str
    tomorrow: str
    on: str  # a named day on its own: "on {day}"
    either: str  # two days in a row
    between: str  # three days or more
    hours: str  # a time window today
    hour: str  # a whole hour, from its number
    midnight: str
    sentences: dict[Sureness | None, str]
    late: str  # the window has passed and the parcel has not arrived


PHRASES = {
    "en": Phrases(
        today="today",
        tomorrow="tomorrow",
        on="on {day}",
        either="{first} or {second}",
        between="between {first} and {last}",
        hours="{day} between {start} and {end}",
        hour="{:02d}:00",
        midnight="midnight",
        sentences={
            Sureness.VERY_LIKELY: "Your parcel is very likely to arrive {when}.",
            Sureness.LIKELY: "Your parcel is likely to arrive {when}.",
            Sureness.UNCERTAIN: "Your parcel may arrive {when}, but this is uncertain.",
            None: "The carrier expects to deliver your parcel {when}.",
        },
        late="Your parcel is taking longer than we expected. "
        "We will update the estimate as soon as the carrier tells us more.",
    ),
    "nb": Phrases(
        today="i dag",
        tomorrow="i morgen",
        on="{day}",
        either="{first} eller {second}",
        between="mellom {first} og {last}",
        hours="{day} mellom kl. {start} og {end}",
        hour="{}",
        midnight="24",
        sentences={
            Sureness.VERY_LIKELY: "Pakken din kommer nesten helt sikkert {when}.",
            Sureness.LIKELY: "Pakken din kommer trolig {when}.",
            Sureness.UNCERTAIN: "Pakken din kan komme {when}, men det er usikkert.",
            None: "Transportøren regner med å levere pakken din {when}.",
        },
        late="Pakken din bruker lengre tid enn vi regnet med. "
        "Vi oppdaterer anslaget så snart transportøren vet mer.",
    ),
    "da": Phrases(
        today="i dag",
        tomorrow="i morgen",
        on="{day}",
        either="{first} eller {second}",
        between="mellem {first} og {last}",
        hours="{day} mellem kl. {start} og {end}",
        hour="{}",
        midnight="24",
        sentences={
            Sureness.VERY_LIKELY: "Din pakke er næsten helt sikkert fremme {when}.",
            Sureness.LIKELY: "Din pakke er sandsynligvis fremme {when}.",
            Sureness.UNCERTAIN: "Din pakke er måske fremme {when}, men det er usikkert.",
            None: "Fragtfirmaet forventer at levere din pakke {when}.",
        },
        late="Din pakke er længere undervejs, end vi regnede med. "
        "Vi opdaterer vores skøn, så snart fragtfirmaet ved mere.",
    ),
    "th": Phrases(
        today="วันนี้",
        tomorrow="พรุ่งนี้",
        on="{day}",
        either="{first} หรือ{second}",
        between="ระหว่าง{first} ถึง{last}",
        hours="{day} ระหว่างเวลา {start}–{end} น.",
        hour="{:02d}.00",
        midnight="24.00",
        sentences={
            Sureness.VERY_LIKELY: "มีโอกาสสูงมากที่พัสดุของคุณจะถึง{when}",
            Sureness.LIKELY: "พัสดุของคุณน่าจะถึง{when}",
            Sureness.UNCERTAIN: "พัสดุของคุณอาจถึง{when} แต่ยังไม่แน่นอน",
            None: "บริษัทขนส่งคาดว่าจะนำส่งพัสดุของคุณ{when}",
        },
        late="พัสดุของคุณใช้เวลานานกว่าที่เราคาดไว้ เราจะปรับเวลาที่คาดว่าจะถึงทันทีที่บริษัทขนส่งแจ้งข้อมูลเพิ่มเติม",
    ),
}


@dataclass(frozen=True)
class Arrival:
    """The window in words: `when` completes "arrives …" (None once the window has passed)."""

    when: str | None
    sentence: str
    sureness: Sureness | None
    probability: float | None


Cdf = Callable[[datetime], float]


def describe_arrival(
    start: date | datetime,
    end: date | datetime,
    *,
    locale: str,
    zone: ZoneInfo,
    now: datetime | None = None,
    cdf: Cdf | None = None,
) -> Arrival:
    """Word the window `start`..`end` for a reader in `zone` speaking `locale` (a Babel locale).

    With `now` (the tracking page) days near today are "today", "tomorrow" or a weekday, a window
    inside today shows whole hours, and a window already past says so. `cdf` (P(arrived by t)) gives
    the sureness; without it the window is the carrier's own estimate.
    """
    words = PHRASES[Locale.parse(locale).language]
    today = now.astimezone(zone).date() if now else None
    first, last = _local_day(start, zone), _local_day(end, zone)
    if now and (end < now if isinstance(end, datetime) else last < today):
        return Arrival(when=None, sentence=words.late, sureness=None, probability=None)
    if today:
        first = max(first, today)
    if isinstance(start, datetime) and first == last == today:
        opens = _floor_hour(max(start, now).astimezone(zone))
        closes = _ceil_hour(end.astimezone(zone))
        ends = words.midnight if closes.date() > today else words.hour.format(closes.hour)
        when = words.hours.format(day=words.today, start=words.hour.format(opens.hour), end=ends)
    else:
        opens = datetime.combine(first, time(), zone)
        closes = datetime.combine(last + timedelta(days=1), time(), zone)
        when = _days(words, first, last, today, locale)
    probability = _chance(cdf, opens, closes, now) if cdf else None
    sureness = sureness_of(probability) if probability is not None else None
    return Arrival(when, words.sentences[sureness].format(when=when), sureness, probability)


def sureness_of(probability: float) -> Sureness:
    """The words for a chance of arriving inside the window."""
    if probability >= VERY_LIKELY_FROM:
        return Sureness.VERY_LIKELY
    if probability >= LIKELY_FROM:
        return Sureness.LIKELY
    return Sureness.UNCERTAIN


def arrival_cdf(p10: datetime, p50: datetime | None, p90: datetime, p_lost: float = 0.0) -> Cdf:
    """P(arrived by t) from the predicted 10/50/90 % times: linear between them, the tails continuing
    the neighbouring slopes, and never above the chance the parcel is not lost."""
    low = p10.timestamp()
    mid = max((p50 or p10 + (p90 - p10) / 2).timestamp(), low + MIN_GAP.total_seconds())
    high = max(p90.timestamp(), mid + MIN_GAP.total_seconds())
    found = 1.0 - (p_lost or 0.0)

    def cdf(moment: datetime) -> float:
        t = moment.timestamp()
        p = 0.1 + 0.4 * (t - low) / (mid - low) if t <= mid else 0.5 + 0.4 * (t - mid) / (high - mid)
        return found * min(max(p, 0.0), 1.0)

    return cdf


def _chance(cdf: Cdf, opens: datetime, closes: datetime, now: datetime | None) -> float:
    """P(opens ≤ arrival < closes), given that the parcel has not arrived by `now`."""
    if now is None:
        return cdf(closes) - cdf(opens)
    waiting = 1.0 - cdf(now)
    if waiting <= 0:
        return 0.0
    return max(cdf(closes) - cdf(max(opens, now)), 0.0) / waiting


def _days(words: Phrases, first: date, last: date, today: date | None, locale: str) -> str:
    a, a_relative = _day(words, first, today, locale)
    if first == last:
        return a if a_relative else words.on.format(day=a)
    b, _ = _day(words, last, today, locale)
    if last - first == timedelta(days=1):
        return words.either.format(first=a if a_relative else words.on.format(day=a), second=b)
    return words.between.format(first=a, last=b)


def _day(words: Phrases, day: date, today: date | None, locale: str) -> tuple[str, bool]:
    """A day's name and whether it is relative ("today", "tomorrow")."""
    if today is not None:
        if day == today:
            return words.today, True
        if day == today + timedelta(days=1):
            return words.tomorrow, True
        if (day - today).days <= NEAR_DAYS:
            return format_date(day, "EEEE", locale=locale), False
    return format_date(day, DAY_PATTERNS[Locale.parse(locale).language], locale=locale), False


def _local_day(value: date | datetime, zone: ZoneInfo) -> date:
    return value.astimezone(zone).date() if isinstance(value, datetime) else value


def _floor_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def _ceil_hour(moment: datetime) -> datetime:
    floor = _floor_hour(moment)
    return floor if floor == moment else floor + timedelta(hours=1)
