"""A session's attendance: headcounts and the register of codes (never shown to partners)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from ...attendance.limits import PARTICIPANT_CODE
from ...attendance.models import Attendance
from ...logbook.models import IDEMPOTENCY_KEY_LENGTH
from ...sessions.limits import SESSION_NOTES
from .common import Count, Id, Schema, Text, caller_disclosure, caller_is_partner
from .materials import NewMaterialSchema


def PeopleCount() -> fields.Raw:
    """A session's count of people: a whole number, or for partner viewers a marker string."""
    return fields.Raw(
        dump_only=True,
        metadata={
            "oneOf": [{"type": "integer", "minimum": 0}, {"type": "string"}],
            "description": "A whole number; for partner viewers a count from 1 to 4 is the "
            'string "<5" (the threshold is the SMALL_NUMBER_THRESHOLD setting).',
        },
    )


class RegisterEntrySchema(Schema):
    participant_id = Id(required=True)
    code = fields.String(dump_only=True)
    first_time = fields.Boolean(load_default=False)


class AttendanceSchema(Schema):
    """A session's attendance; ``logged`` is false (and counts zero) until it is logged."""

    session_id = fields.Integer(dump_only=True)
    session_version = fields.Integer(dump_only=True)
    logged = fields.Boolean(dump_only=True)
    participants = PeopleCount()
    first_time = PeopleCount()
    staff_carers = fields.Integer(dump_only=True)
    volunteers = fields.Integer(dump_only=True)
    register = fields.List(
        fields.Nested(RegisterEntrySchema),
        dump_only=True,
        allow_none=True,
        metadata={"description": "Who attended, by code. Null for partners."},
    )
    logged_by_id = fields.Integer(dump_only=True, allow_none=True)
    updated_at = fields.DateTime(dump_only=True, allow_none=True)

    @ma.post_dump
    def _hide_register(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        if caller_is_partner():
            data["register"] = None
        disclosure = caller_disclosure()
        for name in ("participants", "first_time"):
            if name in data:
                data[name] = disclosure.cell(data[name])
        return data


def attendance_view(session: Any) -> dict[str, Any]:
    """What AttendanceSchema dumps for a session, logged or not."""
    attendance: Attendance | None = session.attendance
    return {
        "session_id": session.id,
        "session_version": session.version,
        "logged": attendance is not None,
        "participants": attendance.participants if attendance else 0,
        "first_time": attendance.first_time if attendance else 0,
        "staff_carers": attendance.staff_carers if attendance else 0,
        "volunteers": attendance.volunteers if attendance else 0,
        "register": [
            {
                "participant_id": r.participant_id,
                "code": r.participant.code,
                "first_time": r.first_time,
            }
            for r in (attendance.records if attendance else [])
        ],
        "logged_by_id": attendance.logged_by_id if attendance else None,
        "updated_at": attendance.updated_at if attendance else None,
    }


class RegisterInputSchema(Schema):
    codes = fields.List(
        Text(validate=validate.Length(min=1, max=PARTICIPANT_CODE)),
        load_default=list,
        validate=validate.Length(max=500),
        metadata={"description": "Codes of people already known to the host organisation."},
    )
    new_codes = fields.List(
        Text(validate=validate.Length(min=1, max=PARTICIPANT_CODE)),
        load_default=list,
        validate=validate.Length(max=500),
        metadata={"description": "Codes of people here for the first time (created)."},
    )


class AttendanceInputSchema(Schema):
    """Log a session as delivered, or change its log. Omitted optional fields keep their value
    (a register left out stays as it is; an empty register removes it)."""

    participants = Count(required=True)
    first_time = Count(load_default=0)
    staff_carers = Count(load_default=0)
    volunteers = Count(load_default=0)
    register = fields.Nested(RegisterInputSchema, allow_none=True)
    material_ids = fields.List(Id(), validate=validate.Length(max=10))
    new_materials = fields.List(fields.Nested(NewMaterialSchema), validate=validate.Length(max=10))
    notes = Text(allow_none=True, validate=validate.Length(max=SESSION_NOTES))
    confirm = fields.Boolean(
        load_default=False,
        metadata={
            "description": "Confirms counts that look unusual: 0 participants, more than the "
            "group's usual most, or more first-timers than new codes. Without it such a log "
            "is refused with 422 and the reason; nothing is saved."
        },
    )
    entered_late = fields.Boolean(
        load_default=False,
        metadata={
            "description": "The log is entered late, from a paper register: the session "
            "records when, and reports show the share of logs entered so."
        },
    )


class IdempotencyHeaderSchema(ma.Schema):
    """The headers a log may carry; other headers are no concern of it."""

    class Meta:
        unknown = ma.EXCLUDE

    idempotency_key = fields.String(
        data_key="Idempotency-Key",
        validate=validate.Length(min=1, max=IDEMPOTENCY_KEY_LENGTH),
        metadata={
            "description": "A key made by the client for this log (a UUID will do; letters, "
            "digits and . _ : - only). The server keeps it with the log: the same log sent "
            "again with the same key, say after its reply was lost with the signal, is "
            "answered with the log as saved (header Idempotent-Replayed: true) without "
            "writing again and without checking If-Match. Make a new key for each log; a key "
            "used for another session is refused with 409."
        },
    )
