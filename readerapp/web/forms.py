"""Form and query-string helpers shared by the management pages.

PostgreSQL refuses NUL characters in text, and no person types control characters into a form:
both are refused at the edge with an inline error instead of failing at the database.
"""

from __future__ import annotations

import re
from datetime import date, time
from typing import Any

from flask_wtf import FlaskForm
from wtforms import RadioField
from wtforms.validators import Optional

from ..timeutil import fold_choices, is_valid_zone

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


def _fold(value: object) -> int | None:
    return int(value) if value in (0, 1, "0", "1") else None


class FoldField(RadioField):
    """Which of the two occurrences of a wall-clock time the clocks repeat (0 the first, 1 the
    second). It has choices, and is shown, only when the entered time happens twice."""

    def __init__(self, label: str = "Which one?", **kwargs: Any) -> None:
        super().__init__(
            label,
            choices=[],
            coerce=_fold,
            validate_choice=False,
            validators=[Optional()],
            **kwargs,
        )


def offer_fold(form: FlaskForm, day: date | None, at: time | None, tz_name: str | None) -> None:
    """Give ``form.fold`` its two choices when ``at`` on ``day`` happens twice in the zone."""
    if not (isinstance(day, date) and isinstance(at, time) and is_valid_zone(tz_name)):
        return
    choices = fold_choices(day, at, tz_name)  # type: ignore[arg-type]
    form.fold.choices = list(choices)
    if choices:
        form.fold.label.text = f"Which {at:%H:%M}? The clocks go back that night."


def text_arg(value: str | None, limit: int = 200) -> str:
    """A search box's text, trimmed, without control characters, at most ``limit`` long."""
    return CONTROL_CHARACTERS.sub("", value or "").strip()[:limit]


def page_arg(value: str | None) -> int:
    """A page number from the query string; anything odd means the first page."""
    if value and value.isascii() and value.isdigit() and len(value) <= 6:
        return min(max(int(value), 1), MAX_PAGE)
    return 1


def uploaded_bytes(field: Any, limit: int) -> bytes | None:
    """The chosen file's first ``limit + 1`` bytes (one more than allowed tells a file too
    large), or None, with the field's error set, when no file was chosen."""
    upload = field.data
    if upload is None or not getattr(upload, "filename", ""):
        field.errors = ["Choose a CSV file to upload."]
        return None
    return upload.stream.read(limit + 1)
