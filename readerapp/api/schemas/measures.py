"""Outcome measures: their versions, and one version's definition word for word (for those who
ask the questions; a licensed scale's wording is never passed on to partners)."""

from __future__ import annotations

from marshmallow import fields, validate

from ...outcomes.definitions import SCORINGS, USES
from ...outcomes.limits import MEASURE_VERSION
from .common import QuerySchema, Schema, Text


class MeasureVersionSummarySchema(Schema):
    version = fields.String(dump_only=True)
    acknowledgement = fields.String(
        dump_only=True,
        attribute="definition.acknowledgement",
        metadata={"description": "The copyright or acknowledgement line, shown wherever used."},
    )
    uses = fields.List(
        fields.String(metadata={"enum": list(USES)}),
        dump_only=True,
        attribute="definition.uses",
        metadata={"description": "participant: by code; anonymous: session feedback, no code."},
    )
    scoring = fields.String(
        dump_only=True,
        attribute="definition.scoring",
        metadata={"enum": list(SCORINGS), "description": "per_item: never summed."},
    )
    loaded_at = fields.DateTime(dump_only=True)


class MeasureSchema(Schema):
    key = fields.String(dump_only=True)
    name = fields.String(dump_only=True, metadata={"description": "The latest version's name."})
    builtin = fields.Boolean(
        dump_only=True, metadata={"description": "Ships with readerapp (ONS4)."}
    )
    versions = fields.List(
        fields.Nested(MeasureVersionSummarySchema),
        dump_only=True,
        metadata={"description": "Oldest first: the last is the latest."},
    )


class OptionSchema(Schema):
    value = fields.Integer(dump_only=True)
    label = fields.String(
        dump_only=True, metadata={"description": "Empty between a numeric scale's labelled ends."}
    )


class ItemSchema(Schema):
    key = fields.String(dump_only=True)
    label = fields.String(dump_only=True, metadata={"description": "A short name for charts."})
    text = fields.String(
        dump_only=True, metadata={"description": "The question, exactly as it is asked."}
    )
    higher_is_better = fields.Boolean(dump_only=True)
    options = fields.List(fields.Nested(OptionSchema), dump_only=True)


class MeasureDefinitionSchema(Schema):
    """One version of a measure, as loaded: it never changes once answers are given to it."""

    key = fields.String(dump_only=True)
    name = fields.String(dump_only=True)
    version = fields.String(dump_only=True)
    latest_version = fields.String(dump_only=True)
    versions = fields.List(
        fields.String(), dump_only=True, metadata={"description": "Every version, oldest first."}
    )
    builtin = fields.Boolean(dump_only=True)
    acknowledgement = fields.String(dump_only=True)
    uses = fields.List(fields.String(metadata={"enum": list(USES)}), dump_only=True)
    scoring = fields.String(dump_only=True, metadata={"enum": list(SCORINGS)})
    higher_is_better = fields.Boolean(dump_only=True)
    meaningful_change = fields.Float(
        dump_only=True,
        allow_none=True,
        metadata={"description": "A person's change read as meaningful."},
    )
    minimum_pairs = fields.Integer(
        dump_only=True,
        metadata={"description": "People with two answer sets needed before conclusions."},
    )
    items = fields.List(fields.Nested(ItemSchema), dump_only=True)
    conversion = fields.Dict(
        keys=fields.String(),
        values=fields.Float(),
        dump_only=True,
        allow_none=True,
        metadata={"description": "Raw total -> metric score, for scoring = total; or null."},
    )


class MeasureItemQuerySchema(QuerySchema):
    version = Text(
        validate=validate.Length(min=1, max=MEASURE_VERSION),
        metadata={"description": "A version loaded earlier; the latest when left out."},
    )
