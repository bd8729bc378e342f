"""The shipped questions and answers: `defaults/<language>.toml`, written per language (like the message
templates), each `[topic.key]` with a `question`, an `answer` and optionally `link = "report"`."""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from pathlib import Path

from notifications.render import LANGUAGES

FOLDER = Path(__file__).parent / "defaults"
LINKS = frozenset({"report"})  # "Report a problem" on the tracking page
STEP = 10  # shipped questions take positions 10, 20, 30, … so a shop's own fit in between


@dataclass(frozen=True)
class DefaultEntry:
    """One shipped question of a topic in one language."""

    topic: str
    key: str
    question: str
    answer: str
    position: int
    link: str | None = None


@functools.cache
def _load(language: str) -> dict[str, tuple[DefaultEntry, ...]]:
    if language not in LANGUAGES:
        raise KeyError(f"no shipped questions in {language!r}")
    with (FOLDER / f"{language}.toml").open("rb") as file:
        data = tomllib.load(file)
    return {
        topic: tuple(
            DefaultEntry(
                topic,
                key,
                entry["question"].strip(),
                entry["answer"].strip(),
                STEP * (index + 1),
                entry.get("link"),
            )
            for index, (key, entry) in enumerate(entries.items())
        )
        for topic, entries in data.items()
    }


def default_entries(topic: str, language: str) -> tuple[DefaultEntry, ...]:
    """The shipped questions of `topic` in `language`, in order; none for a topic without any."""
    return _load(language).get(topic, ())


def shipped_topics(language: str) -> list[str]:
    """The topics with shipped questions in `language`, in the file's order."""
    return list(_load(language))
