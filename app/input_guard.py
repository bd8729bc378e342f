"""Bounds on what a request may carry before it reaches arithmetic or the database.

Ids fit an `integer` column (PostgreSQL's is 32 bits), pages keep offsets small, dates stay within the
years 2000..2100 (so moving them to UTC or adding days never overflows), strings hold no NUL (PostgreSQL
refuses it) and no lone surrogate (no database can encode one), and a JSON body nests at most
MAX_JSON_DEPTH levels (deeper ones exhaust the parser's recursion). Refusals are 422 problem details
naming the field (API) or the friendly error page (web); such a path is a 404, a too deeply nested body
a 400.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

from flask import Flask, request
from flask_smorest import abort
from marshmallow import fields, validate
from werkzeug.routing import IntegerConverter, Map

from app.models.types import utcnow

MAX_ID = 2**31 - 1
MAX_PAGE = 10**6
MAX_JSON_DEPTH = 32
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
UNSTORABLE_MESSAGE = "Contains a NUL character or a lone surrogate."
# Carrier webhooks are verified against the raw body before anything parses it.
UNPARSED_BODY_PREFIXES = ("/webhooks/carriers/",)


class IdConverter(IntegerConverter):
    """`<int:...>` in every route: only 1..MAX_ID match, so a larger number is a 404, not an overflow."""

    def __init__(self, map: Map, fixed_digits: int = 0, min: int = 1, max: int = MAX_ID) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max)


def id_field(**kwargs: Any) -> fields.Integer:
    """An integer field holding a row id (1..MAX_ID)."""
    return fields.Integer(validate=validate.Range(min=1, max=MAX_ID), **kwargs)


def page_field() -> fields.Integer:
    """The `page` query parameter (1..MAX_PAGE)."""
    return fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))


def parse_id(text: str) -> int | None:
    """`text` as a row id, or None when it is not one (e.g. a filter left empty or out of range)."""
    if not re.fullmatch(r"[0-9]{1,10}", text):
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None


class SaneDateTime(fields.AwareDateTime):
    """An aware datetime within the years EARLIEST_YEAR..LATEST_YEAR, optionally at most `max_future` ahead."""

    default_error_messages = {
        "out_of_range": f"Use a time between the years {EARLIEST_YEAR} and {LATEST_YEAR}.",
        "future": "Must not be more than {days} days in the future.",
    }

    def __init__(self, *, max_future: timedelta | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_future = max_future

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        parsed = super()._deserialize(value, attr, data, **kwargs)
        # The local year bounds the UTC year, so comparing and converting below cannot overflow.
        if not EARLIEST_YEAR <= parsed.year <= LATEST_YEAR:
            raise self.make_error("out_of_range")
        if self.max_future is not None and parsed > utcnow() + self.max_future:
            raise self.make_error("future", days=self.max_future.days)
        return parsed


class SaneDate(fields.Date):
    """A date within the years EARLIEST_YEAR..LATEST_YEAR."""

    default_error_messages = {
        "out_of_range": f"Use a date between the years {EARLIEST_YEAR} and {LATEST_YEAR}.",
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> date:
        parsed = super()._deserialize(value, attr, data, **kwargs)
        if not EARLIEST_YEAR <= parsed.year <= LATEST_YEAR:
            raise self.make_error("out_of_range")
        return parsed


def register(app: Flask) -> None:
    """Bound route ids and check every request's strings and JSON depth (call before blueprints)."""
    app.url_map.converters["int"] = IdConverter
    app.before_request(reject_hostile_input)


def reject_hostile_input() -> None:
    """Refuse unstorable strings in the path, query, form and JSON body, and too deeply nested JSON."""
    if any(isinstance(v, str) and _unstorable(v) for v in (request.view_args or {}).values()):
        abort(404)  # no stored name can hold such a character, so the URL names nothing
    _check_strings("query", request.args.items(multi=True))
    if request.path.startswith(UNPARSED_BODY_PREFIXES):
        return
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        _check_strings("form", request.form.items(multi=True))
        _check_strings("files", ((n, f.filename or "") for n, f in request.files.items(multi=True)))
    if request.is_json:
        _check_json(_json_body())


def _json_body() -> Any:
    try:
        # silent: malformed JSON is left to the view's own parser and its usual answer
        return request.get_json(silent=True)
    except RecursionError:
        _refuse_depth()


def _refuse_depth() -> None:
    abort(400, message=f"The JSON body nests more than {MAX_JSON_DEPTH} levels deep.")


def _check_strings(location: str, pairs) -> None:
    for name, value in pairs:
        if _unstorable(name) or (isinstance(value, str) and _unstorable(value)):
            _refuse(location, _printable(name))


def _check_json(payload: Any) -> None:
    # Iterative, so the walk itself cannot run out of stack.
    pending: list[tuple[str, Any, int]] = [("", payload, 1)]
    while pending:
        path, value, depth = pending.pop()
        if isinstance(value, str):
            if _unstorable(value):
                _refuse("json", path or "body")
        elif isinstance(value, dict | list):
            if depth > MAX_JSON_DEPTH:
                _refuse_depth()
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                child = f"{path}.{key}" if path else str(key)
                if isinstance(key, str) and _unstorable(key):
                    _refuse("json", _printable(child))
                pending.append((child, item, depth + 1))


def _unstorable(text: str) -> bool:
    return UNSTORABLE.search(text) is not None


def _printable(name: str) -> str:
    return UNSTORABLE.sub("\ufffd", name)


def _refuse(location: str, name: str) -> None:
    abort(422, messages={location: {name: [UNSTORABLE_MESSAGE]}})
