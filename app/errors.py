"""Domain errors: what use cases raise when they refuse a request. They know nothing of HTTP.

The API layer (app/api/errors.py) answers each with RFC 9457 problem details and the status its class
stands for. Raise a subclass, e.g. `Conflict("Already claimed.", errors={"state": "Already claimed."})`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


class DomainError(Exception):
    """A refused use case: a message for people, optional messages per field, and extra members.

    `kind` names the problem type (default: the class's); `title` summarises it (default: the API's title
    for the class). Other keyword arguments (e.g. `reason="full"`) become extra members; None values are
    left out.
    """

    kind = "bad-request"

    def __init__(
        self,
        message: str,
        *,
        errors: Mapping[str, str | Sequence[str]] | None = None,
        kind: str | None = None,
        title: str | None = None,
        **details: Any,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.errors: dict[str, list[str]] | None = (
            {field: [text] if isinstance(text, str) else list(text) for field, text in errors.items()}
            if errors
            else None
        )
        self.kind = kind or type(self).kind
        self.title = title
        self.details = details


class NotFound(DomainError):
    """Something the request names does not exist (for this shop)."""

    kind = "not-found"


class Conflict(DomainError):
    """The current state forbids the change: something booked depends on it, a slot is full, a hold ended."""

    kind = "conflict"


class InvalidInput(DomainError):
    """The input is well-formed but cannot be used (a past date, an unknown depot, a parcel too heavy)."""

    kind = "validation"


class Unavailable(DomainError):
    """A service the use case depends on cannot answer now (e.g. the geocoder); retrying later may work."""

    kind = "unavailable"
