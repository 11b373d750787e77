"""Every declared field limit is enforced alike by each layer that takes the field: the web form,
the API schema and, where the field comes from a file, the attendance CSV import. Each layer
must accept exactly the limit and refuse one more (and one less than a range's minimum).

The list of limits is read from the ``<domain>/limits.py`` modules, so a limit declared without
its checks here fails ``test_every_declared_limit_is_checked``.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import marshmallow as ma
import pytest
from flask import Flask
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import Form
from wtforms.validators import Length, NumberRange

from readerapp import limits as shared_limits
from readerapp.accounts.forms import ChangePasswordForm, SignInForm
from readerapp.api.schemas.attendance import AttendanceInputSchema, RegisterInputSchema
from readerapp.api.schemas.concerns import ConcernInputSchema, ConcernStatusSchema
from readerapp.api.schemas.feed_tokens import FeedTokenInputSchema
from readerapp.api.schemas.groups import GroupInputSchema
from readerapp.api.schemas.materials import MaterialInputSchema, NewMaterialSchema
from readerapp.api.schemas.organisations import (
    OrganisationInputSchema,
    PartnershipUpdateSchema,
    VenueUpdateSchema,
)
from readerapp.api.schemas.participants import ParticipantUpdateSchema
from readerapp.api.schemas.radio import (
    BroadcastInputSchema,
    BroadcastUpdateSchema,
    EpisodeInputSchema,
    ProgrammeInputSchema,
)
from readerapp.api.schemas.referrals import ReferralInputSchema, ReferralMoveSchema
from readerapp.api.schemas.sessions import SessionInputSchema, SessionUpdateSchema
from readerapp.api.schemas.workforce import CheckInputSchema, TrainingInputSchema
from readerapp.api.tokens import TokenError, create_token
from readerapp.api.views import CreateTokenForm
from readerapp.attendance import limits as attendance_limits
from readerapp.attendance.operations import HEADCOUNT_FIELDS, NameAndNote, record_name_and_note
from readerapp.catalogue.views import MaterialForm
from readerapp.extensions import db
from readerapp.feeds import limits as feed_limits
from readerapp.feeds.forms import FeedTokenForm
from readerapp.groups import limits as group_limits
from readerapp.groups.forms import GroupForm, PartnershipForm
from readerapp.groups.patterns import parse_excluded_dates
from readerapp.groups.recurrence import PatternError
from readerapp.limits import Bounds
from readerapp.logbook.forms import LogSessionForm, MaterialEntryForm
from readerapp.logbook.imports import ImportRejected, import_attendance
from readerapp.organisations import limits as organisation_limits
from readerapp.organisations.forms import OrganisationForm, VenueForm
from readerapp.outcomes import limits as outcome_limits
from readerapp.outcomes.definitions import MeasureFileError, read_measure
from readerapp.outcomes.views import ScheduleForm
from readerapp.privacy.views import NameAndNoteForm
from readerapp.radio import limits as radio_limits
from readerapp.radio.forms import BroadcastForm, CancelForm, EpisodeForm, MoveForm, ProgrammeForm
from readerapp.referrals import limits as referral_limits
from readerapp.referrals.forms import ReferralForm, ReferralStatusForm
from readerapp.safeguarding import limits as safeguarding_limits
from readerapp.safeguarding.forms import ConcernForm, StatusForm
from readerapp.sessions import limits as session_limits
from readerapp.sessions.errors import SessionError
from readerapp.sessions.forms import AddSessionForm, CancelSessionForm, RescheduleSessionForm
from readerapp.timeutil import utcnow
from readerapp.users import limits as user_limits
from readerapp.users.admin_forms import CreateUserForm, EditUserForm
from readerapp.workforce import limits as workforce_limits
from readerapp.workforce.forms import (
    CheckForm,
    GroupHoursForm,
    HoursAdjustmentForm,
    HoursForm,
    LeaderRecordForm,
    TrainingForm,
)
from tests.factories import Factory

LIMIT_MODULES: tuple[ModuleType, ...] = (
    shared_limits,
    organisation_limits,
    group_limits,
    session_limits,
    attendance_limits,
    radio_limits,
    feed_limits,
    user_limits,
    outcome_limits,
    workforce_limits,
    safeguarding_limits,
    referral_limits,
)
Limit = int | Bounds


def declared_limits() -> dict[str, Limit]:
    found: dict[str, Limit] = {}
    for module in LIMIT_MODULES:
        domain = module.__name__.removeprefix("readerapp.").split(".")[0]
        for name, value in vars(module).items():
            if name.isupper() and isinstance(value, int | Bounds):
                found[f"{domain}.{name}"] = value
    return found


# --- How each layer is asked ---------------------------------------------------------------------


@dataclass(frozen=True)
class FormField:
    form: type[Form]
    name: str

    def accepts(self, value: Any) -> bool:
        data = MultiDict({self.name: str(value)})
        if issubclass(self.form, FlaskForm):
            form = self.form(formdata=data, meta={"csrf": False})
        else:
            form = self.form(formdata=data)
        # The field's limit validators only: the rest of the form is not filled in, and a value
        # at the limit need not be otherwise valid (a 64-letter zone name does not exist).
        bound = form[self.name]
        bound.validators = [v for v in bound.validators if isinstance(v, Length | NumberRange)]
        assert bound.validators, f"{self} has no limit"
        return bound.validate(form)

    def __str__(self) -> str:
        return f"form {self.form.__name__}.{self.name}"


@dataclass(frozen=True)
class SchemaField:
    schema: type[ma.Schema]
    name: str
    extra: dict[str, Any] = field(default_factory=dict)
    in_list: bool = False  # the field is a list of such values

    def accepts(self, value: Any) -> bool:
        given = [value] if self.in_list else value
        errors = self.schema().validate({**self.extra, self.name: given}, partial=True)
        return self.name not in errors

    def __str__(self) -> str:
        return f"API {self.schema.__name__}.{self.name}"


@dataclass(frozen=True)
class Check:
    """Any other reader of a limit (a parser, the CSV import): ``run`` says whether it took it."""

    label: str
    run: Callable[[Any], bool]

    def accepts(self, value: Any) -> bool:
        return self.run(value)

    def __str__(self) -> str:
        return self.label


def _excluded_reason(value: str) -> bool:
    try:
        parse_excluded_dates(f"2026-12-25 {value}")
    except PatternError:
        return False
    return True


def api_year(schema: type[ma.Schema], name: str, time: str = "") -> Check:
    """A date (or date and time) field, given a day in the year."""

    def run(year: int) -> bool:
        errors = schema().validate({name: f"{year:04d}-06-01{time}"}, partial=True)
        return name not in errors

    return Check(f"API {schema.__name__}.{name}", run)


def form_year(form_class: type[FlaskForm], name: str) -> Check:
    def run(year: int) -> bool:
        form = form_class(formdata=MultiDict({name: f"{year:04d}-06-01"}), meta={"csrf": False})
        return form[name].validate(form)

    return Check(f"form {form_class.__name__}.{name}", run)


def _excluded_year(year: int) -> bool:
    try:
        parse_excluded_dates(f"{year:04d}-06-01")
    except PatternError:
        return False
    return True


def _token_name(value: str) -> bool:
    user = Factory().user()
    savepoint = db.session.begin_nested()
    try:
        create_token(user, value)
    except TokenError:
        return False
    finally:
        savepoint.rollback()
    return True


def csv_column(column: str, status: str = "delivered", **others: str) -> Check:
    """One row of the paper-register import with ``column`` set to the value."""

    def run(value: Any) -> bool:
        factory = Factory()
        group = factory.group()
        admin = factory.user("admin")
        day = (utcnow() - timedelta(days=7)).date().isoformat()
        # Confirmed: the row's counts are about a limit, not about looking usual.
        row = {"date": day, "status": status, "confirm": "yes", **others, column: str(value)}
        data = (",".join(row) + "\n" + ",".join(row.values()) + "\n").encode()
        savepoint = db.session.begin_nested()
        try:
            import_attendance(group, data, actor=admin)
        except ImportRejected:
            return False
        finally:
            savepoint.rollback()
        return True

    return Check(f"CSV import column {column}", run)


def _named(**text: str) -> bool:
    """The operation itself, for a participant of an organisation that keeps names."""
    factory = Factory()
    person = factory.participant(factory.organisation(keep_names=True))
    savepoint = db.session.begin_nested()
    try:
        record_name_and_note(person, NameAndNote(**text))
    except SessionError:
        return False
    finally:
        savepoint.rollback()
    return True


def csv_name(value: str) -> bool:
    """The paper-register import's names column ("CODE: first name")."""
    factory = Factory()
    host = factory.organisation(keep_names=True)
    group = factory.group(factory.venue(host))
    admin = factory.user("admin")
    day = (utcnow() - timedelta(days=7)).date().isoformat()
    header = "date,status,participants,first_time,new_codes,names\n"
    data = header + f"{day},delivered,1,1,NEW-1,NEW-1: {value}\n"
    savepoint = db.session.begin_nested()
    try:
        import_attendance(group, data.encode(), actor=admin)
    except ImportRejected:
        return False
    finally:
        savepoint.rollback()
    return True


