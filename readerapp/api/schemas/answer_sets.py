"""Answer sets: one person's answers to one version of a measure on one day, or anonymous
session feedback. Health data: staff and the group's own leaders only, every read audited."""

from __future__ import annotations

from marshmallow import fields, validate

from ...limits import length_of
from ...outcomes.limits import ITEMS, MEASURE_VERSION
from ...outcomes.models import ADMINISTRATION_MODES, Measure
from .common import DateArg, Id, QueryId, QuerySchema, Schema, Text

MEASURE_KEY = length_of(Measure.key)
ITEM_KEY = 40  # as the definition format allows (readerapp/outcomes/definitions.py)


class AnswerSetSchema(Schema):
    id = fields.Integer(dump_only=True)
    measure_key = fields.String(dump_only=True, attribute="measure_version.measure.key")
    version = fields.String(dump_only=True, attribute="measure_version.version")
    group_id = fields.Integer(dump_only=True)
    participant_id = fields.Integer(
        dump_only=True, allow_none=True, metadata={"description": "null: anonymous feedback."}
    )
    session_id = fields.Integer(dump_only=True, allow_none=True)
    answered_on = fields.Date(dump_only=True, metadata={"description": "Local date."})
    mode = fields.String(dump_only=True, metadata={"enum": list(ADMINISTRATION_MODES)})
    answers = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        dump_only=True,
        metadata={"description": "Item key -> the value chosen; unanswered items left out."},
    )
    complete = fields.Boolean(dump_only=True, metadata={"description": "Every item answered."})
    entered_by_id = fields.Integer(dump_only=True, allow_none=True)
    entered_at = fields.DateTime(dump_only=True)


class AnswerSetInputSchema(Schema):
    """Answers are checked against the measure's own items and options: a wrong one is a 422
    naming ``answers.<item key>``."""

    measure_key = Text(required=True, validate=validate.Length(min=1, max=MEASURE_KEY))
    version = Text(
        validate=validate.Length(min=1, max=MEASURE_VERSION),
        metadata={"description": "A version loaded earlier; the latest when left out."},
    )
    group_id = Id(required=True)
    participant_id = Id(
        allow_none=True,
        metadata={
            "description": "Who answered (they must have consented to evaluation); left out or "
            "null for anonymous session feedback."
        },
    )
    session_id = Id(
        allow_none=True,
        metadata={"description": "The group's session it belongs to; needed for anonymous sets."},
    )
    answered_on = fields.Date(required=True, metadata={"description": "Local date."})
    mode = fields.String(
        required=True,
        validate=validate.OneOf(ADMINISTRATION_MODES),
        metadata={"description": "How it was administered: reading aloud tends to raise answers."},
    )
    # Values are checked by the operation against the item's options, so that every wrong
    # answer is refused the same way, naming its item; the document says what is expected.
    answers = fields.Dict(
        keys=Text(validate=validate.Length(min=1, max=ITEM_KEY)),
        values=fields.Raw(metadata={"type": "integer"}),
        required=True,
        validate=validate.Length(max=ITEMS.max),
        metadata={
            "description": "Item key -> the value chosen (a whole number among the item's "
            "options). Items left out were not answered: the set is stored as partial."
        },
    )


class AnswerSetQuerySchema(QuerySchema):
    group_id = QueryId()
    participant_id = QueryId()
    measure_key = Text(validate=validate.Length(max=MEASURE_KEY))
    date_from = DateArg(metadata={"description": "Answered on or after this local date."})
    date_to = DateArg(metadata={"description": "Answered on or before this local date."})
