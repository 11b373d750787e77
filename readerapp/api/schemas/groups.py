"""Reading groups."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import g, has_request_context
from marshmallow import fields, validate

from ...access import sees_location_detail
from ...groups.limits import (
    AUDIENCE_NOTES,
    CAPACITY,
    DURATION_MINUTES,
    GROUP_NAME,
    ROOM,
    RRULE,
    TZ_NAME,
)
from ...groups.models import GROUP_STATUSES
from .common import (
    FIRST_DAY,
    LAST_DAY,
    Id,
    IdOnly,
    QueryId,
    QuerySchema,
    Schema,
    Text,
)


class GroupSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(dump_only=True)
    venue_id = fields.Integer(dump_only=True)
    room = fields.String(
        dump_only=True,
        allow_none=True,
        metadata={"description": "Room or ward within the venue; null for partners unless shared."},
    )
    lead_leader_id = fields.Integer(dump_only=True, allow_none=True)
    coleader_ids = fields.Pluck(IdOnly, "id", many=True, attribute="coleaders", dump_only=True)
    rrule = fields.String(
        dump_only=True, metadata={"description": "RFC 5545 rule without DTSTART."}
    )
    start_time = fields.Time(dump_only=True, metadata={"description": "Local wall-clock time."})
    duration_minutes = fields.Integer(dump_only=True)
    tz_name = fields.String(dump_only=True)
    first_date = fields.Date(dump_only=True)
    last_date = fields.Date(dump_only=True, allow_none=True)
    status = fields.String(dump_only=True, metadata={"enum": list(GROUP_STATUSES)})
    capacity = fields.Integer(dump_only=True, allow_none=True)
    audience_notes = fields.String(dump_only=True, allow_none=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)

    @ma.post_dump(pass_original=True)
    def _hide_room(self, data: dict[str, Any], original: Any, **kwargs: Any) -> dict[str, Any]:
        # Like a venue's unit: a ward or wing can identify people.
        user = g.get("api_user") if has_request_context() else None
        if user is not None and not sees_location_detail(user, original.venue.organisation):
            data["room"] = None
        return data


class GroupQuerySchema(QuerySchema):
    venue_id = QueryId()
    status = fields.String(validate=validate.OneOf(GROUP_STATUSES))
    leader_id = QueryId(metadata={"description": "Groups this user leads or co-leads."})


class GroupInputSchema(Schema):
    """A group's fields. To create, all required ones; to change (PATCH), any of them."""

    name = Text(required=True, validate=validate.Length(min=1, max=GROUP_NAME))
    venue_id = Id(required=True)
    room = Text(
        allow_none=True,
        validate=validate.Length(max=ROOM),
        metadata={"description": "Room or ward within the venue, e.g. Larch Ward."},
    )
    rrule = Text(
        required=True,
        validate=validate.Length(min=1, max=RRULE),
        metadata={"description": "RFC 5545 rule without DTSTART, e.g. FREQ=WEEKLY;BYDAY=TU."},
    )
    start_time = fields.Time(required=True, metadata={"description": "Local time, HH:MM:SS."})
    duration_minutes = fields.Integer(
        strict=True,
        required=True,
        validate=validate.Range(min=DURATION_MINUTES.min, max=DURATION_MINUTES.max),
    )
    first_date = fields.Date(required=True, validate=validate.Range(min=FIRST_DAY, max=LAST_DAY))
    tz_name = Text(load_default="Europe/London", validate=validate.Length(min=1, max=TZ_NAME))
    last_date = fields.Date(allow_none=True, validate=validate.Range(min=FIRST_DAY, max=LAST_DAY))
    lead_leader_id = Id(allow_none=True)
    coleader_ids = fields.List(Id(), validate=validate.Length(max=20))
    status = fields.String(validate=validate.OneOf(GROUP_STATUSES))
    capacity = fields.Integer(
        strict=True, allow_none=True, validate=validate.Range(min=CAPACITY.min, max=CAPACITY.max)
    )
    audience_notes = Text(allow_none=True, validate=validate.Length(max=AUDIENCE_NOTES))


class GroupUpdateSchema(GroupInputSchema):
    """The same fields as GroupInputSchema, every one optional (loaded with partial=True)."""