def _measure_file(value: Any, field: str) -> bool:
    """A measure file (loaded by command, never typed into a form) with one field at ``value``;
    item and option counts are given as numbers of items and of options."""
    fields: dict[str, Any] = {
        "name": "Mood",
        "version": "1",
        "acknowledgement": "Made up for a test",
        "label": "Mood",
        "text": "How is your mood?",
        "option_label": "Low",
        "items": 1,
        "options": 2,
        "value": 1,
    } | {field: value}
    # Option values rise: the value under test beside one of 99 (or 0, for one above 99).
    value = fields["value"]
    values = ([value, 99] if value < 99 else [0, value]) if field == "value" else range(1, 99)
    options = ", ".join(
        f"{{ value = {v}, label = {json.dumps(fields['option_label'])} }}"
        for v in list(values)[: fields["options"] if field != "value" else 2]
    )
    items = "".join(
        f'[[items]]\nkey = "item{n}"\nlabel = {json.dumps(fields["label"])}\n'
        f"text = {json.dumps(fields['text'])}\n"
        for n in range(fields["items"])
    )
    text = (
        f'key = "mood"\nname = {json.dumps(fields["name"])}\n'
        f"version = {json.dumps(fields['version'])}\n"
        f"acknowledgement = {json.dumps(fields['acknowledgement'])}\n"
        f'uses = ["anonymous"]\nscoring = "per_item"\n'
        f"[responses]\noptions = [{options}]\n{items}"
    )
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "measure.toml"
        path.write_text(text, encoding="utf-8")
        try:
            read_measure(path)
        except MeasureFileError:
            return False
    return True


