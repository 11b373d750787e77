"""Participants: pseudonymous codes, and the first name and note only where asked and allowed."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import g, has_request_context
from marshmallow import fields, validate

from ...attendance.limits import PARTICIPANT_NAME, PARTICIPANT_NOTE
from .common import QueryId, QuerySchema, Schema, Text

# The ids whose name this request may show: set by the resource after the access check and the
# audit entry, never by the schema.
NAMES_SHOWN = "api_participant_names_shown"


class ParticipantSchema(Schema):
    id = fields.Integer(dump_only=True)
    organisation_id = fields.Integer(dump_only=True)
    code = fields.String(dump_only=True)
    display_name = fields.String(
        dump_only=True,
        allow_none=True,
        metadata={
            "description": "First name: null unless asked for with show=name by an admin or a "
            "leader of the person's groups (each showing is audited)."
        },
    )
    notes = fields.String(
        dump_only=True, allow_none=True, metadata={"description": "As display_name."}
    )
    erased_at = fields.DateTime(dump_only=True, allow_none=True)

    @ma.post_dump(pass_original=True)
    def _hide_names(self, data: dict[str, Any], original: Any, **kwargs: Any) -> dict[str, Any]:
        shown = g.get(NAMES_SHOWN, ()) if has_request_context() else ()
        if original.id not in shown:
            data["display_name"] = data["notes"] = None
        return data


class ParticipantQuerySchema(QuerySchema):
    organisation_id = QueryId()
    code = fields.String(
        validate=validate.Length(max=40), metadata={"description": "Codes starting with this."}
    )


class ParticipantItemQuerySchema(QuerySchema):
    show = fields.String(
        validate=validate.OneOf(["name"]),
        metadata={"description": "name: include the first name and note, if you may see them."},
    )


class ParticipantUpdateSchema(Schema):
    """A first name and a short note. Empty or null removes it; a field left out keeps it.
    Refused (422) where the person's organisation keeps codes only."""

    display_name = Text(allow_none=True, validate=validate.Length(max=PARTICIPANT_NAME))
    notes = Text(allow_none=True, validate=validate.Length(max=PARTICIPANT_NOTE))
