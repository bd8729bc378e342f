"""FAQ answers are plain text: escaped, paragraphs at blank lines, line breaks kept, and web addresses
(http and https only) made into links. No markup a writer types ever reaches the page."""

from __future__ import annotations

import functools
import re

from markupsafe import Markup, escape

from app.admin.errors import AdminError
from app.customer_care.text import has_control_characters, tidy_text

QUESTION_MAX = 200
ANSWER_MAX = 2000
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")
_URL = re.compile(r"https?://\w[^\s<>\"'“”«»]*", re.IGNORECASE)
_TRAILING = ".,;:!?)]’”»"  # punctuation after an address belongs to the sentence


@functools.lru_cache(maxsize=1024)  # the same shipped answers on every page
def answer_html(text: str) -> Markup:
    """The answer as safe HTML: `<p>` per paragraph, `<br>` per line break, links for web addresses."""
    paragraphs = _PARAGRAPH_BREAK.split(text.strip())
    return Markup("").join(
        Markup("<p>{}</p>").format(Markup("<br>").join(_linked(line) for line in paragraph.split("\n")))
        for paragraph in paragraphs
        if paragraph.strip()
    )


def _linked(line: str) -> Markup:
    parts: list[Markup] = []
    last = 0
    for match in _URL.finditer(line):
        url = match.group(0).rstrip(_TRAILING)
        end = match.start() + len(url)
        parts.append(escape(line[last : match.start()]))
        parts.append(Markup('<a href="{0}" rel="nofollow noopener noreferrer">{0}</a>').format(url))
        last = end
    parts.append(escape(line[last:]))
    return Markup("").join(parts)


def checked_question(value: str | None) -> str:
    """The tidied question; AdminError when it is empty, too long, on several lines or unprintable."""
    text = tidy_text(value)
    if not text:
        raise AdminError("Write the question.", "question")
    if len(text) > QUESTION_MAX:
        raise AdminError(f"The question may have at most {QUESTION_MAX} characters.", "question")
    if "\n" in text or has_control_characters(text):
        raise AdminError("The question is one line of plain text.", "question")
    return text


def checked_answer(value: str | None) -> str:
    """The tidied answer; AdminError when it is empty, too long or holds control characters."""
    text = tidy_text(value)
    if not text:
        raise AdminError("Write the answer.", "answer")
    if len(text) > ANSWER_MAX:
        raise AdminError(f"The answer may have at most {ANSWER_MAX} characters.", "answer")
    if has_control_characters(text):
        raise AdminError("The answer may not hold control characters.", "answer")
    return text