def measure_file(field: str) -> Check:
    return Check(f"measure file {field}", lambda value: _measure_file(value, field))


codes = SchemaField(RegisterInputSchema, "new_codes", in_list=True)
scope = {"scope": "organisation", "organisation_id": 1}

CHECKS: dict[str, list[FormField | SchemaField | Check]] = {
    "limits.YEARS": [
        form_year(GroupForm, "first_date"),
        form_year(GroupForm, "last_date"),
        form_year(PartnershipForm, "start_date"),
        api_year(GroupInputSchema, "first_date"),
        api_year(GroupInputSchema, "last_date"),
        api_year(PartnershipUpdateSchema, "start_date"),
        api_year(PartnershipUpdateSchema, "end_date"),
        api_year(SessionInputSchema, "start_dt", "T10:00:00+00:00"),
        api_year(SessionUpdateSchema, "start_dt", "T10:00:00+00:00"),
        api_year(BroadcastInputSchema, "air_dt", "T10:00:00+00:00"),
        api_year(BroadcastUpdateSchema, "air_dt", "T10:00:00+00:00"),
        form_year(CheckForm, "issued_on"),
        form_year(CheckForm, "renewal_due"),
        form_year(CheckForm, "update_checked_on"),
        form_year(TrainingForm, "completed_on"),
        form_year(TrainingForm, "expires_on"),
        form_year(LeaderRecordForm, "left_on"),
        form_year(HoursForm, "date_from"),
        form_year(HoursForm, "date_to"),
        api_year(CheckInputSchema, "issued_on"),
        api_year(CheckInputSchema, "renewal_due"),
        api_year(CheckInputSchema, "update_checked_on"),
        api_year(TrainingInputSchema, "completed_on"),
        api_year(TrainingInputSchema, "expires_on"),
        Check("excluded dates text", _excluded_year),
    ],
    "organisations.ORGANISATION_NAME": [
        FormField(OrganisationForm, "name"),
        SchemaField(OrganisationInputSchema, "name"),
    ],
    "organisations.CONTACT_NAME": [
        FormField(OrganisationForm, "contact_name"),
        SchemaField(OrganisationInputSchema, "contact_name"),
    ],
    "organisations.CONTACT_EMAIL": [
        FormField(OrganisationForm, "contact_email"),
        SchemaField(OrganisationInputSchema, "contact_email"),
    ],
    "organisations.CONTACT_PHONE": [
        FormField(OrganisationForm, "contact_phone"),
        SchemaField(OrganisationInputSchema, "contact_phone"),
    ],
    "organisations.PRISONS_REACHED": [
        FormField(OrganisationForm, "prisons_reached"),
        SchemaField(OrganisationInputSchema, "prisons_reached"),
    ],
    "organisations.VENUE_NAME": [
        FormField(VenueForm, "name"),
        SchemaField(VenueUpdateSchema, "name"),
    ],
    "organisations.VENUE_ADDRESS": [
        FormField(VenueForm, "address"),
        SchemaField(VenueUpdateSchema, "address"),
    ],
    "organisations.VENUE_UNIT": [
        FormField(VenueForm, "unit"),
        SchemaField(VenueUpdateSchema, "unit"),
    ],
    "groups.GROUP_NAME": [FormField(GroupForm, "name"), SchemaField(GroupInputSchema, "name")],
    "groups.RRULE": [FormField(GroupForm, "custom_rule"), SchemaField(GroupInputSchema, "rrule")],
    "groups.TZ_NAME": [FormField(GroupForm, "tz_name"), SchemaField(GroupInputSchema, "tz_name")],
    "groups.ROOM": [FormField(GroupForm, "room"), SchemaField(GroupInputSchema, "room")],
    "groups.AUDIENCE_NOTES": [
        FormField(GroupForm, "audience_notes"),
        SchemaField(GroupInputSchema, "audience_notes"),
    ],
    "groups.DURATION_MINUTES": [
        FormField(GroupForm, "duration_minutes"),
        SchemaField(GroupInputSchema, "duration_minutes"),
    ],
    "groups.CAPACITY": [
        FormField(GroupForm, "capacity"),
        SchemaField(GroupInputSchema, "capacity"),
    ],
    # Set on the group form only; the API does not take it.
    "groups.EXPECTED_MAX": [FormField(GroupForm, "expected_max")],
    # Reasons arrive inside the form's excluded-dates text; the API does not take them.
    "groups.EXCLUDED_REASON": [Check("excluded dates text", _excluded_reason)],
    "sessions.MATERIAL_TITLE": [
        FormField(MaterialForm, "title"),
        FormField(MaterialEntryForm, "title"),
        SchemaField(MaterialInputSchema, "title"),
        SchemaField(NewMaterialSchema, "title"),
        csv_column("story_title", story_author="Anon"),
    ],
    "sessions.MATERIAL_AUTHOR": [
        FormField(MaterialForm, "author"),
        FormField(MaterialEntryForm, "author"),
        SchemaField(MaterialInputSchema, "author"),
        SchemaField(NewMaterialSchema, "author"),
        csv_column("story_author", story_title="A story"),
    ],
    "sessions.CANCELLATION_REASON": [
        FormField(LogSessionForm, "cancellation_reason"),
        FormField(CancelSessionForm, "reason"),
        SchemaField(SessionUpdateSchema, "cancellation_reason"),
        csv_column("cancellation_reason", status="cancelled"),
    ],
    "sessions.SESSION_NOTES": [
        FormField(LogSessionForm, "notes"),
        SchemaField(AttendanceInputSchema, "notes"),
    ],
    "sessions.DURATION_MINUTES": [
        FormField(AddSessionForm, "duration_minutes"),
        FormField(RescheduleSessionForm, "duration_minutes"),
        SchemaField(SessionInputSchema, "duration_minutes"),
        SchemaField(SessionUpdateSchema, "duration_minutes"),
    ],
    "attendance.PARTICIPANT_CODE": [
        codes,
        SchemaField(RegisterInputSchema, "codes", in_list=True),
        csv_column("new_codes", participants="1", first_time="1"),
    ],
    "attendance.PARTICIPANT_NAME": [
        FormField(NameAndNoteForm, "display_name"),
        SchemaField(ParticipantUpdateSchema, "display_name"),
        Check("record_name_and_note", lambda v: _named(display_name=v)),
        Check("CSV import column names", csv_name),
    ],
    "attendance.PARTICIPANT_NOTE": [
        FormField(NameAndNoteForm, "notes"),
        SchemaField(ParticipantUpdateSchema, "notes"),
        Check("record_name_and_note", lambda v: _named(notes=v)),
    ],
    "attendance.HEADCOUNT": [
        *(FormField(LogSessionForm, name) for name in HEADCOUNT_FIELDS),
        *(SchemaField(AttendanceInputSchema, name) for name in HEADCOUNT_FIELDS),
        csv_column("participants"),
        csv_column("volunteers"),
    ],
    "radio.PROGRAMME_TITLE": [
        FormField(ProgrammeForm, "title"),
        SchemaField(ProgrammeInputSchema, "title"),
    ],
    "radio.PROGRAMME_DESCRIPTION": [
        FormField(ProgrammeForm, "description"),
        SchemaField(ProgrammeInputSchema, "description"),
    ],
    "radio.EPISODE_TITLE": [
        FormField(EpisodeForm, "title"),
        SchemaField(EpisodeInputSchema, "title"),
    ],
    "radio.EPISODE_NUMBER": [
        FormField(EpisodeForm, "number"),
        SchemaField(EpisodeInputSchema, "number"),
    ],
    "radio.DURATION_MINUTES": [
        FormField(BroadcastForm, "duration_minutes"),
        FormField(MoveForm, "duration_minutes"),
        FormField(EpisodeForm, "duration_minutes"),
        SchemaField(BroadcastInputSchema, "duration_minutes"),
        SchemaField(BroadcastUpdateSchema, "duration_minutes"),
        SchemaField(EpisodeInputSchema, "duration_minutes"),
    ],
    "radio.CANCELLATION_REASON": [
        FormField(CancelForm, "reason"),
        SchemaField(BroadcastUpdateSchema, "cancellation_reason"),
    ],
    "radio.TZ_NAME": [
        FormField(BroadcastForm, "tz_name"),
        SchemaField(BroadcastInputSchema, "tz_name"),
        SchemaField(BroadcastUpdateSchema, "tz_name"),
    ],
    "feeds.FEED_TOKEN_LABEL": [
        FormField(FeedTokenForm, "label"),
        SchemaField(FeedTokenInputSchema, "label", extra=scope),
    ],
    # Accounts and API tokens are managed on web pages only: no API schema takes them.
    "users.DISPLAY_NAME": [
        FormField(CreateUserForm, "display_name"),
        FormField(EditUserForm, "display_name"),
    ],
    "users.EMAIL": [FormField(CreateUserForm, "email"), FormField(SignInForm, "email")],
    "users.PASSWORD": [
        FormField(CreateUserForm, "password"),
        FormField(EditUserForm, "new_password"),
        FormField(SignInForm, "password"),
        FormField(ChangePasswordForm, "new_password"),
    ],
    "users.API_TOKEN_NAME": [
        FormField(CreateTokenForm, "name"),
        Check("create_token", _token_name),
    ],
    # Measures are loaded from files by command; no form or API schema takes them yet.
    "outcomes.MEASURE_NAME": [measure_file("name")],
    "outcomes.MEASURE_VERSION": [measure_file("version")],
    "outcomes.ACKNOWLEDGEMENT": [measure_file("acknowledgement")],
    "outcomes.ITEM_LABEL": [measure_file("label")],
    "outcomes.ITEM_TEXT": [measure_file("text")],
    "outcomes.OPTION_LABEL": [measure_file("option_label")],
    "outcomes.ITEMS": [measure_file("items")],
    "outcomes.OPTIONS": [measure_file("options")],
    "outcomes.RESPONSE_RANGE": [measure_file("value")],
    "outcomes.EVERY_SESSIONS": [FormField(ScheduleForm, "every_sessions")],
    "outcomes.EVERY_WEEKS": [FormField(ScheduleForm, "every_weeks")],
    "workforce.ADJUSTMENT_REASON": [FormField(HoursAdjustmentForm, "reason")],
    "workforce.CERTIFICATE_NUMBER_INPUT": [
        FormField(CheckForm, "certificate_number"),
        SchemaField(CheckInputSchema, "certificate_number"),
    ],
    # The web form offers the known courses to choose from: only the API takes typed text.
    "workforce.COURSE": [SchemaField(TrainingInputSchema, "course")],
    "workforce.ADJUSTED_MINUTES": [
        FormField(HoursAdjustmentForm, "minutes"),
        FormField(GroupHoursForm, "preparation_minutes"),
        FormField(GroupHoursForm, "travel_minutes"),
    ],
    "safeguarding.CONCERN_TEXT": [
        FormField(ConcernForm, "seen_or_said"),
        FormField(ConcernForm, "action_taken"),
        FormField(StatusForm, "outcome"),
        SchemaField(ConcernInputSchema, "seen_or_said"),
        SchemaField(ConcernInputSchema, "action_taken"),
        SchemaField(ConcernStatusSchema, "outcome"),
    ],
    "safeguarding.WHO_WAS_TOLD": [
        FormField(ConcernForm, "who_was_told"),
        SchemaField(ConcernInputSchema, "who_was_told"),
    ],
    "safeguarding.REFERRED_TO": [
        FormField(StatusForm, "referred_to"),
        SchemaField(ConcernStatusSchema, "referred_to"),
    ],
    "safeguarding.REFERENCE": [
        FormField(StatusForm, "reference"),
        SchemaField(ConcernStatusSchema, "reference"),
    ],
    "referrals.REFERRER_NAME": [
        FormField(ReferralForm, "referrer_name"),
        SchemaField(ReferralInputSchema, "referrer_name"),
    ],
    "referrals.REFERRER_EMAIL": [
        FormField(ReferralForm, "referrer_email"),
        SchemaField(ReferralInputSchema, "referrer_email"),
    ],
    "referrals.STATUS_REASON": [
        FormField(ReferralStatusForm, "reason"),
        SchemaField(ReferralMoveSchema, "reason"),
    ],
}


