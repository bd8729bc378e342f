"""Reading untrusted payloads: JSON decoding, tolerant field access, and the parse-error boundary."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from carriers.errors import CarrierError, MalformedPayload

T = TypeVar("T")
R = TypeVar("R")


def decode_text(body: bytes | str) -> str:
    """Bytes as UTF-8 text (a BOM tolerated); anything else is malformed."""
    if isinstance(body, str):
        return body
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MalformedPayload("body is not UTF-8 text") from exc


def load_json(body: bytes | str) -> Any:
    """Decode a JSON body or raise MalformedPayload."""
    text = decode_text(body)
    if not text.strip():
        raise MalformedPayload("empty body")
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise MalformedPayload(f"body is not JSON: {str(exc)[:120]}") from exc


def dig(value: Any, *path: str | int) -> Any:
    """`value[a][b]…` or None when any step is missing or of the wrong type."""
    for step in path:
        if isinstance(step, int) and isinstance(value, list) and -len(value) <= step < len(value):
            value = value[step]
        elif isinstance(step, str) and isinstance(value, dict):
            value = value.get(step)
        else:
            return None
    return value


def items(value: Any) -> list[Any]:
    """A JSON array as a list (anything else, including null, as an empty list)."""
    return value if isinstance(value, list) else []


def objects(value: Any) -> list[dict[str, Any]]:
    """The JSON objects of an array, skipping anything else."""
    return [item for item in items(value) if isinstance(item, dict)]


def text(value: Any) -> str:
    """A scalar as stripped text; null and containers as ""."""
    if isinstance(value, bool) or value is None or isinstance(value, dict | list):
        return ""
    return str(value).strip()


def require_object(value: Any, what: str) -> dict[str, Any]:
    """The value if it is a JSON object, else MalformedPayload."""
    if not isinstance(value, dict):
        raise MalformedPayload(f"{what} is not a JSON object")
    return value


def collect(values: Iterable[T], build: Callable[[T], R], warnings: list[str]) -> list[R]:
    """Build each item; an item with a bad timestamp is skipped with a warning, not the whole payload."""
    built: list[R] = []
    for value in values:
        try:
            built.append(build(value))
        except MalformedPayload as exc:
            warnings.append(f"event skipped: {exc.message}")
    return built


def parser(fn: Callable[[bytes | str], R]) -> Callable[[bytes | str], R]:
    """Mark a pure parse function: any stray lookup/type error inside it becomes MalformedPayload."""

    @functools.wraps(fn)
    def guarded(body: bytes | str) -> R:
        try:
            return fn(body)
        except CarrierError:
            raise
        except (KeyError, IndexError, TypeError, ValueError, AttributeError, RecursionError) as exc:
            raise MalformedPayload(f"unexpected payload shape: {type(exc).__name__}: {exc}"[:200]) from exc

    return guarded
