"""Sessions: the list (with its cursor), one-off sessions, cancelling and moving."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from ...sessions.limits import CANCELLATION_REASON, DURATION_MINUTES
from ...sessions.models import SESSION_STATUSES
from ...sessions.states import SESSION_STATES, session_state
from ...timeutil import utcnow
from ..core import MAX_INT
from .common import (
    AWARE_HELP,
    YEARS_MESSAGE,
    Aware,
    DateArg,
    Id,
    IdOnly,
    QueryId,
    QuerySchema,
    Schema,
    Text,
    caller_is_partner,
    in_years,
)

STATE_HELP = (
    "delivered, cancelled, not_yet_logged (started, and nobody has logged it yet) or to_come "
    "(not started yet): what the reports and exports count."
)


class SessionSchema(Schema):
    id = fields.Integer(dump_only=True)
    group_id = fields.Integer(dump_only=True)
    start_dt = fields.DateTime(dump_only=True)
    end_dt = fields.DateTime(dump_only=True)
    tz_name = fields.String(dump_only=True)
    duration_minutes = fields.Integer(dump_only=True)
    status = fields.String(
        dump_only=True,
        metadata={
            "enum": list(SESSION_STATUSES),
            "description": "As stored: scheduled until the session is logged. See state.",
        },
    )
    state = fields.Method(
        "_state",
        dump_only=True,
        metadata={"enum": list(SESSION_STATES), "description": STATE_HELP},
    )
    cancellation_reason = fields.String(dump_only=True, allow_none=True)
    occurrence_dt = fields.DateTime(dump_only=True, allow_none=True)
    rescheduled_from_dt = fields.DateTime(dump_only=True, allow_none=True)
    leader_id = fields.Integer(dump_only=True, allow_none=True)
    notes = fields.String(
        dump_only=True, allow_none=True, metadata={"description": "Null for partners."}
    )
    material_ids = fields.Pluck(IdOnly, "id", many=True, attribute="materials", dump_only=True)
    version = fields.Integer(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)

    def _state(self, session: Any) -> str:
        return session_state(session.status, session.start_dt, utcnow())

    @ma.post_dump
    def _hide_notes(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        if caller_is_partner():
            data["notes"] = None
        return data


class SessionCursor(fields.String):
    """A position in the session list, as the Link header's rel="next" gives it: the start and
    id of the last session of a page, encoded so clients treat it as opaque."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> tuple[datetime, int]:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("ascii")
            stamp, _, ident = raw.partition("|")
            start, session_id = datetime.fromisoformat(stamp), int(ident)
        except (ValueError, binascii.Error, UnicodeError) as exc:
            raise ma.ValidationError(CURSOR_HELP) from exc
        if start.tzinfo is None or not 1900 <= start.year <= 9000:
            raise ma.ValidationError(CURSOR_HELP)
        if not 1 <= session_id <= MAX_INT:
            raise ma.ValidationError(CURSOR_HELP)
        return start, session_id


CURSOR_HELP = 'Not a cursor from this API: follow the Link header\'s rel="next" address.'


def session_cursor(session: Any) -> str:
    raw = f"{session.start_dt.isoformat()}|{session.id}".encode("ascii")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


class SessionCountsQuerySchema(QuerySchema):
    """Which sessions: the filters the session list and its counts share."""

    start_from = DateArg(
        data_key="from", metadata={"description": "Sessions starting on or after this local date."}
    )
    start_to = DateArg(
        data_key="to", metadata={"description": "Sessions starting on or before this local date."}
    )
    group_id = QueryId()
    organisation_id = QueryId(metadata={"description": "Groups partnered with this organisation."})
    leader_id = QueryId()


class SessionQuerySchema(SessionCountsQuerySchema):
    status = fields.String(validate=validate.OneOf(SESSION_STATUSES))
    state = fields.String(
        validate=validate.OneOf(SESSION_STATES), metadata={"description": STATE_HELP}
    )
    after = SessionCursor(
        validate=validate.Length(max=200),
        metadata={
            "description": (
                'Continue after this cursor (from the Link header\'s rel="next"); page is '
                "then ignored. A cursor is as fast on the last page as on the first."
            )
        },
    )


class SessionCountsSchema(Schema):
    planned = fields.Integer(dump_only=True, metadata={"description": "The sum of the four below."})
    delivered = fields.Integer(dump_only=True)
    cancelled = fields.Integer(dump_only=True)
    not_yet_logged = fields.Integer(
        dump_only=True, metadata={"description": "Started, and nobody has logged it yet."}
    )
    to_come = fields.Integer(dump_only=True, metadata={"description": "Not started yet."})


class SessionInputSchema(Schema):
    """An extra, one-off session of a group, outside its pattern."""

    group_id = Id(required=True)
    start_dt = Aware(
        required=True,
        metadata={"description": AWARE_HELP + " Kept as the wall-clock time in the group's zone."},
    )
    duration_minutes = fields.Integer(
        strict=True,
        validate=validate.Range(min=DURATION_MINUTES.min, max=DURATION_MINUTES.max),
        metadata={"description": "Defaults to the group's."},
    )
    leader_id = Id(allow_none=True, metadata={"description": "Defaults to the lead leader."})

    @ma.validates("start_dt")
    def _year(self, value: Any, **kwargs: Any) -> None:
        if not in_years(value):
            raise ma.ValidationError(YEARS_MESSAGE)


class SessionUpdateSchema(Schema):
    """Either cancel (status "cancelled" and a reason) or move (start_dt and/or duration)."""

    status = fields.String(validate=validate.OneOf(["cancelled"]))
    cancellation_reason = Text(validate=validate.Length(min=1, max=CANCELLATION_REASON))
    start_dt = Aware(metadata={"description": AWARE_HELP})
    duration_minutes = fields.Integer(
        strict=True, validate=validate.Range(min=DURATION_MINUTES.min, max=DURATION_MINUTES.max)
    )

    @ma.validates_schema
    def _one_change(self, data: dict[str, Any], **kwargs: Any) -> None:
        cancelling = "status" in data or "cancellation_reason" in data
        moving = "start_dt" in data or "duration_minutes" in data
        if cancelling and moving:
            raise ma.ValidationError("Cancel or move a session, not both at once.", "_schema")
        if not cancelling and not moving:
            raise ma.ValidationError(
                "Send status and cancellation_reason to cancel, or start_dt to move.", "_schema"
            )
        if cancelling and ("status" not in data or "cancellation_reason" not in data):
            raise ma.ValidationError(
                "To cancel, send status 'cancelled' and a cancellation_reason.", "_schema"
            )
        start = data.get("start_dt")
        if start is not None and not in_years(start):
            raise ma.ValidationError(YEARS_MESSAGE, "start_dt")
