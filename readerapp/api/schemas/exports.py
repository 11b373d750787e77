"""Attendance exports: the same filters, formats and column sets as the Exports page."""

from __future__ import annotations

from marshmallow import fields, validate

from ...exports.queries import COLUMN_SETS
from ...exports.streaming import FORMATS
from ...organisations.models import SETTING_TYPES
from .common import DateArg, QueryId, QuerySchema

# The staff export of outcome answer sets by code is a spreadsheet, as on the Outcomes page.
ANSWER_FORMATS = ("csv", "xlsx")


class AttendanceExportQuerySchema(QuerySchema):
    start_from = DateArg(
        data_key="from",
        required=True,
        metadata={"description": "The first local date, included."},
    )
    start_to = DateArg(
        data_key="to",
        required=True,
        metadata={"description": "The last local date, included (before from: nothing)."},
    )
    organisation_id = QueryId(
        metadata={"description": "Groups partnered with this organisation on the session's date."}
    )
    setting_type = fields.String(validate=validate.OneOf(SETTING_TYPES))
    group_id = QueryId()
    leader_id = QueryId()
    per_participant = fields.Boolean(
        load_default=False,
        metadata={
            "description": "One row per participant attendance, by code (managers and admins)."
        },
    )
    format = fields.String(load_default="csv", validate=validate.OneOf(FORMATS))
    columns = fields.String(
        load_default="human",
        validate=validate.OneOf(COLUMN_SETS),
        metadata={
            "description": (
                "human: headers and values in words; machine: the names and values scripts "
                "read (see the README's Exports section)."
            )
        },
    )


class OutcomeAnswersExportQuerySchema(QuerySchema):
    start_from = DateArg(
        data_key="from",
        required=True,
        metadata={"description": "The first local date answers were given on, included."},
    )
    start_to = DateArg(
        data_key="to",
        required=True,
        metadata={"description": "The last local date, included (before from: nothing)."},
    )
    organisation_id = QueryId(
        metadata={"description": "Groups partnered with this organisation (none: every one)."}
    )
    setting_type = fields.String(validate=validate.OneOf(SETTING_TYPES))
    format = fields.String(load_default="csv", validate=validate.OneOf(ANSWER_FORMATS))
