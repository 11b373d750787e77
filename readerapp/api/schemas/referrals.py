"""Referrals: by participant code, never a name; the referrer is a referrer partner or null
(a self-referral)."""

from __future__ import annotations

from marshmallow import fields, validate

from ...attendance.limits import PARTICIPANT_CODE
from ...referrals.limits import REFERRER_EMAIL, REFERRER_NAME, STATUS_REASON
from ...referrals.models import REFERRAL_STATUSES
from .common import Id, QuerySchema, Schema, Text


class ReferralSchema(Schema):
    id = fields.Integer(dump_only=True)
    participant_id = fields.Integer(dump_only=True)
    organisation_id = fields.Integer(attribute="participant.organisation_id", dump_only=True)
    code = fields.String(attribute="participant.code", dump_only=True)
    referrer_organisation_id = fields.Integer(
        dump_only=True,
        allow_none=True,
        metadata={"description": "The referrer partner; null for a self-referral."},
    )
    referrer_name = fields.String(dump_only=True, allow_none=True)
    referrer_email = fields.String(dump_only=True, allow_none=True)
    referred_on = fields.Date(dump_only=True)
    reason = fields.String(dump_only=True)
    status = fields.String(dump_only=True)
    status_note = fields.String(dump_only=True, allow_none=True)
    first_session_on = fields.Date(dump_only=True, allow_none=True)
    regular_on = fields.Date(dump_only=True, allow_none=True)
    ended_on = fields.Date(dump_only=True, allow_none=True)
    ended_reason = fields.String(dump_only=True, allow_none=True)


class ReferralInputSchema(Schema):
    """A referral of the person with ``code`` at ``organisation_id`` (where they will attend).
    ``new_code`` issues the code for someone not seen yet. The reason is one of the configured
    list (REFERRAL_REASONS)."""

    organisation_id = Id(required=True)
    code = Text(required=True, validate=validate.Length(min=1, max=PARTICIPANT_CODE))
    new_code = fields.Boolean(load_default=False)
    referrer_organisation_id = Id(allow_none=True, load_default=None)
    referrer_name = Text(allow_none=True, validate=validate.Length(max=REFERRER_NAME))
    referrer_email = Text(allow_none=True, validate=validate.Length(max=REFERRER_EMAIL))
    referred_on = fields.Date(required=True)
    reason = Text(required=True, validate=validate.Length(min=1, max=40))


class ReferralMoveSchema(Schema):
    """End a referral (reason required) or set a later step by hand (a reason when it skips
    one). ``notify_referrer`` asks that the referrer be told: refused (422, nothing changed)
    when the person has not consented to updates or no address is known."""

    status = fields.String(required=True, validate=validate.OneOf(list(REFERRAL_STATUSES)))
    reason = Text(allow_none=True, validate=validate.Length(max=STATUS_REASON))
    on_date = fields.Date(allow_none=True)
    notify_referrer = fields.Boolean(load_default=False)


class ReferralQuerySchema(QuerySchema):
    status = fields.String(validate=validate.OneOf(list(REFERRAL_STATUSES)))
