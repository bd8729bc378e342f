"""What changed about the arrival estimate, in one sentence, shared by the tracking page and the messages.

"Our estimate has moved one day later: the carrier reported a delay in Trondheim." The move is counted in
the customer's days; the reason is said only when we know it (a carrier's delay, weather or customs event,
a failed attempt, a silence longer than the lane's usual). Each language's phrases are written for that
language, not translated word for word. Only the page, which knows today, says "now today".
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from babel import Locale


class Cause(StrEnum):
    """Why the estimate moved, as far as we know."""

    DELAY = "delay"
    WEATHER = "weather"
    CUSTOMS = "customs"
    FAILED_ATTEMPT = "failed_attempt"
    NO_SCAN = "no_scan"


@dataclass(frozen=True)
class ChangePhrases:
    """One language's words: `(one, many)` forms of a move, sentences, and each cause with/without a place."""

    later: tuple[str, str]
    earlier: tuple[str, str]
    numbers: tuple[str, ...]  # 2, 3, … in words; further counts as digits
    moved: str
    moved_because: str
    today: str
    causes: dict[Cause, tuple[str, str]]


PHRASES = {
    "en": ChangePhrases(
        later=("one day later", "{n} days later"),
        earlier=("one day earlier", "{n} days earlier"),
        numbers=("two", "three", "four", "five", "six", "seven"),
        moved="Our estimate has moved {move}.",
        moved_because="Our estimate has moved {move}: {why}.",
        today="Your parcel is now expected today.",
        causes={
            Cause.DELAY: ("the carrier reported a delay in {place}", "the carrier reported a delay"),
            Cause.WEATHER: ("bad weather held it up in {place}", "bad weather held it up"),
            Cause.CUSTOMS: ("it is being held at customs in {place}", "it is being held at customs"),
            Cause.FAILED_ATTEMPT: ("a delivery attempt in {place} failed", "a delivery attempt failed"),
            Cause.NO_SCAN: (
                "the carrier has not scanned it for longer than usual",
                "the carrier has not scanned it for longer than usual",
            ),
        },
    ),
    "nb": ChangePhrases(
        later=("én dag senere", "{n} dager senere"),
        earlier=("én dag tidligere", "{n} dager tidligere"),
        numbers=("to", "tre", "fire", "fem", "seks", "sju"),
        moved="Anslaget vårt er flyttet {move}.",
        moved_because="Anslaget vårt er flyttet {move}: {why}.",
        today="Nå venter vi pakken din i dag.",
        causes={
            Cause.DELAY: (
                "transportøren meldte om forsinkelse i {place}",
                "transportøren meldte om forsinkelse",
            ),
            Cause.WEATHER: ("dårlig vær holdt den igjen i {place}", "dårlig vær holdt den igjen"),
            Cause.CUSTOMS: ("den holdes tilbake i tollen i {place}", "den holdes tilbake i tollen"),
            Cause.FAILED_ATTEMPT: ("et leveringsforsøk i {place} mislyktes", "et leveringsforsøk mislyktes"),
            Cause.NO_SCAN: (
                "transportøren har ikke skannet den på lengre tid enn vanlig",
                "transportøren har ikke skannet den på lengre tid enn vanlig",
            ),
        },
    ),
    "da": ChangePhrases(
        later=("én dag senere", "{n} dage senere"),
        earlier=("én dag tidligere", "{n} dage tidligere"),
        numbers=("to", "tre", "fire", "fem", "seks", "syv"),
        moved="Vores skøn er rykket {move}.",
        moved_because="Vores skøn er rykket {move}: {why}.",
        today="Nu forventer vi din pakke i dag.",
        causes={
            Cause.DELAY: (
                "fragtfirmaet meldte om forsinkelse i {place}",
                "fragtfirmaet meldte om forsinkelse",
            ),
            Cause.WEATHER: ("dårligt vejr holdt den tilbage i {place}", "dårligt vejr holdt den tilbage"),
            Cause.CUSTOMS: ("den er tilbageholdt i tolden i {place}", "den er tilbageholdt i tolden"),
            Cause.FAILED_ATTEMPT: (
                "et leveringsforsøg i {place} mislykkedes",
                "et leveringsforsøg mislykkedes",
            ),
            Cause.NO_SCAN: (
                "fragtfirmaet har ikke scannet den i længere tid end normalt",
                "fragtfirmaet har ikke scannet den i længere tid end normalt",
            ),
        },
    ),
    "th": ChangePhrases(
        later=("เลื่อนออกไป 1 วัน", "เลื่อนออกไป {n} วัน"),
        earlier=("เร็วขึ้น 1 วัน", "เร็วขึ้น {n} วัน"),
        numbers=(),
        moved="เวลาที่เราคาดว่าพัสดุจะถึง{move}",
        moved_because="เวลาที่เราคาดว่าพัสดุจะถึง{move} เนื่องจาก{why}",
        today="ตอนนี้เราคาดว่าพัสดุของคุณจะถึงวันนี้",
        causes={
            Cause.DELAY: ("บริษัทขนส่งแจ้งว่าเกิดความล่าช้าที่ {place}", "บริษัทขนส่งแจ้งว่าเกิดความล่าช้า"),
            Cause.WEATHER: ("สภาพอากาศไม่ดีทำให้พัสดุล่าช้าที่ {place}", "สภาพอากาศไม่ดีทำให้พัสดุล่าช้า"),
            Cause.CUSTOMS: ("พัสดุอยู่ระหว่างการตรวจของศุลกากรที่ {place}", "พัสดุอยู่ระหว่างการตรวจของศุลกากร"),
            Cause.FAILED_ATTEMPT: ("การนำส่งที่ {place} ไม่สำเร็จ", "การนำส่งไม่สำเร็จ"),
            Cause.NO_SCAN: (
                "บริษัทขนส่งไม่ได้สแกนพัสดุนานกว่าปกติ",
                "บริษัทขนส่งไม่ได้สแกนพัสดุนานกว่าปกติ",
            ),
        },
    ),
}


def describe_change(
    days: int,
    *,
    locale: str,
    cause: Cause | str | None = None,
    place: str = "",
    now_today: bool = False,
) -> str | None:
    """One sentence for an estimate that moved `days` (later > 0, earlier < 0); None when it did not.

    `now_today` (the page only: messages may be read days later) says the parcel is now expected today.
    """
    words = PHRASES[Locale.parse(locale).language]
    if now_today:
        return words.today
    if days == 0:
        return None
    one, many = words.later if days > 0 else words.earlier
    count = abs(days)
    move = one if count == 1 else many.format(n=_number(words, count))
    if not cause:
        return words.moved.format(move=move)
    with_place, without = words.causes[Cause(cause)]
    why = with_place.format(place=place) if place else without
    return words.moved_because.format(move=move, why=why)


def place_name(location: str) -> str:
    """The town of a carrier's location text: `"7093 TILLER, NO"` → `"Tiller"`, `"NASHVILLE, TN, US"` →
    `"Nashville"`; carriers' capitals are softened, mixed case is kept."""
    first = location.split(",")[0].strip()
    parts = first.split()
    if len(parts) > 1 and any(ch.isdigit() for ch in parts[0]):
        first = " ".join(parts[1:])
    return first.title() if first.isupper() else first


def _number(words: ChangePhrases, count: int) -> str:
    index = count - 2
    return words.numbers[index] if 0 <= index < len(words.numbers) else str(count)
