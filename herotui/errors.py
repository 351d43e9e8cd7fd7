"""Errors a person can act on.

Every failure that reaches a front-end is a ``HeroError``: a one-line message, an optional
hint, and an exit code (0 ok, 1 user error, 2 usage, 3 not found). Front-ends print
``message`` and ``hint``; the traceback is shown only with ``HERO_DEBUG=1``.
"""

from __future__ import annotations


class HeroError(Exception):
    """Base class: ``message`` (what went wrong) and ``hint`` (what to do)."""

    exit_code = 1
    code = "error"

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def to_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "hint": self.hint}


class InvalidInput(HeroError):
    """Arguments that fail validation (bad email, unparseable date, end before start...)."""

    code = "invalid"


class UsageError(HeroError):
    exit_code = 2
    code = "usage"


class NotFound(HeroError):
    """No such record, context or book, and also no such file or folder (a path given to
    read, or the folder to write into): every command exits 3 for a missing path."""

    exit_code = 3
    code = "not_found"


class Ambiguous(HeroError):
    """An id prefix that matches several records; the message lists them."""

    code = "ambiguous"


class ContextBusy(HeroError):
    """Another process held the context's database or index for longer than the bound."""

    code = "busy"


class ConfirmationRequired(HeroError):
    """A destructive verb was called without confirmation."""

    code = "confirm"