def test_every_declared_limit_is_checked() -> None:
    declared = declared_limits()
    assert set(CHECKS) == set(declared), "declare each limit once, and check it in every layer"


def _cases() -> Iterator[Any]:
    limits = declared_limits()
    for key, checks in CHECKS.items():
        for check in checks:
            yield pytest.param(key, limits.get(key), check, id=f"{key}-{check}")


def _edges(limit: Limit) -> list[tuple[Any, bool]]:
    """The values at the edge of a limit, and whether each must be accepted."""
    if isinstance(limit, Bounds):
        return [
            (limit.max, True),
            (limit.max + 1, False),
            (limit.min, True),
            (limit.min - 1, False),
        ]
    # Codes are the strictest text: capitals and digits are valid in every field.
    return [("A" * limit, True), ("A" * (limit + 1), False)]


@pytest.mark.parametrize(("key", "limit", "check"), list(_cases()))
def test_each_layer_accepts_exactly_the_limit(
    app: Flask, key: str, limit: Limit, check: Any
) -> None:
    assert limit is not None, f"{key} is no longer declared"
    with app.test_request_context():
        for value, expected in _edges(limit):
            shown = value if isinstance(value, int) else f"{len(value)} characters"
            assert check.accepts(value) is expected, (
                f"{check} should {'accept' if expected else 'refuse'} {shown} for {key}"
            )
