"""Safeguarding concerns: what a leader sends, what the leader gets back (a receipt), and what
designated safeguarding leads read."""

from __future__ import annotations

from marshmallow import fields, validate

from ...safeguarding.limits import CONCERN_TEXT, REFERENCE, REFERRED_TO, WHO_WAS_TOLD
from ...safeguarding.models import CONCERN_CATEGORIES, CONCERN_STATUSES
from .common import Aware, Id, QuerySchema, Schema, Text


class ConcernInputSchema(Schema):
    """A concern about a session, a participant, or both."""

    session_id = Id(allow_none=True)
    participant_id = Id(allow_none=True)
    category = fields.String(required=True, validate=validate.OneOf(list(CONCERN_CATEGORIES)))
    seen_or_said = Text(required=True, validate=validate.Length(min=1, max=CONCERN_TEXT))
    action_taken = Text(required=True, validate=validate.Length(min=1, max=CONCERN_TEXT))
    who_was_told = Text(allow_none=True, validate=validate.Length(max=WHO_WAS_TOLD))
    occurred_at = Aware(required=True)


class ConcernReceiptSchema(Schema):
    """All the one who raised a concern gets back: that it was received."""

    id = fields.Integer(dump_only=True)
    status = fields.Constant("received", dump_only=True)
    received_at = fields.DateTime(attribute="created_at", dump_only=True)


class ConcernSchema(Schema):
    """A concern in full, for designated safeguarding leads."""

    id = fields.Integer(dump_only=True)
    session_id = fields.Integer(dump_only=True, allow_none=True)
    participant_id = fields.Integer(dump_only=True, allow_none=True)
    category = fields.String(dump_only=True)
    seen_or_said = fields.String(dump_only=True)
    action_taken = fields.String(dump_only=True)
    who_was_told = fields.String(dump_only=True, allow_none=True)
    occurred_at = fields.DateTime(dump_only=True)
    raised_by_id = fields.Integer(dump_only=True, allow_none=True)
    received_at = fields.DateTime(attribute="created_at", dump_only=True)
    status = fields.String(dump_only=True)
    referred_to = fields.String(dump_only=True, allow_none=True)
    reference = fields.String(dump_only=True, allow_none=True)
    outcome = fields.String(dump_only=True, allow_none=True)
    closed_at = fields.DateTime(dump_only=True, allow_none=True)


class ConcernQuerySchema(QuerySchema):
    status = fields.String(validate=validate.OneOf(list(CONCERN_STATUSES)))


class ConcernStatusSchema(Schema):
    """The next step: referred (referred_to required) or closed (outcome required)."""

    status = fields.String(required=True, validate=validate.OneOf(["referred", "closed"]))
    referred_to = Text(allow_none=True, validate=validate.Length(max=REFERRED_TO))
    reference = Text(allow_none=True, validate=validate.Length(max=REFERENCE))
    outcome = Text(allow_none=True, validate=validate.Length(max=CONCERN_TEXT))
