"""Reader leaders' records, checks, training and hours. A certificate number is taken on input
only: answers never carry it, nor its last digits."""

from __future__ import annotations

from marshmallow import fields, validate

from ...workforce.limits import (
    ADJUSTED_MINUTES,
    ADJUSTMENT_REASON,
    CERTIFICATE_NUMBER_INPUT,
    COURSE,
)
from ...workforce.models import CHECK_TYPES, EMPLOYMENT_TYPES
from .common import FIRST_DAY, LAST_DAY, DateArg, QueryId, QuerySchema, Schema, Text

DAYS = validate.Range(min=FIRST_DAY, max=LAST_DAY)
GROUPINGS = ("person", "group", "partner")


class CheckSchema(Schema):
    id = fields.Integer(dump_only=True)
    check_type = fields.String(dump_only=True, metadata={"enum": list(CHECK_TYPES)})
    issued_on = fields.Date(dump_only=True)
    renewal_due = fields.Date(dump_only=True)
    update_service = fields.Boolean(dump_only=True)
    update_checked_on = fields.Date(dump_only=True, allow_none=True)


class TrainingSchema(Schema):
    id = fields.Integer(dump_only=True)
    course = fields.String(dump_only=True)
    completed_on = fields.Date(dump_only=True)
    expires_on = fields.Date(dump_only=True, allow_none=True)


class LeaderSchema(Schema):
    user_id = fields.Integer(dump_only=True)
    display_name = fields.String(dump_only=True)
    employment_type = fields.String(
        dump_only=True, allow_none=True, metadata={"enum": list(EMPLOYMENT_TYPES)}
    )
    manager_id = fields.Integer(dump_only=True, allow_none=True)
    left_on = fields.Date(dump_only=True, allow_none=True)
    cleared = fields.Boolean(
        dump_only=True,
        metadata={"description": "Cleared today to lead in the regulated settings."},
    )
    check_renewal_due = fields.Date(dump_only=True, allow_none=True)
    missing = fields.List(fields.String(), dump_only=True)
    checks = fields.List(fields.Nested(CheckSchema), dump_only=True)
    training = fields.List(fields.Nested(TrainingSchema), dump_only=True)


class CheckInputSchema(Schema):
    check_type = fields.String(required=True, validate=validate.OneOf(CHECK_TYPES))
    certificate_number = Text(
        required=True,
        load_only=True,
        validate=validate.Length(max=CERTIFICATE_NUMBER_INPUT),
        metadata={"description": "12 digits; only the last four are kept, and never answered."},
    )
    issued_on = fields.Date(required=True, validate=DAYS)
    renewal_due = fields.Date(required=True, validate=DAYS)
    update_service = fields.Boolean(load_default=False)
    update_checked_on = fields.Date(allow_none=True, load_default=None, validate=DAYS)


class TrainingInputSchema(Schema):
    course = Text(required=True, validate=validate.Length(max=COURSE))
    completed_on = fields.Date(required=True, validate=DAYS)
    expires_on = fields.Date(allow_none=True, load_default=None, validate=DAYS)


class CheckUpdateSchema(CheckInputSchema):
    """A correction, used with partial=True: fields left out keep their value."""


class TrainingUpdateSchema(TrainingInputSchema):
    """A correction, used with partial=True: fields left out keep their value."""


class HoursQuerySchema(QuerySchema):
    date_from = DateArg(required=True)
    date_to = DateArg(required=True, metadata={"description": "Inclusive; before date_from: none."})
    by = fields.String(load_default="person", validate=validate.OneOf(GROUPINGS))
    organisation_id = QueryId()


class HoursSchema(Schema):
    name = fields.String(dump_only=True)
    sessions = fields.Integer(dump_only=True)
    hours = fields.Float(dump_only=True)
    volunteer_hours = fields.Float(dump_only=True)
    volunteer_value = fields.Float(
        dump_only=True, metadata={"description": "Volunteer hours at the hourly rate, pounds."}
    )


class HoursAdjustmentInputSchema(Schema):
    minutes = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=ADJUSTED_MINUTES.min, max=ADJUSTED_MINUTES.max),
        metadata={"description": "Minutes to credit, preparation and travel included."},
    )
    reason = Text(required=True, validate=validate.Length(min=1, max=ADJUSTMENT_REASON))


class HoursAdjustmentSchema(Schema):
    session_id = fields.Integer(dump_only=True)
    user_id = fields.Integer(dump_only=True)
    minutes = fields.Integer(dump_only=True)
    adjusted = fields.Boolean(dump_only=True)
    reason = fields.String(dump_only=True, allow_none=True)
