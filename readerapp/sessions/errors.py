"""Domain errors raised by session and attendance operations.

Views turn them into inline form errors (400) or a conflict page (409); the JSON API into
problem+json. They never carry personal data beyond what the caller itself sent.
"""

from __future__ import annotations

from ..errors import FieldError, VersionConflict, version_checked

__all__ = ["SessionError", "VersionConflict", "version_checked"]


class SessionError(FieldError):
    """Input that cannot be applied to a session. ``field`` names the input at fault, if any;
    ``conflict`` says it clashes with data that exists (the API answers 409, not 422)."""
