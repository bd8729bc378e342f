"""Staff change a shop's questions per topic and language: reword, reorder or hide a shipped question,
add, edit and delete the shop's own. Every input is checked first; nothing is stored when it fails."""

from __future__ import annotations

from sqlalchemy import func, select

from app.admin.errors import AdminError
from app.extensions import db
from app.faq.choose import FaqItem, topic_items
from app.faq.defaults import STEP, DefaultEntry, default_entries
from app.faq.text import checked_answer, checked_question
from app.faq.topics import TOPICS
from app.models import FaqEntry, Shop
from notifications.render import LANGUAGES

MAX_OWN = 10  # own questions per topic and language: the page stays short enough to scan
POSITION_MAX = 999


def check_choice(topic: str, language: str) -> None:
    """AdminError unless `topic` and `language` are known."""
    if topic not in TOPICS:
        raise AdminError(f"Unknown topic {topic!r}.", "topic")
    if language not in LANGUAGES:
        raise AdminError(f"Unknown language {language!r}.", "language")


def shipped_entry(topic: str, language: str, key: str) -> DefaultEntry:
    """The shipped question `key` of the topic; AdminError when there is none."""
    for entry in default_entries(topic, language):
        if entry.key == key:
            return entry
    raise AdminError(f"There is no shipped question {key!r} in this topic.", "default_key")


def own_entry(shop: Shop, entry_id: int | None) -> FaqEntry | None:
    """The shop's own question `entry_id`; None for another shop's row, a missing one or a shipped one's."""
    row = db.session.get(FaqEntry, entry_id) if entry_id else None
    if row is None or row.shop_id != shop.id or row.default_key is not None:
        return None
    return row


def checked_position(value: str | int | None) -> int | None:
    """The place in the list (0 to POSITION_MAX; lower comes first); None when left empty."""
    if value is None or str(value).strip() == "":
        return None
    text = str(value).strip()
    if not text.isdigit() or int(text) > POSITION_MAX:
        raise AdminError(f"The order is a whole number from 0 to {POSITION_MAX}.", "position")
    return int(text)


def preview_entry(topic: str, language: str, question: str, answer: str) -> FaqItem:
    """The question as customers would see it, after the same checks as saving (nothing is stored)."""
    check_choice(topic, language)
    return FaqItem(topic, checked_question(question), checked_answer(answer), 0)


def save_entry(
    shop: Shop,
    topic: str,
    language: str,
    question: str,
    answer: str,
    position: str | int | None,
    actor: str,
    *,
    default_key: str | None = None,
    own: FaqEntry | None = None,
) -> FaqEntry:
    """Store new wording of a shipped question (`default_key`), changes to an own one (`own`), or a new own
    question; the order is kept when `position` is empty."""
    item = preview_entry(topic, language, question, answer)
    place = checked_position(position)
    if default_key is not None:
        entry = shipped_entry(topic, language, default_key)
        row = _change_row(shop, topic, language, entry, actor)
        row.question = None if item.question == entry.question else item.question
        row.answer = None if item.answer == entry.answer else item.answer
    else:
        if own is None:
            if _own_count(shop, topic, language) >= MAX_OWN:
                raise AdminError(
                    f"A topic may have at most {MAX_OWN} own questions per language.", "question"
                )
            own = FaqEntry(
                shop_id=shop.id,
                topic=topic,
                language=language,
                position=_next_position(shop, topic, language),
            )
            db.session.add(own)
        row = own
        row.question, row.answer = item.question, item.answer
    if place is not None:
        row.position = place
    row.updated_by = actor
    db.session.flush()
    return row


def set_hidden(shop: Shop, topic: str, language: str, default_key: str, hidden: bool, actor: str) -> None:
    """Hide a shipped question from this shop's customers, or show it again."""
    check_choice(topic, language)
    row = _change_row(shop, topic, language, shipped_entry(topic, language, default_key), actor)
    row.hidden, row.updated_by = hidden, actor
    db.session.flush()


def restore_shipped(shop: Shop, topic: str, language: str, default_key: str) -> bool:
    """Forget the shop's changes to a shipped question (wording, order, hidden); False when there were none."""
    check_choice(topic, language)
    row = _shipped_change(shop, topic, language, default_key)
    if row is None:
        return False
    db.session.delete(row)
    db.session.flush()
    return True


def _shipped_change(shop: Shop, topic: str, language: str, default_key: str) -> FaqEntry | None:
    return db.session.scalar(
        select(FaqEntry).where(
            FaqEntry.shop_id == shop.id,
            FaqEntry.topic == topic,
            FaqEntry.language == language,
            FaqEntry.default_key == default_key,
        )
    )


def _change_row(shop: Shop, topic: str, language: str, entry: DefaultEntry, actor: str) -> FaqEntry:
    row = _shipped_change(shop, topic, language, entry.key)
    if row is None:
        row = FaqEntry(
            shop_id=shop.id,
            topic=topic,
            language=language,
            default_key=entry.key,
            position=entry.position,
            hidden=False,
            updated_by=actor,
        )
        db.session.add(row)
    return row


def _own_count(shop: Shop, topic: str, language: str) -> int:
    return db.session.scalar(
        select(func.count()).where(
            FaqEntry.shop_id == shop.id,
            FaqEntry.topic == topic,
            FaqEntry.language == language,
            FaqEntry.default_key.is_(None),
        )
    )


def _next_position(shop: Shop, topic: str, language: str) -> int:
    items = topic_items(shop.id, language, [topic], hidden=True)[topic]
    return min(POSITION_MAX, max((item.position for item in items), default=0) + STEP)
