"""A participant's consent ledger: entries are only ever added, and the latest entry for a
purpose is the person's current answer."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from ...outcomes.models import CONSENT_PURPOSES
from .common import Schema


class JsonBoolean(fields.Boolean):
    """Only JSON true or false: consent is never read into "yes", 1 or "on"."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class ConsentRecordSchema(Schema):
    id = fields.Integer(dump_only=True)
    participant_id = fields.Integer(dump_only=True)
    purpose = fields.String(dump_only=True, metadata={"enum": list(CONSENT_PURPOSES)})
    given = fields.Boolean(dump_only=True, metadata={"description": "false: withdrawn."})
    wording_version = fields.String(
        dump_only=True, metadata={"description": "The version of the wording the person was shown."}
    )
    on_date = fields.Date(dump_only=True, metadata={"description": "Local date."})
    recorded_at = fields.DateTime(dump_only=True)
    recorded_by_id = fields.Integer(dump_only=True, allow_none=True)


class ConsentInputSchema(Schema):
    purpose = fields.String(required=True, validate=validate.OneOf(CONSENT_PURPOSES))
    given = JsonBoolean(
        required=True, metadata={"description": "true: consent given; false: withdrawn."}
    )
    on_date = fields.Date(
        required=True,
        metadata={"description": "The local date the person gave or withdrew it; not later."},
    )
