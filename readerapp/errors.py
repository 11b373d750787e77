"""Errors every domain shares: a refusal tied to an input, and a change made meanwhile.

Operations raise them; the web pages turn them into inline form errors (400), a clash (409) or
the conflict page (409), the JSON API into problem+json. They never carry personal data beyond
what the caller itself sent.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from sqlalchemy.orm.exc import StaleDataError

P = ParamSpec("P")
R = TypeVar("R")


class FieldError(ValueError):
    """Input that an operation refuses; the message says why, for a person to read.

    ``field`` names the input at fault, if any; ``conflict`` says it clashes with data that
    exists (pages and the API answer 409, not 400/422)."""

    def __init__(self, message: str, field: str | None = None, *, conflict: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.conflict = conflict


class VersionConflict(Exception):
    """The row changed after the caller read it (optimistic locking)."""

    def __init__(self, expected: int | None, current: int | None) -> None:
        super().__init__(
            f"the record was changed by someone else (version {current}, expected {expected})"
        )
        self.expected = expected
        self.current = current


def version_checked(operation: Callable[P, R]) -> Callable[P, R]:
    """Raise VersionConflict, never StaleDataError, from an operation that takes an
    ``expected_version``: a concurrent writer's UPDATE can surface in any flush the operation
    causes, the autoflush before one of its queries as much as its final flush."""

    @wraps(operation)
    def checked(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return operation(*args, **kwargs)
        except StaleDataError as exc:
            expected: Any = kwargs.get("expected_version")
            raise VersionConflict(expected, None) from exc

    return checked
