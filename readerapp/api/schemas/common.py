"""What every API schema shares: the base classes, the field types and the partner check.

Datetimes are ISO 8601 with an offset (stored UTC, answered as UTC). Input datetimes must carry
an offset. Unknown fields in a body are refused (marshmallow's default, RAISE).

Partners never receive participant-level data: schemas blank those fields when the caller is a
partner viewer, so every role gets the same documented shape.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import marshmallow as ma
from flask import g, has_request_context
from marshmallow import fields, validate

from ...access import sees_participants
from ...attendance.limits import HEADCOUNT
from ...disclosure import REAL_FIGURES, Disclosure
from ...limits import YEARS
from ..core import MAX_INT


class Text(fields.String):
    """A string the databases can store: no NUL characters, no lone surrogates."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in text:
            raise ma.ValidationError("Must not contain NUL characters.")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ma.ValidationError("Must be valid Unicode text.") from exc
        return text


def Id(**kwargs: Any) -> fields.Integer:
    return fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_INT), **kwargs)


def QueryId(**kwargs: Any) -> fields.Integer:
    """An id in a query string, where every value arrives as text."""
    return fields.Integer(validate=validate.Range(min=1, max=MAX_INT), **kwargs)


def Count(**kwargs: Any) -> fields.Integer:
    """A headcount."""
    return fields.Integer(
        strict=True, validate=validate.Range(min=HEADCOUNT.min, max=HEADCOUNT.max), **kwargs
    )


def DateArg(**kwargs: Any) -> fields.Date:
    """A date filter. Any date is valid; queries clamp it (see ``bounded_day``)."""
    return fields.Date(**kwargs)


EARLIEST_DAY, LATEST_DAY = date(1900, 1, 1), date(9000, 1, 1)


def bounded_day(day: date) -> date:
    """Nothing happened before 1900 or will after 9000; clamping keeps date arithmetic and time
    zone conversion away from the ends of the calendar, where they overflow."""
    return min(max(day, EARLIEST_DAY), LATEST_DAY)


def caller_is_partner() -> bool:
    if not has_request_context():
        return False
    # Noted at authentication: answers are dumped after the commit, when asking the (expired)
    # account would read it again in a transaction of its own.
    if "api_partner" in g:
        return bool(g.api_partner)
    user = g.get("api_user")
    return user is not None and not sees_participants(user)


def caller_disclosure() -> Disclosure:
    """How counts of people are shown to the caller (noted at authentication)."""
    if not has_request_context():
        return REAL_FIGURES
    return g.get("api_disclosure", REAL_FIGURES)


class Schema(ma.Schema):
    class Meta:
        unknown = ma.RAISE


class IdOnly(ma.Schema):
    id = fields.Integer(dump_only=True)


class QuerySchema(ma.Schema):
    """Query strings: page and per_page are read by the pagination, so unknown keys are ignored."""

    class Meta:
        unknown = ma.EXCLUDE


AWARE_HELP = "ISO 8601 with an offset, e.g. 2026-03-03T10:30:00+00:00."


# Without an offset a local time can name two instants (or none) around a clock change.
NAIVE_MESSAGE = (
    "Give the date and time with its offset, e.g. 2026-03-03T10:30:00+00:00: "
    "without one the instant is not known."
)


FIRST_DAY, LAST_DAY = date(YEARS.min, 1, 1), date(YEARS.max, 12, 31)
YEARS_MESSAGE = f"Enter a date between {YEARS.min} and {YEARS.max}."


def in_years(value: date) -> bool:
    return YEARS.min <= value.year <= YEARS.max


def Aware(**kwargs: Any) -> fields.AwareDateTime:
    """A date-time that must carry its offset, refused clearly when it does not."""
    return fields.AwareDateTime(
        format="iso", error_messages={"invalid_awareness": NAIVE_MESSAGE}, **kwargs
    )
