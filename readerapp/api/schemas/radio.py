"""Radio: stations, programmes, episodes and broadcasts."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from ...attendance.limits import PARTICIPANT_CODE
from ...outcomes.voices import MAX_VOICES
from ...radio.limits import (
    CANCELLATION_REASON,
    DURATION_MINUTES,
    EPISODE_NUMBER,
    EPISODE_TITLE,
    PROGRAMME_DESCRIPTION,
    PROGRAMME_TITLE,
    TZ_NAME,
)
from ...radio.models import BROADCAST_STATUSES
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
    in_years,
)


class StationSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(dump_only=True)
    prisons_reached = fields.Integer(dump_only=True, allow_none=True)
    contact_name = fields.String(dump_only=True, allow_none=True)
    contact_email = fields.String(dump_only=True, allow_none=True)


class ProgrammeSchema(Schema):
    id = fields.Integer(dump_only=True)
    station_id = fields.Integer(dump_only=True)
    title = fields.String(dump_only=True)
    description = fields.String(dump_only=True, allow_none=True)


class ProgrammeQuerySchema(QuerySchema):
    station_id = QueryId()


class EpisodeSchema(Schema):
    id = fields.Integer(dump_only=True)
    programme_id = fields.Integer(dump_only=True)
    number = fields.Integer(dump_only=True)
    title = fields.String(dump_only=True)
    duration_minutes = fields.Integer(dump_only=True)
    source_session_id = fields.Integer(dump_only=True, allow_none=True)
    material_ids = fields.Pluck(IdOnly, "id", many=True, attribute="materials", dump_only=True)


class EpisodeQuerySchema(QuerySchema):
    programme_id = QueryId()


class ProgrammeInputSchema(Schema):
    """A programme's fields. To create, station_id and title; to change (PATCH), any."""

    station_id = Id(
        required=True,
        metadata={"description": "A radio station; a programme with broadcasts keeps its own."},
    )
    title = Text(required=True, validate=validate.Length(min=1, max=PROGRAMME_TITLE))
    description = Text(allow_none=True, validate=validate.Length(max=PROGRAMME_DESCRIPTION))


class ProgrammeUpdateSchema(ProgrammeInputSchema):
    """The same fields as ProgrammeInputSchema, every one optional (loaded partial)."""


class EpisodeUpdateSchema(Schema):
    """An episode's fields; to change (PATCH), any of them."""

    number = fields.Integer(
        strict=True,
        required=True,
        validate=validate.Range(min=EPISODE_NUMBER.min, max=EPISODE_NUMBER.max),
        metadata={"description": "Its number in the programme, unique there."},
    )
    title = Text(required=True, validate=validate.Length(min=1, max=EPISODE_TITLE))
    duration_minutes = fields.Integer(
        strict=True,
        required=True,
        validate=validate.Range(min=DURATION_MINUTES.min, max=DURATION_MINUTES.max),
    )
    material_ids = fields.List(
        Id(),
        validate=validate.Length(max=10),
        metadata={"description": "The texts read in it; all of them (the list replaces)."},
    )


class EpisodeInputSchema(EpisodeUpdateSchema):
    """A new episode of a programme."""

    programme_id = Id(required=True)


class BroadcastSchema(Schema):
    id = fields.Integer(dump_only=True)
    station_id = fields.Integer(dump_only=True)
    episode_id = fields.Integer(dump_only=True)
    air_dt = fields.DateTime(dump_only=True)
    end_dt = fields.DateTime(dump_only=True)
    tz_name = fields.String(dump_only=True)
    duration_minutes = fields.Integer(dump_only=True)
    status = fields.String(dump_only=True, metadata={"enum": list(BROADCAST_STATUSES)})
    cancellation_reason = fields.String(dump_only=True, allow_none=True)
    repeat_of_id = fields.Integer(dump_only=True, allow_none=True)
    aired_at = fields.DateTime(dump_only=True, allow_none=True)
    version = fields.Integer(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class BroadcastQuerySchema(QuerySchema):
    station_id = QueryId()
    episode_id = QueryId()
    status = fields.String(validate=validate.OneOf(BROADCAST_STATUSES))
    air_from = DateArg(
        data_key="from", metadata={"description": "Airing on or after this local date."}
    )
    air_to = DateArg(
        data_key="to", metadata={"description": "Airing on or before this local date."}
    )


class BroadcastInputSchema(Schema):
    episode_id = Id(required=True)
    air_dt = Aware(required=True, metadata={"description": AWARE_HELP})
    tz_name = Text(
        load_default="Europe/London",
        validate=validate.Length(min=1, max=TZ_NAME),
        metadata={"description": "The station's zone: the slot keeps its wall-clock time."},
    )
    duration_minutes = fields.Integer(
        strict=True, validate=validate.Range(min=DURATION_MINUTES.min, max=DURATION_MINUTES.max)
    )
    repeat_of_id = Id(allow_none=True)

    @ma.validates("air_dt")
    def _year(self, value: Any, **kwargs: Any) -> None:
        if not in_years(value):
            raise ma.ValidationError(YEARS_MESSAGE)


class BroadcastUpdateSchema(Schema):
    """Either cancel (status "cancelled" and a reason) or move (air_dt, tz_name, duration)."""

    status = fields.String(validate=validate.OneOf(["cancelled"]))
    cancellation_reason = Text(validate=validate.Length(min=1, max=CANCELLATION_REASON))
    air_dt = Aware(metadata={"description": AWARE_HELP})
    tz_name = Text(validate=validate.Length(min=1, max=TZ_NAME))
    duration_minutes = fields.Integer(
        strict=True, validate=validate.Range(min=DURATION_MINUTES.min, max=DURATION_MINUTES.max)
    )

    @ma.validates_schema
    def _one_change(self, data: dict[str, Any], **kwargs: Any) -> None:
        cancelling = "status" in data or "cancellation_reason" in data
        moving = any(k in data for k in ("air_dt", "tz_name", "duration_minutes"))
        if cancelling == moving:
            raise ma.ValidationError(
                "Send status 'cancelled' and a cancellation_reason to cancel, or air_dt "
                "(and optionally tz_name, duration_minutes) to move; not both.",
                "_schema",
            )
        if cancelling and ("status" not in data or "cancellation_reason" not in data):
            raise ma.ValidationError(
                "To cancel, send status 'cancelled' and a cancellation_reason.", "_schema"
            )
        air = data.get("air_dt")
        if air is not None and not in_years(air):
            raise ma.ValidationError(YEARS_MESSAGE, "air_dt")


class EpisodeVoiceSchema(Schema):
    code = fields.String(dump_only=True)
    consent_in_force = fields.Boolean(
        dump_only=True,
        metadata={"description": "Whether they still consent to their voice in a recording."},
    )


class EpisodeVoicesSchema(Schema):
    """The participants heard in an episode (managers and admins only)."""

    episode_id = fields.Integer(dump_only=True)
    voices = fields.List(fields.Nested(EpisodeVoiceSchema), dump_only=True)
    warning = fields.String(
        dump_only=True,
        allow_none=True,
        metadata={"description": "Set when someone heard in it withdrew their consent."},
    )


class EpisodeVoicesInputSchema(Schema):
    codes = fields.List(
        Text(validate=validate.Length(min=1, max=PARTICIPANT_CODE)),
        required=True,
        validate=validate.Length(max=MAX_VOICES),
        metadata={
            "description": "The participant codes heard in it (the list replaces); each needs "
            "current consent to their voice in a radio recording."
        },
    )
