"""Which questions a customer sees: the shipped ones of the parcel's topics in the page's language, with
the shop's changes (own wording, order, hidden) and its own questions merged in."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup
from sqlalchemy import bindparam, select

from app.extensions import db
from app.faq.defaults import default_entries
from app.faq.text import answer_html
from app.faq.topics import topics_for
from app.models import FaqEntry, Shipment

_SHOP_ENTRIES = (  # built once: the tracking page asks on every visit
    select(FaqEntry)
    .where(
        FaqEntry.shop_id == bindparam("shop_id"),
        FaqEntry.language == bindparam("language"),
        FaqEntry.topic.in_(bindparam("topics", expanding=True)),
    )
    .order_by(FaqEntry.id)
)


@dataclass(frozen=True)
class FaqItem:
    """One question as shown: a shipped one (`default_key`, perhaps `changed` by the shop) or the shop's own
    (`entry_id` without `default_key`)."""

    topic: str
    question: str
    answer: str
    position: int
    default_key: str | None = None
    entry_id: int | None = None
    changed: bool = False
    hidden: bool = False
    link: str | None = None

    @property
    def answer_html(self) -> Markup:
        """The answer as safe HTML (escaped; paragraphs, line breaks and web links)."""
        return answer_html(self.answer)


def topic_items(
    shop_id: int, language: str, topics: Sequence[str], *, hidden: bool = False
) -> dict[str, list[FaqItem]]:
    """Per topic, its questions in order (hidden shipped ones too when `hidden`), as {topic: [FaqItem]}."""
    parameters = {"shop_id": shop_id, "language": language, "topics": list(topics)}
    rows = db.session.scalars(_SHOP_ENTRIES, parameters).all()
    changes = {(row.topic, row.default_key): row for row in rows if row.default_key is not None}
    found: dict[str, list[FaqItem]] = {}
    for topic in topics:
        items = [
            _shipped(entry, changes.get((topic, entry.key))) for entry in default_entries(topic, language)
        ]
        items += [_own(row) for row in rows if row.topic == topic and row.default_key is None]
        items.sort(key=lambda item: (item.position, item.entry_id is not None, item.entry_id or 0))
        found[topic] = [item for item in items if hidden or not item.hidden]
    return found


def questions_for(shop_id: int, language: str, topics: Sequence[str]) -> list[FaqItem]:
    """The questions of `topics` a customer sees, topic by topic; a question asked twice shows once."""
    seen: set[str] = set()
    shown = []
    for items in topic_items(shop_id, language, topics).values():
        for item in items:
            if item.question not in seen:
                seen.add(item.question)
                shown.append(item)
    return shown


def parcel_questions(shipment: Shipment, language: str) -> list[FaqItem]:
    """The questions that fit the parcel now: its reasons' topics first, then its status's."""
    topics = topics_for(shipment.status, shipment.reason, shipment.risk_reasons)
    return questions_for(shipment.shop_id, language, topics)


def _shipped(entry, row: FaqEntry | None) -> FaqItem:
    if row is None:
        return FaqItem(entry.topic, entry.question, entry.answer, entry.position, entry.key, link=entry.link)
    return FaqItem(
        entry.topic,
        row.question or entry.question,
        row.answer or entry.answer,
        row.position,
        entry.key,
        row.id,
        changed=bool(row.question or row.answer),
        hidden=row.hidden,
        link=entry.link,
    )


def _own(row: FaqEntry) -> FaqItem:
    return FaqItem(row.topic, row.question or "", row.answer or "", row.position, None, row.id)
