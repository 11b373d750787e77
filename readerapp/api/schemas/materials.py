"""The catalogue of texts read."""

from __future__ import annotations

from marshmallow import fields, validate

from ...sessions.limits import MATERIAL_AUTHOR, MATERIAL_TITLE
from ...sessions.models import MATERIAL_KINDS
from .common import QuerySchema, Schema, Text


class MaterialSchema(Schema):
    id = fields.Integer(dump_only=True)
    title = fields.String(dump_only=True)
    author = fields.String(dump_only=True)
    kind = fields.String(dump_only=True, metadata={"enum": list(MATERIAL_KINDS)})


class MaterialQuerySchema(QuerySchema):
    kind = fields.String(validate=validate.OneOf(MATERIAL_KINDS))
    q = Text(
        validate=validate.Length(min=1, max=MATERIAL_TITLE),
        metadata={"description": "Words in the title or author."},
    )


class MaterialInputSchema(Schema):
    """A text in the catalogue. To create, all three; to change (PATCH), any."""

    title = Text(required=True, validate=validate.Length(min=1, max=MATERIAL_TITLE))
    author = Text(
        required=True,
        validate=validate.Length(min=1, max=MATERIAL_AUTHOR),
        metadata={"description": "“Anonymous” when unknown."},
    )
    kind = fields.String(required=True, validate=validate.OneOf(MATERIAL_KINDS))


class MaterialUpdateSchema(MaterialInputSchema):
    """The same fields as MaterialInputSchema, every one optional (loaded partial)."""


class NewMaterialSchema(Schema):
    title = Text(required=True, validate=validate.Length(min=1, max=MATERIAL_TITLE))
    author = Text(required=True, validate=validate.Length(min=1, max=MATERIAL_AUTHOR))
    kind = fields.String(load_default="short_story", validate=validate.OneOf(MATERIAL_KINDS))
