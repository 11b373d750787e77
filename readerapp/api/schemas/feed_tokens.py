"""Feed tokens: the secret addresses of the iCal feeds."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from ...feeds.limits import FEED_TOKEN_LABEL
from ...feeds.scopes import FEED_SCOPES, TARGET_COLUMNS
from ...feeds.scopes import SCOPES as FEED_SCOPE_RULES
from .common import Id, QuerySchema, Schema, Text


class FeedTokenSchema(Schema):
    id = fields.Integer(dump_only=True)
    scope = fields.String(dump_only=True, metadata={"enum": list(FEED_SCOPES)})
    organisation_id = fields.Integer(dump_only=True, allow_none=True)
    group_id = fields.Integer(dump_only=True, allow_none=True)
    user_id = fields.Integer(dump_only=True, allow_none=True)
    label = fields.String(dump_only=True, allow_none=True)
    created_by_id = fields.Integer(dump_only=True, allow_none=True)
    revoked_at = fields.DateTime(dump_only=True, allow_none=True)
    created_at = fields.DateTime(dump_only=True)


class FeedTokenQuerySchema(QuerySchema):
    scope = fields.String(validate=validate.OneOf(FEED_SCOPES))
    include_revoked = fields.Boolean(load_default=False)


FEED_TARGET_FIELD = {rule.scope.value: rule.target_column for rule in FEED_SCOPE_RULES.values()}


class FeedTokenInputSchema(Schema):
    scope = fields.String(required=True, validate=validate.OneOf(FEED_SCOPES))
    organisation_id = Id(metadata={"description": "For organisation and station feeds."})
    group_id = Id(metadata={"description": "For group feeds."})
    user_id = Id(metadata={"description": "For leader feeds."})
    label = Text(allow_none=True, validate=validate.Length(max=FEED_TOKEN_LABEL))

    @ma.validates_schema
    def _one_target(self, data: dict[str, Any], **kwargs: Any) -> None:
        wanted = FEED_TARGET_FIELD[data["scope"]]
        given = [k for k in TARGET_COLUMNS if k in data]
        if given != [wanted]:
            raise ma.ValidationError(f"A {data.get('scope')} feed needs {wanted} only.", wanted)


class FeedTokenCreatedSchema(FeedTokenSchema):
    token = fields.String(
        dump_only=True, metadata={"description": "The secret: shown only in this answer."}
    )
    url = fields.String(dump_only=True, metadata={"description": "The feed's https address."})
    webcal_url = fields.String(dump_only=True)
