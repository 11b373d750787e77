"""Organisations, their venues and their partnerships with groups."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import g, has_request_context
from marshmallow import fields, validate

from ...access import sees_location_detail
from ...organisations.limits import (
    CONTACT_EMAIL,
    CONTACT_NAME,
    CONTACT_PHONE,
    ORGANISATION_NAME,
    PRISONS_REACHED,
    VENUE_ADDRESS,
    VENUE_NAME,
    VENUE_UNIT,
)
from ...organisations.models import ORGANISATION_KINDS, PARTNERSHIP_ROLES, SETTING_TYPES
from .common import FIRST_DAY, LAST_DAY, Id, QueryId, QuerySchema, Schema, Text


class OrganisationSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(dump_only=True)
    kind = fields.String(dump_only=True, metadata={"enum": list(ORGANISATION_KINDS)})
    contact_name = fields.String(dump_only=True, allow_none=True)
    contact_email = fields.String(dump_only=True, allow_none=True)
    contact_phone = fields.String(dump_only=True, allow_none=True)
    share_location_detail = fields.Boolean(dump_only=True)
    keep_names = fields.Boolean(dump_only=True)
    prisons_reached = fields.Integer(dump_only=True, allow_none=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class OrganisationQuerySchema(QuerySchema):
    kind = fields.String(validate=validate.OneOf(ORGANISATION_KINDS))


class VenueSchema(Schema):
    id = fields.Integer(dump_only=True)
    organisation_id = fields.Integer(dump_only=True)
    name = fields.String(dump_only=True)
    setting_type = fields.String(dump_only=True, metadata={"enum": list(SETTING_TYPES)})
    address = fields.String(dump_only=True, allow_none=True)
    unit = fields.String(
        dump_only=True,
        allow_none=True,
        metadata={"description": "Ward, wing or unit; null for partners unless shared."},
    )

    @ma.post_dump(pass_original=True)
    def _hide_unit(self, data: dict[str, Any], original: Any, **kwargs: Any) -> dict[str, Any]:
        user = g.get("api_user") if has_request_context() else None
        if user is not None and not sees_location_detail(user, original.organisation):
            data["unit"] = None
        return data


class VenueQuerySchema(QuerySchema):
    organisation_id = QueryId()


class OrganisationInputSchema(Schema):
    """An organisation's fields. To create, name and kind at least; to change (PATCH), any."""

    name = Text(required=True, validate=validate.Length(min=1, max=ORGANISATION_NAME))
    kind = fields.String(required=True, validate=validate.OneOf(ORGANISATION_KINDS))
    contact_name = Text(allow_none=True, validate=validate.Length(max=CONTACT_NAME))
    contact_email = Text(allow_none=True, validate=validate.Length(max=CONTACT_EMAIL))
    contact_phone = Text(allow_none=True, validate=validate.Length(max=CONTACT_PHONE))
    share_location_detail = fields.Boolean(
        truthy={True},
        falsy={False},
        metadata={"description": "Whether partners may see the ward, wing or unit of venues."},
    )
    prisons_reached = fields.Integer(
        strict=True,
        allow_none=True,
        validate=validate.Range(min=PRISONS_REACHED.min, max=PRISONS_REACHED.max),
        metadata={"description": "Radio stations only: how many prisons hear them."},
    )
    keep_names = fields.Boolean(
        truthy={True},
        falsy={False},
        metadata={
            "description": "Whether its participants may have a first name and a note (off: "
            "codes only). Refused off while some participant still holds one."
        },
    )


class OrganisationUpdateSchema(OrganisationInputSchema):
    """The same fields as OrganisationInputSchema, every one optional (loaded partial)."""


class VenueUpdateSchema(Schema):
    """A venue's fields; to change (PATCH), any of them. A venue stays with its organisation."""

    name = Text(required=True, validate=validate.Length(min=1, max=VENUE_NAME))
    setting_type = fields.String(required=True, validate=validate.OneOf(SETTING_TYPES))
    address = Text(allow_none=True, validate=validate.Length(max=VENUE_ADDRESS))
    unit = Text(
        allow_none=True,
        validate=validate.Length(max=VENUE_UNIT),
        metadata={"description": "Ward, wing or unit; partners see it only if shared."},
    )


class VenueInputSchema(VenueUpdateSchema):
    """A new venue of an organisation."""

    organisation_id = Id(required=True)


class PartnershipSchema(Schema):
    id = fields.Integer(dump_only=True)
    organisation_id = Id(required=True)
    group_id = Id(required=True)
    role = fields.String(required=True, validate=validate.OneOf(PARTNERSHIP_ROLES))
    start_date = fields.Date(required=True)
    end_date = fields.Date(allow_none=True, load_default=None)


class PartnershipQuerySchema(QuerySchema):
    organisation_id = QueryId()
    group_id = QueryId()
    role = fields.String(validate=validate.OneOf(PARTNERSHIP_ROLES))


class PartnershipUpdateSchema(Schema):
    organisation_id = Id()
    role = fields.String(validate=validate.OneOf(PARTNERSHIP_ROLES))
    start_date = fields.Date(validate=validate.Range(min=FIRST_DAY, max=LAST_DAY))
    end_date = fields.Date(allow_none=True, validate=validate.Range(min=FIRST_DAY, max=LAST_DAY))
