"""Customers' free text (survey comments, messages): tidied, bounded, and free of control characters."""

from __future__ import annotations

import re

from app.errors import InvalidInput

MESSAGE_MAX = 2000
# C0 controls but tab and newline (carriage returns are folded first), DEL and the C1 controls: nothing a
# person types, and some (NUL) no database can store.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def tidy_text(value: str | None) -> str:
    """Line ends folded to `\\n`, outer whitespace stripped; None reads as empty."""
    return (value or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def has_control_characters(value: str) -> bool:
    """True when `value` holds a control character other than tab and newline."""
    return _CONTROL.search(value) is not None


def checked_text(value: str | None, *, field: str, required: bool, limit: int = MESSAGE_MAX) -> str | None:
    """The tidied text, or None when empty and not `required`; InvalidInput when it cannot be stored."""
    text = tidy_text(value)
    if not text:
        if required:
            raise InvalidInput("The text is empty.", errors={field: "Required."})
        return None
    if len(text) > limit:
        raise InvalidInput(f"At most {limit} characters.", errors={field: f"At most {limit} characters."})
    if has_control_characters(text):
        raise InvalidInput("Contains control characters.", errors={field: "Contains control characters."})
    return text
