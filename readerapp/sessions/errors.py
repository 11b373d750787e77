"""Domain errors raised by session and attendance operations.

Views turn them into inline form errors (400) or a conflict page (409); the JSON API into
problem+json. They never carry personal data beyond what the caller itself sent.
"""

from __future__ import annotations


class SessionError(ValueError):
    """Input that cannot be applied to a session. ``field`` names the input at fault, if any;
    ``conflict`` says it clashes with data that exists (the API answers 409, not 422)."""

    def __init__(self, message: str, field: str | None = None, *, conflict: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.conflict = conflict


class VersionConflict(Exception):
    """The session changed after the caller read it (optimistic locking)."""

    def __init__(self, expected: int | None, current: int | None) -> None:
        super().__init__(
            f"the session was changed by someone else (version {current}, expected {expected})"
        )
        self.expected = expected
        self.current = current
