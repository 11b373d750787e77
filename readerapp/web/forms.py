"""Form and query-string helpers shared by the management pages.

PostgreSQL refuses NUL characters in text, and no person types control characters into a form:
both are refused at the edge with an inline error instead of failing at the database.
"""

from __future__ import annotations

import re
from typing import Any

from flask_wtf import FlaskForm

CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
CONTROL_MESSAGE = "Remove the invisible control characters from this text."
MAX_PAGE = 100_000


class CleanForm(FlaskForm):
    """A form that refuses control characters (NUL included) in any submitted text."""

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        for field in self:
            values = field.raw_data or []
            if any(isinstance(v, str) and CONTROL_CHARACTERS.search(v) for v in values):
                if CONTROL_MESSAGE not in field.errors:
                    field.errors = [*field.errors, CONTROL_MESSAGE]
                valid = False
        return valid


def text_arg(value: str | None, limit: int = 200) -> str:
    """A search box's text, trimmed, without control characters, at most ``limit`` long."""
    return CONTROL_CHARACTERS.sub("", value or "").strip()[:limit]


def page_arg(value: str | None) -> int:
    """A page number from the query string; anything odd means the first page."""
    if value and value.isascii() and value.isdigit() and len(value) <= 6:
        return min(max(int(value), 1), MAX_PAGE)
    return 1
