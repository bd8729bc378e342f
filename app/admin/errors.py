"""The one error admin services raise: what was wrong, in words an admin can act on."""

from __future__ import annotations


class AdminError(ValueError):
    """An admin's input was refused; nothing was stored. `field` names the form field at fault, if one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
