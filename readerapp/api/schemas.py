"""marshmallow 4 schemas of the API: every field explicit, input parsed and validated here.

Datetimes are ISO 8601 with an offset (stored UTC, answered as UTC). Input datetimes must carry
an offset. Unknown fields in a body are refused (marshmallow's default, RAISE).

Partners never receive participant-level data: ``PartnerMasked`` schemas blank those fields when
the caller is a partner viewer, so every role gets the same documented shape.
"""

from __future__ import annotations

import base64
import binascii
from datetime import date, datetime
from typing import Any

import marshmallow as ma
from flask import g, has_request_context
from marshmallow import fields, validate

from ..access import sees_location_detail, sees_participants
from ..attendance.models import Attendance
from ..feeds.scopes import FEED_SCOPES, TARGET_COLUMNS
from ..feeds.scopes import SCOPES as FEED_SCOPE_RULES
from ..groups.models import GROUP_STATUSES
from ..organisations.models import ORGANISATION_KINDS, PARTNERSHIP_ROLES, SETTING_TYPES
from ..radio.models import BROADCAST_STATUSES
from ..sessions.models import MATERIAL_KINDS, SESSION_STATUSES
from .core import MAX_INT


class Text(fields.String):
    """A string the databases can store: no NUL characters, no lone surrogates."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in text:
            raise ma.ValidationError("Must not contain NUL characters.")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ma.ValidationError("Must be valid Unicode text.") from exc
        return text


def Id(**kwargs: Any) -> fields.Integer:
    return fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_INT), **kwargs)


def QueryId(**kwargs: Any) -> fields.Integer:
    """An id in a query string, where every value arrives as text."""
    return fields.Integer(validate=validate.Range(min=1, max=MAX_INT), **kwargs)


def Count(**kwargs: Any) -> fields.Integer:
    return fields.Integer(strict=True, validate=validate.Range(min=0, max=100_000), **kwargs)


def DateArg(**kwargs: Any) -> fields.Date:
    """A date filter. Any date is valid; queries clamp it (see ``bounded_day``)."""
    return fields.Date(**kwargs)


EARLIEST_DAY, LATEST_DAY = date(1900, 1, 1), date(9000, 1, 1)


def bounded_day(day: date) -> date:
    """Nothing happened before 1900 or will after 9000; clamping keeps date arithmetic and time
    zone conversion away from the ends of the calendar, where they overflow."""
    return min(max(day, EARLIEST_DAY), LATEST_DAY)


def _caller_is_partner() -> bool:
    if not has_request_context():
        return False
    # Noted at authentication: answers are dumped after the commit, when asking the (expired)
    # account would read it again in a transaction of its own.
    if "api_partner" in g:
        return bool(g.api_partner)
    user = g.get("api_user")
    return user is not None and not sees_participants(user)


class Schema(ma.Schema):
    class Meta:
        unknown = ma.RAISE


class _IdOnly(ma.Schema):
    id = fields.Integer(dump_only=True)


class QuerySchema(ma.Schema):
    """Query strings: page and per_page are read by the pagination, so unknown keys are ignored."""

    class Meta:
        unknown = ma.EXCLUDE


# --- Organisations, venues, partnerships ---------------------------------------------------------


class OrganisationSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(dump_only=True)
    kind = fields.String(dump_only=True, metadata={"enum": list(ORGANISATION_KINDS)})
    contact_name = fields.String(dump_only=True, allow_none=True)
    contact_email = fields.String(dump_only=True, allow_none=True)
    contact_phone = fields.String(dump_only=True, allow_none=True)
    share_location_detail = fields.Boolean(dump_only=True)
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

    name = Text(required=True, validate=validate.Length(min=1, max=200))
    kind = fields.String(required=True, validate=validate.OneOf(ORGANISATION_KINDS))
    contact_name = Text(allow_none=True, validate=validate.Length(max=200))
    contact_email = Text(allow_none=True, validate=validate.Length(max=254))
    contact_phone = Text(allow_none=True, validate=validate.Length(max=40))
    share_location_detail = fields.Boolean(
        truthy={True},
        falsy={False},
        metadata={"description": "Whether partners may see the ward, wing or unit of venues."},
    )
    prisons_reached = fields.Integer(
        strict=True,
        allow_none=True,
        validate=validate.Range(min=0, max=10_000),
        metadata={"description": "Radio stations only: how many prisons hear them."},
    )


class OrganisationUpdateSchema(OrganisationInputSchema):
    """The same fields as OrganisationInputSchema, every one optional (loaded partial)."""


class VenueUpdateSchema(Schema):
    """A venue's fields; to change (PATCH), any of them. A venue stays with its organisation."""

    name = Text(required=True, validate=validate.Length(min=1, max=200))
    setting_type = fields.String(required=True, validate=validate.OneOf(SETTING_TYPES))
    address = Text(allow_none=True, validate=validate.Length(max=500))
    unit = Text(
        allow_none=True,
        validate=validate.Length(max=200),
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


# --- Groups ---------------------------------------------------------------------------------------


class GroupSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(dump_only=True)
    venue_id = fields.Integer(dump_only=True)
    lead_leader_id = fields.Integer(dump_only=True, allow_none=True)
    coleader_ids = fields.Pluck(_IdOnly, "id", many=True, attribute="coleaders", dump_only=True)
    rrule = fields.String(
        dump_only=True, metadata={"description": "RFC 5545 rule without DTSTART."}
    )
    start_time = fields.Time(dump_only=True, metadata={"description": "Local wall-clock time."})
    duration_minutes = fields.Integer(dump_only=True)
    tz_name = fields.String(dump_only=True)
    first_date = fields.Date(dump_only=True)
    last_date = fields.Date(dump_only=True, allow_none=True)
    status = fields.String(dump_only=True, metadata={"enum": list(GROUP_STATUSES)})
    capacity = fields.Integer(dump_only=True, allow_none=True)
    audience_notes = fields.String(dump_only=True, allow_none=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class GroupQuerySchema(QuerySchema):
    venue_id = QueryId()
    status = fields.String(validate=validate.OneOf(GROUP_STATUSES))
    leader_id = QueryId(metadata={"description": "Groups this user leads or co-leads."})


# --- Materials, sessions, attendance -------------------------------------------------------------


class MaterialSchema(Schema):
    id = fields.Integer(dump_only=True)
    title = fields.String(dump_only=True)
    author = fields.String(dump_only=True)
    kind = fields.String(dump_only=True, metadata={"enum": list(MATERIAL_KINDS)})


class MaterialQuerySchema(QuerySchema):
    kind = fields.String(validate=validate.OneOf(MATERIAL_KINDS))
    q = Text(
        validate=validate.Length(min=1, max=200),
        metadata={"description": "Words in the title or author."},
    )


class MaterialInputSchema(Schema):
    """A text in the catalogue. To create, all three; to change (PATCH), any."""

    title = Text(required=True, validate=validate.Length(min=1, max=300))
    author = Text(
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"description": "“Anonymous” when unknown."},
    )
    kind = fields.String(required=True, validate=validate.OneOf(MATERIAL_KINDS))


class MaterialUpdateSchema(MaterialInputSchema):
    """The same fields as MaterialInputSchema, every one optional (loaded partial)."""


class SessionSchema(Schema):
    id = fields.Integer(dump_only=True)
    group_id = fields.Integer(dump_only=True)
    start_dt = fields.DateTime(dump_only=True)
    end_dt = fields.DateTime(dump_only=True)
    tz_name = fields.String(dump_only=True)
    duration_minutes = fields.Integer(dump_only=True)
    status = fields.String(dump_only=True, metadata={"enum": list(SESSION_STATUSES)})
    cancellation_reason = fields.String(dump_only=True, allow_none=True)
    occurrence_dt = fields.DateTime(dump_only=True, allow_none=True)
    rescheduled_from_dt = fields.DateTime(dump_only=True, allow_none=True)
    leader_id = fields.Integer(dump_only=True, allow_none=True)
    notes = fields.String(
        dump_only=True, allow_none=True, metadata={"description": "Null for partners."}
    )
    material_ids = fields.Pluck(_IdOnly, "id", many=True, attribute="materials", dump_only=True)
    version = fields.Integer(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)

    @ma.post_dump
    def _hide_notes(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        if _caller_is_partner():
            data["notes"] = None
        return data


class SessionCursor(fields.String):
    """A position in the session list, as the Link header's rel="next" gives it: the start and
    id of the last session of a page, encoded so clients treat it as opaque."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> tuple[datetime, int]:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("ascii")
            stamp, _, ident = raw.partition("|")
            start, session_id = datetime.fromisoformat(stamp), int(ident)
        except (ValueError, binascii.Error, UnicodeError) as exc:
            raise ma.ValidationError(CURSOR_HELP) from exc
        if start.tzinfo is None or not 1900 <= start.year <= 9000:
            raise ma.ValidationError(CURSOR_HELP)
        if not 1 <= session_id <= MAX_INT:
            raise ma.ValidationError(CURSOR_HELP)
        return start, session_id


CURSOR_HELP = 'Not a cursor from this API: follow the Link header\'s rel="next" address.'


def session_cursor(session: Any) -> str:
    raw = f"{session.start_dt.isoformat()}|{session.id}".encode("ascii")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


class SessionQuerySchema(QuerySchema):
    start_from = DateArg(
        data_key="from", metadata={"description": "Sessions starting on or after this local date."}
    )
    start_to = DateArg(
        data_key="to", metadata={"description": "Sessions starting on or before this local date."}
    )
    group_id = QueryId()
    organisation_id = QueryId(metadata={"description": "Groups partnered with this organisation."})
    status = fields.String(validate=validate.OneOf(SESSION_STATUSES))
    leader_id = QueryId()
    after = SessionCursor(
        validate=validate.Length(max=200),
        metadata={
            "description": (
                'Continue after this cursor (from the Link header\'s rel="next"); page is '
                "then ignored. A cursor is as fast on the last page as on the first."
            )
        },
    )


class RegisterEntrySchema(Schema):
    participant_id = Id(required=True)
    code = fields.String(dump_only=True)
    first_time = fields.Boolean(load_default=False)


class AttendanceSchema(Schema):
    """A session's attendance; ``logged`` is false (and counts zero) until it is logged."""

    session_id = fields.Integer(dump_only=True)
    session_version = fields.Integer(dump_only=True)
    logged = fields.Boolean(dump_only=True)
    participants = fields.Integer(dump_only=True)
    first_time = fields.Integer(dump_only=True)
    staff_carers = fields.Integer(dump_only=True)
    volunteers = fields.Integer(dump_only=True)
    register = fields.List(
        fields.Nested(RegisterEntrySchema),
        dump_only=True,
        allow_none=True,
        metadata={"description": "Who attended, by code. Null for partners."},
    )
    logged_by_id = fields.Integer(dump_only=True, allow_none=True)
    updated_at = fields.DateTime(dump_only=True, allow_none=True)

    @ma.post_dump
    def _hide_register(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        if _caller_is_partner():
            data["register"] = None
        return data


def attendance_view(session: Any) -> dict[str, Any]:
    """What AttendanceSchema dumps for a session, logged or not."""
    attendance: Attendance | None = session.attendance
    return {
        "session_id": session.id,
        "session_version": session.version,
        "logged": attendance is not None,
        "participants": attendance.participants if attendance else 0,
        "first_time": attendance.first_time if attendance else 0,
        "staff_carers": attendance.staff_carers if attendance else 0,
        "volunteers": attendance.volunteers if attendance else 0,
        "register": [
            {
                "participant_id": r.participant_id,
                "code": r.participant.code,
                "first_time": r.first_time,
            }
            for r in (attendance.records if attendance else [])
        ],
        "logged_by_id": attendance.logged_by_id if attendance else None,
        "updated_at": attendance.updated_at if attendance else None,
    }


# --- Radio ----------------------------------------------------------------------------------------


class StationSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(dump_only=True)
    prisons_reached = fields.Integer(dump_only=True, allow_none=True)
    contact_name = fields.String(dump_only=True, allow_none=True)
    contact_email = fields.String(dump_only=True, allow_none=True)


class ProgrammeSchema(Schema):
    id = fields.Integer(dump_only=True)
    station_id = fields.Integer(dump_only=True)
    title = fields.String(dump_only=True)
    description = fields.String(dump_only=True, allow_none=True)


class ProgrammeQuerySchema(QuerySchema):
    station_id = QueryId()


class EpisodeSchema(Schema):
    id = fields.Integer(dump_only=True)
    programme_id = fields.Integer(dump_only=True)
    number = fields.Integer(dump_only=True)
    title = fields.String(dump_only=True)
    duration_minutes = fields.Integer(dump_only=True)
    source_session_id = fields.Integer(dump_only=True, allow_none=True)
    material_ids = fields.Pluck(_IdOnly, "id", many=True, attribute="materials", dump_only=True)


class EpisodeQuerySchema(QuerySchema):
    programme_id = QueryId()


class ProgrammeInputSchema(Schema):
    """A programme's fields. To create, station_id and title; to change (PATCH), any."""

    station_id = Id(
        required=True,
        metadata={"description": "A radio station; a programme with broadcasts keeps its own."},
    )
    title = Text(required=True, validate=validate.Length(min=1, max=200))
    description = Text(allow_none=True, validate=validate.Length(max=2000))


class ProgrammeUpdateSchema(ProgrammeInputSchema):
    """The same fields as ProgrammeInputSchema, every one optional (loaded partial)."""


class EpisodeUpdateSchema(Schema):
    """An episode's fields; to change (PATCH), any of them."""

    number = fields.Integer(
        strict=True,
        required=True,
        validate=validate.Range(min=1, max=9999),
        metadata={"description": "Its number in the programme, unique there."},
    )
    title = Text(required=True, validate=validate.Length(min=1, max=200))
    duration_minutes = fields.Integer(
        strict=True, required=True, validate=validate.Range(min=1, max=24 * 60)
    )
    material_ids = fields.List(
        Id(),
        validate=validate.Length(max=10),
        metadata={"description": "The texts read in it; all of them (the list replaces)."},
    )


class EpisodeInputSchema(EpisodeUpdateSchema):
    """A new episode of a programme."""

    programme_id = Id(required=True)


class BroadcastSchema(Schema):
    id = fields.Integer(dump_only=True)
    station_id = fields.Integer(dump_only=True)
    episode_id = fields.Integer(dump_only=True)
    air_dt = fields.DateTime(dump_only=True)
    end_dt = fields.DateTime(dump_only=True)
    tz_name = fields.String(dump_only=True)
    duration_minutes = fields.Integer(dump_only=True)
    status = fields.String(dump_only=True, metadata={"enum": list(BROADCAST_STATUSES)})
    cancellation_reason = fields.String(dump_only=True, allow_none=True)
    repeat_of_id = fields.Integer(dump_only=True, allow_none=True)
    aired_at = fields.DateTime(dump_only=True, allow_none=True)
    version = fields.Integer(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class BroadcastQuerySchema(QuerySchema):
    station_id = QueryId()
    episode_id = QueryId()
    status = fields.String(validate=validate.OneOf(BROADCAST_STATUSES))
    air_from = DateArg(
        data_key="from", metadata={"description": "Airing on or after this local date."}
    )
    air_to = DateArg(
        data_key="to", metadata={"description": "Airing on or before this local date."}
    )


# --- Feed tokens ----------------------------------------------------------------------------------


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


# --- Input ----------------------------------------------------------------------------------------

AWARE_HELP = "ISO 8601 with an offset, e.g. 2026-03-03T10:30:00+00:00."
# Without an offset a local time can name two instants (or none) around a clock change.
NAIVE_MESSAGE = (
    "Give the date and time with its offset, e.g. 2026-03-03T10:30:00+00:00: "
    "without one the instant is not known."
)


def Aware(**kwargs: Any) -> fields.AwareDateTime:
    """A date-time that must carry its offset, refused clearly when it does not."""
    return fields.AwareDateTime(
        format="iso", error_messages={"invalid_awareness": NAIVE_MESSAGE}, **kwargs
    )


class SessionInputSchema(Schema):
    """An extra, one-off session of a group, outside its pattern."""

    group_id = Id(required=True)
    start_dt = Aware(
        required=True,
        metadata={"description": AWARE_HELP + " Kept as the wall-clock time in the group's zone."},
    )
    duration_minutes = fields.Integer(
        strict=True,
        validate=validate.Range(min=1, max=8 * 60),
        metadata={"description": "Defaults to the group's."},
    )
    leader_id = Id(allow_none=True, metadata={"description": "Defaults to the lead leader."})

    @ma.validates("start_dt")
    def _year(self, value: Any, **kwargs: Any) -> None:
        if not 2000 <= value.year <= 2100:
            raise ma.ValidationError("Enter a date between 2000 and 2100.")


class SessionUpdateSchema(Schema):
    """Either cancel (status "cancelled" and a reason) or move (start_dt and/or duration)."""

    status = fields.String(validate=validate.OneOf(["cancelled"]))
    cancellation_reason = Text(validate=validate.Length(min=1, max=500))
    start_dt = Aware(metadata={"description": AWARE_HELP})
    duration_minutes = fields.Integer(strict=True, validate=validate.Range(min=1, max=8 * 60))

    @ma.validates_schema
    def _one_change(self, data: dict[str, Any], **kwargs: Any) -> None:
        cancelling = "status" in data or "cancellation_reason" in data
        moving = "start_dt" in data or "duration_minutes" in data
        if cancelling and moving:
            raise ma.ValidationError("Cancel or move a session, not both at once.", "_schema")
        if not cancelling and not moving:
            raise ma.ValidationError(
                "Send status and cancellation_reason to cancel, or start_dt to move.", "_schema"
            )
        if cancelling and ("status" not in data or "cancellation_reason" not in data):
            raise ma.ValidationError(
                "To cancel, send status 'cancelled' and a cancellation_reason.", "_schema"
            )
        start = data.get("start_dt")
        if start is not None and not 2000 <= start.year <= 2100:
            raise ma.ValidationError("Enter a date between 2000 and 2100.", "start_dt")


class RegisterInputSchema(Schema):
    codes = fields.List(
        Text(validate=validate.Length(min=1, max=40)),
        load_default=list,
        validate=validate.Length(max=500),
        metadata={"description": "Codes of people already known to the host organisation."},
    )
    new_codes = fields.List(
        Text(validate=validate.Length(min=1, max=40)),
        load_default=list,
        validate=validate.Length(max=500),
        metadata={"description": "Codes of people here for the first time (created)."},
    )


class NewMaterialSchema(Schema):
    title = Text(required=True, validate=validate.Length(min=1, max=300))
    author = Text(required=True, validate=validate.Length(min=1, max=200))
    kind = fields.String(load_default="short_story", validate=validate.OneOf(MATERIAL_KINDS))


class AttendanceInputSchema(Schema):
    """Log a session as delivered, or change its log. Omitted optional fields keep their value
    (a register left out stays as it is; an empty register removes it)."""

    participants = Count(required=True)
    first_time = Count(load_default=0)
    staff_carers = Count(load_default=0)
    volunteers = Count(load_default=0)
    register = fields.Nested(RegisterInputSchema, allow_none=True)
    material_ids = fields.List(Id(), validate=validate.Length(max=10))
    new_materials = fields.List(fields.Nested(NewMaterialSchema), validate=validate.Length(max=10))
    notes = Text(allow_none=True, validate=validate.Length(max=5000))


class GroupInputSchema(Schema):
    """A group's fields. To create, all required ones; to change (PATCH), any of them."""

    name = Text(required=True, validate=validate.Length(min=1, max=200))
    venue_id = Id(required=True)
    rrule = Text(
        required=True,
        validate=validate.Length(min=1, max=500),
        metadata={"description": "RFC 5545 rule without DTSTART, e.g. FREQ=WEEKLY;BYDAY=TU."},
    )
    start_time = fields.Time(required=True, metadata={"description": "Local time, HH:MM:SS."})
    duration_minutes = fields.Integer(
        strict=True, required=True, validate=validate.Range(min=1, max=12 * 60)
    )
    first_date = fields.Date(
        required=True, validate=validate.Range(min=date(2000, 1, 1), max=date(2100, 12, 31))
    )
    tz_name = Text(load_default="Europe/London", validate=validate.Length(min=1, max=64))
    last_date = fields.Date(
        allow_none=True, validate=validate.Range(min=date(2000, 1, 1), max=date(2100, 12, 31))
    )
    lead_leader_id = Id(allow_none=True)
    coleader_ids = fields.List(Id(), validate=validate.Length(max=20))
    status = fields.String(validate=validate.OneOf(GROUP_STATUSES))
    capacity = fields.Integer(
        strict=True, allow_none=True, validate=validate.Range(min=1, max=10_000)
    )
    audience_notes = Text(allow_none=True, validate=validate.Length(max=2000))


class GroupUpdateSchema(GroupInputSchema):
    """The same fields as GroupInputSchema, every one optional (loaded with partial=True)."""


class PartnershipUpdateSchema(Schema):
    organisation_id = Id()
    role = fields.String(validate=validate.OneOf(PARTNERSHIP_ROLES))
    start_date = fields.Date(validate=validate.Range(min=date(2000, 1, 1), max=date(2100, 12, 31)))
    end_date = fields.Date(
        allow_none=True, validate=validate.Range(min=date(2000, 1, 1), max=date(2100, 12, 31))
    )


class BroadcastInputSchema(Schema):
    episode_id = Id(required=True)
    air_dt = Aware(required=True, metadata={"description": AWARE_HELP})
    tz_name = Text(
        load_default="Europe/London",
        validate=validate.Length(min=1, max=64),
        metadata={"description": "The station's zone: the slot keeps its wall-clock time."},
    )
    duration_minutes = fields.Integer(strict=True, validate=validate.Range(min=1, max=24 * 60))
    repeat_of_id = Id(allow_none=True)

    @ma.validates("air_dt")
    def _year(self, value: Any, **kwargs: Any) -> None:
        if not 2000 <= value.year <= 2100:
            raise ma.ValidationError("Enter a date between 2000 and 2100.")


class BroadcastUpdateSchema(Schema):
    """Either cancel (status "cancelled" and a reason) or move (air_dt, tz_name, duration)."""

    status = fields.String(validate=validate.OneOf(["cancelled"]))
    cancellation_reason = Text(validate=validate.Length(min=1, max=500))
    air_dt = Aware(metadata={"description": AWARE_HELP})
    tz_name = Text(validate=validate.Length(min=1, max=64))
    duration_minutes = fields.Integer(strict=True, validate=validate.Range(min=1, max=24 * 60))

    @ma.validates_schema
    def _one_change(self, data: dict[str, Any], **kwargs: Any) -> None:
        cancelling = "status" in data or "cancellation_reason" in data
        moving = any(k in data for k in ("air_dt", "tz_name", "duration_minutes"))
        if cancelling == moving:
            raise ma.ValidationError(
                "Send status 'cancelled' and a cancellation_reason to cancel, or air_dt "
                "(and optionally tz_name, duration_minutes) to move; not both.",
                "_schema",
            )
        if cancelling and ("status" not in data or "cancellation_reason" not in data):
            raise ma.ValidationError(
                "To cancel, send status 'cancelled' and a cancellation_reason.", "_schema"
            )
        air = data.get("air_dt")
        if air is not None and not 2000 <= air.year <= 2100:
            raise ma.ValidationError("Enter a date between 2000 and 2100.", "air_dt")


FEED_TARGET_FIELD = {rule.scope.value: rule.target_column for rule in FEED_SCOPE_RULES.values()}


class FeedTokenInputSchema(Schema):
    scope = fields.String(required=True, validate=validate.OneOf(FEED_SCOPES))
    organisation_id = Id(metadata={"description": "For organisation and station feeds."})
    group_id = Id(metadata={"description": "For group feeds."})
    user_id = Id(metadata={"description": "For leader feeds."})
    label = Text(allow_none=True, validate=validate.Length(max=200))

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
