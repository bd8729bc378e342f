"""Answers without asking: the shipped questions, which topics a parcel has, and how a shop's changes
(reworded, reordered, hidden, own questions) merge in per language."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.admin.errors import AdminError
from app.extensions import db
from app.faq.choose import questions_for, topic_items
from app.faq.defaults import FOLDER, LINKS, default_entries
from app.faq.editing import MAX_OWN, restore_shipped, save_entry, set_hidden
from app.faq.text import ANSWER_MAX, QUESTION_MAX, answer_html
from app.faq.topics import REASON_TOPICS, STATUS_TOPICS, TOPICS, topics_for
from app.models import FaqEntry
from carriers.model import Reason, Status
from notifications.render import LANGUAGES
from tests.factories import make_shop

REASONS_SOURCE = Path(__file__).resolve().parents[1] / "planning" / "prediction" / "reasons.py"
# How a parcel arrived says nothing a customer asks about; every other reason has a topic.
NO_TOPIC = {"arrived_late", Reason.HELD.value, Reason.PICKED_UP.value, Reason.OTHER.value}


def _shipped(language: str) -> dict:
    with (FOLDER / f"{language}.toml").open("rb") as file:
        return tomllib.load(file)


def test_every_language_ships_the_same_questions_for_every_topic() -> None:
    english = _shipped("en")
    assert list(english) == list(TOPICS)
    for language in LANGUAGES:
        shipped = _shipped(language)
        assert [(t, list(q)) for t, q in shipped.items()] == [(t, list(q)) for t, q in english.items()], (
            language
        )
        for topic, entries in shipped.items():
            assert 1 <= len(entries) <= 3, (language, topic)
            for key, entry in entries.items():
                assert set(entry) <= {"question", "answer", "link"}, (language, topic, key)
                assert 0 < len(entry["question"]) <= QUESTION_MAX and "\n" not in entry["question"]
                assert 0 < len(entry["answer"]) <= ANSWER_MAX
                assert (
                    entry.get("link") == english[topic][key].get("link")
                    and entry.get("link", "report") in LINKS
                )
    assert all(
        re.search("[\u0e00-\u0e7f]", e["question"]) for t in _shipped("th").values() for e in t.values()
    )


def test_every_status_and_every_reason_has_its_topic() -> None:
    assert set(STATUS_TOPICS) == set(Status)
    assert set(STATUS_TOPICS.values()) | set(REASON_TOPICS.values()) == set(TOPICS)
    prediction_keys = set(re.findall(r'RiskReason\(\s*"(\w+)"', REASONS_SOURCE.read_text()))
    assert len(prediction_keys) > 15
    for key in prediction_keys | {reason.value for reason in Reason}:
        assert key in REASON_TOPICS or key in NO_TOPIC, f"reason {key!r} has no FAQ topic"


def test_topics_come_from_the_reasons_first_then_the_status_once_each() -> None:
    reasons = [{"key": "customs_hold", "text": "customs hold"}, {"key": "past_promised_day", "params": {}}]
    assert topics_for("in_transit", "customs", reasons) == ["customs", "delayed", "in_transit"]
    assert topics_for("returning", "refused", [{"key": "returning"}]) == ["returning"]
    assert topics_for("delivered", None, None) == ["delivered"]
    assert topics_for("failed_attempt", "address_problem", []) == ["address_problem", "failed_attempt"]
    assert topics_for("in_transit", None, [{"key": "arrived_late"}, "junk"]) == ["in_transit"]


def test_questions_follow_the_topics_in_the_language(app) -> None:
    shop, _ = make_shop()
    english = [i.question for i in questions_for(shop.id, "en", ["customs", "in_transit"])]
    assert english[:3] == [
        "What does “customs” mean?",
        "Do I have to pay anything?",
        "Do I need to send any documents?",
    ]
    assert english[3] == "When will my parcel arrive?"
    danish = questions_for(shop.id, "da", ["available_for_pickup"])
    assert danish[0].question == "Hvor længe opbevarer udleveringsstedet min pakke?"
    assert questions_for(shop.id, "th", ["delivered"])[0].link == "report"
    # delayed and exception both ask "Do I need to do anything?": it shows once
    both = [i.question for i in questions_for(shop.id, "en", ["delayed", "exception"])]
    assert both.count("Do I need to do anything?") == 1 and len(both) == 4


def test_a_shops_changes_apply_to_its_language_and_nobody_else(app) -> None:
    shop, _ = make_shop("Fjord Sko")
    other, _ = make_shop("Other")
    save_entry(shop, "customs", "nb", "Hva er toll?", "Toll er en avgift.", "", "agent@x", default_key="what")
    set_hidden(shop, "customs", "nb", "documents", True, "agent@x")
    save_entry(shop, "customs", "nb", "Hvor lang tid tar tollen?", "Ofte to dager.", "15", "agent@x")
    db.session.commit()

    shown = questions_for(shop.id, "nb", ["customs"])
    assert [i.question for i in shown] == ["Hva er toll?", "Hvor lang tid tar tollen?", "Må jeg betale noe?"]
    assert shown[0].changed and shown[0].default_key == "what" and shown[1].default_key is None
    everything = topic_items(shop.id, "nb", ["customs"], hidden=True)["customs"]
    assert [(i.default_key, i.hidden) for i in everything][-1] == ("documents", True)
    assert [i.question for i in questions_for(shop.id, "en", ["customs"])][0] == "What does “customs” mean?"
    assert [i.question for i in questions_for(other.id, "nb", ["customs"])][0] == "Hva betyr «toll»?"

    assert restore_shipped(shop, "customs", "nb", "documents")
    db.session.commit()
    assert len(questions_for(shop.id, "nb", ["customs"])) == 4


def test_saving_the_shipped_wording_stores_no_copy_of_it(app) -> None:
    shop, _ = make_shop()
    entry = default_entries("delayed", "en")[0]
    row = save_entry(shop, "delayed", "en", entry.question, "Storms.", "5", "agent@x", default_key=entry.key)
    assert (row.question, row.answer, row.position) == (None, "Storms.", 5)
    assert questions_for(shop.id, "en", ["delayed"])[0].answer == "Storms."


@pytest.mark.parametrize(
    ("question", "answer", "position", "field"),
    [
        ("", "An answer.", "", "question"),
        ("   ", "An answer.", "", "question"),
        ("Two\nlines?", "An answer.", "", "question"),
        ("Q" * (QUESTION_MAX + 1), "An answer.", "", "question"),
        ("Question?", "", "", "answer"),
        ("Question?", "A" * (ANSWER_MAX + 1), "", "answer"),
        ("Question?", "Bell \x07", "", "answer"),
        ("Question?", "An answer.", "-1", "position"),
        ("Question?", "An answer.", "1000", "position"),
        ("Question?", "An answer.", "first", "position"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_stored(app, question, answer, position, field) -> None:
    shop, _ = make_shop()
    with pytest.raises(AdminError) as refused:
        save_entry(shop, "customs", "en", question, answer, position, "agent@x")
    assert refused.value.field == field
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(FaqEntry)) == 0


def test_unknown_topics_languages_and_shipped_keys_are_refused(app) -> None:
    shop, _ = make_shop()
    for topic, language, key in [("nope", "en", None), ("customs", "sv", None), ("customs", "en", "nope")]:
        with pytest.raises(AdminError):
            save_entry(shop, topic, language, "Q?", "A.", "", "agent@x", default_key=key)
    with pytest.raises(AdminError):
        set_hidden(shop, "customs", "en", "nope", True, "agent@x")


def test_a_topic_holds_a_bounded_number_of_own_questions(app) -> None:
    shop, _ = make_shop()
    for n in range(MAX_OWN):
        save_entry(shop, "lost", "da", f"Spørgsmål {n}?", "Svar.", "", "agent@x")
    positions = [i.position for i in questions_for(shop.id, "da", ["lost"])]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    with pytest.raises(AdminError, match="at most"):
        save_entry(shop, "lost", "da", "One more?", "Svar.", "", "agent@x")


def test_answers_are_plain_text_with_paragraphs_line_breaks_and_safe_links() -> None:
    html = answer_html(
        "See https://example.com/help?a=1&b=2.\nCall us.\n\n<script>alert(1)</script> javascript:alert(1)"
    )
    assert str(html) == (
        '<p>See <a href="https://example.com/help?a=1&amp;b=2" rel="nofollow noopener noreferrer">'
        "https://example.com/help?a=1&amp;b=2</a>.<br>Call us.</p>"
        "<p>&lt;script&gt;alert(1)&lt;/script&gt; javascript:alert(1)</p>"
    )
    assert str(answer_html('x "https://a.example/" y')) == (
        'x &#34;<a href="https://a.example/" rel="nofollow noopener noreferrer">https://a.example/</a>&#34; y'
    ).join(["<p>", "</p>"])
