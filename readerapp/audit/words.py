"""The audit trail in words: one registry of what each kind of entry and each field is called,
and how a stored value reads.

Stored entries keep raw values (ids, ISO text, machine names), which the CSV gives as they are.
The page shows them through this registry: a field's label, a choice's words, a local time, a
Yes or No, and for an id the thing's name (looked up by ``readerapp.audit.display``). Secrets
and participants' personal data are never stored (``trail.REDACTED``, ``trail.HIDDEN``), so
nothing here can show them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import cache

import sqlalchemy as sa

from ..db import UTCDateTime
from ..feeds.scopes import FeedScope
from ..groups.models import GROUP_STATUSES
from ..organisations.forms import KIND_LABELS, SETTING_LABELS
from ..organisations.models import PARTNERSHIP_ROLES
from ..outcomes.answers import MODE_LABELS
from ..outcomes.consent import WORDINGS
from ..radio.models import BROADCAST_STATUSES
from ..referrals.models import STATUS_LABELS as REFERRAL_STATUS_LABELS
from ..safeguarding.models import STATUS_LABELS as CONCERN_STATUS_LABELS
from ..sessions.forms import MATERIAL_KIND_CHOICES
from ..sessions.models import SESSION_STATUSES
from ..timeutil import to_local
from ..users.admin_forms import ROLE_LABELS
from ..workforce.models import CHECK_TYPE_LABELS, EMPLOYMENT_TYPES
from .trail import HIDDEN, REDACTED, tracked_models

# The app's usual formats (readerapp.web.filters): local time, Europe/London unless set.
DATETIME_FORMAT = "%a %-d %b %Y, %H:%M"
DATE_FORMAT = "%a %-d %b %Y"
NOTHING = "—"
SECRET_WORDS = "changed (secret, not shown)"  # noqa: S105  (words, not a secret)
HIDDEN_WORDS = "changed (personal, not shown)"


def _capitalised(values: tuple[str, ...]) -> dict[str, str]:
    return {v: v.replace("_", " ").capitalize() for v in values}


@dataclass(frozen=True)
class Kind:
    """One kind of entry: what a thing is called, and each of its fields."""

    label: str
    plural: str
    fields: Mapping[str, str] = field(default_factory=dict)
    # Fields whose stored value is one of a fixed set of machine names.
    choices: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # Fields holding minutes.
    minutes: frozenset[str] = frozenset()
    # Fields holding an iCalendar repeat rule.
    rules: frozenset[str] = frozenset()
    # Dates and times in the details of explicit records ("day" or "when"); those of columns
    # are read from the models (``shapes``).
    times: Mapping[str, str] = field(default_factory=dict)


# Why a single-use link (an invitation, a password reset) was refused.
LINK_REFUSALS = {"unknown": "Not a link we sent", "expired": "Expired", "used": "Already used"}

# Why a sign-in's second step, or a single sign-on, was refused.
SIGN_IN_REFUSALS = {
    "wrong_code": "Wrong code",
    "replayed_code": "Code already used",
    "sso_state": "Sign-on answer not for this browser",
    "sso_token": "Sign-on answer not valid",
    "sso_domain": "Email outside the allowed domains",
    "sso_no_account": "No account for that email",
}

_STATUS = {"status": _capitalised(SESSION_STATUSES)}

KINDS: dict[str, Kind] = {
    "group": Kind(
        "Group",
        "groups",
        {
            "id": "Id",
            "name": "Name",
            "venue_id": "Venue",
            "lead_leader_id": "Lead reader leader",
            "rrule": "Repeats",
            "start_time": "Start time",
            "duration_minutes": "Length",
            "tz_name": "Time zone",
            "first_date": "First date",
            "last_date": "Last date",
            "status": "Status",
            "capacity": "Capacity",
            "room": "Room or ward",
            "expected_max": "Usual most participants",
            "keeps_register": "Keeps a register",
            "audience_notes": "Audience notes",
            "coleaders": "Co-leaders",
            "partnerships": "Partnerships",
            "excluded_dates": "Excluded dates",
        },
        choices={"status": _capitalised(GROUP_STATUSES)},
        minutes=frozenset({"duration_minutes"}),
        rules=frozenset({"rrule"}),
    ),
    "group_excluded_date": Kind(
        "Excluded date",
        "excluded dates",
        {"group_id": "Group", "day": "Date", "reason": "Reason"},
    ),
    "session": Kind(
        "Session",
        "sessions",
        {
            "id": "Id",
            "group_id": "Group",
            "start_dt": "Start",
            "tz_name": "Time zone",
            "duration_minutes": "Length",
            "status": "Status",
            "cancellation_reason": "Reason for cancelling",
            "occurrence_dt": "Planned start in the pattern",
            "rescheduled_from_dt": "Moved from",
            "leader_id": "Reader leader",
            "notes": "Notes",
            "sequence": "Calendar revision",
            "touched": "Changed by hand",
            "reminder_sent_at": "Reminder sent",
            "nudge_sent_at": "Logging reminder sent",
            "entered_late_at": "Entered late from paper",
            "materials": "What was read",
        },
        choices=_STATUS,
        minutes=frozenset({"duration_minutes"}),
    ),
    "attendance": Kind(
        "Attendance",
        "attendance logs",
        {
            "id": "Id",
            "session_id": "Session",
            "participants": "Participants",
            "first_time": "First-timers",
            "staff_carers": "Staff and carers",
            "volunteers": "Volunteers",
            "logged_by_id": "Logged by",
            "records": "Register",
        },
    ),
    "participant_attendance": Kind(
        "Register entry",
        "register entries",
        {"session_id": "Session", "participant_id": "Participant", "first_time": "First time"},
    ),
    "participant": Kind(
        "Participant",
        "participants",
        {
            "id": "Id",
            "organisation_id": "Organisation",
            "code": "Code",
            "display_name": "Name",
            "notes": "Notes",
            "erased_at": "Erased",
            # Details of a retention run and of a name shown.
            "cleared": "Participants cleared",
            "months": "Kept for (months)",
            "cutoff": "Last seen before",
            "outcomes_people": "People whose outcome answers went",
            "outcomes_cutoff": "Outcome answers of people unseen since",
            "hand_overs_expired": "Answers in progress on a phone, expired and removed",
            "answer_sets_removed": "Answer sets removed",
            "consent_entries_removed": "Consent entries removed",
            "referrals_cleared": "Referrals cleared of contact details",
            "page": "Shown on",
        },
        choices={
            "page": {
                "participants": "The participants list",
                "participant": "The participant's page",
                "edit_name": "The name form",
                "api": "The API",
            }
        },
        times={"cutoff": "when", "outcomes_cutoff": "when"},
    ),
    "user": Kind(
        "User",
        "users",
        {
            "id": "Id",
            "email": "Email",
            "display_name": "Name",
            "password_hash": "Password",
            "role": "Role",
            "organisation_id": "Organisation",
            "active": "Active",
            "session_generation": "Sign-in generation",
            "totp_secret": "Two-factor secret",
            "totp_enabled_at": "Two-factor sign-in since",
            "totp_last_step": "Last two-factor code",
            "safeguarding_lead": "Designated safeguarding lead",
        },
        choices={"role": ROLE_LABELS},
    ),
    "invitation": Kind(
        "Invitation",
        "invitations",
        {
            "id": "Id",
            "email": "Email",
            "display_name": "Name",
            "role": "Role",
            "organisation_id": "Organisation",
            "token_hash": "Link",
            "invited_by_id": "Invited by",
            "expires_at": "Expires",
            "accepted_at": "Accepted",
            "user_id": "Account",
            "reason": "Why",
        },
        choices={
            "role": ROLE_LABELS,
            "reason": {
                "unknown": "Not a link we sent",
                "expired": "Expired",
                "used": "Already used",
            },
        },
    ),
    "password_reset": Kind(
        "Password reset",
        "password resets",
        {"reason": "Why"},
        choices={
            "reason": {
                "unknown": "Not a link we sent",
                "expired": "Expired",
                "used": "Already used",
            }
        },
    ),
    "sign_in": Kind(
        "Sign-in",
        "sign-ins",
        {"reason": "Why", "provider": "Provider"},
        choices={"reason": SIGN_IN_REFUSALS},
    ),
    "api_token": Kind(
        "API token",
        "API tokens",
        {
            "id": "Id",
            "user_id": "Holder",
            "name": "Name",
            "token_hash": "Token",
            "prefix": "Starts with",
            "revoked_at": "Revoked",
        },
    ),
    "organisation": Kind(
        "Organisation",
        "organisations",
        {
            "id": "Id",
            "name": "Name",
            "kind": "Kind",
            "contact_name": "Contact name",
            "contact_email": "Contact email",
            "contact_phone": "Contact phone",
            "share_location_detail": "Feeds show the ward, wing or unit",
            "keep_names": "Keeps names",
            "prisons_reached": "Prisons reached",
            "venues": "Venues",
            "partnerships": "Partnerships",
        },
        choices={"kind": KIND_LABELS},
    ),
    "venue": Kind(
        "Venue",
        "venues",
        {
            "id": "Id",
            "name": "Name",
            "setting_type": "Setting",
            "address": "Address",
            "unit": "Ward, wing or unit",
            "organisation_id": "Organisation",
        },
        choices={"setting_type": SETTING_LABELS},
    ),
    "partnership": Kind(
        "Partnership",
        "partnerships",
        {
            "id": "Id",
            "organisation_id": "Organisation",
            "group_id": "Group",
            "role": "Role",
            "start_date": "From",
            "end_date": "Until",
        },
        choices={"role": _capitalised(PARTNERSHIP_ROLES)},
    ),
    "broadcast": Kind(
        "Broadcast",
        "broadcasts",
        {
            "id": "Id",
            "station_id": "Station",
            "episode_id": "Episode",
            "air_dt": "Air time",
            "tz_name": "Time zone",
            "duration_minutes": "Length",
            "status": "Status",
            "cancellation_reason": "Reason for cancelling",
            "repeat_of_id": "Repeat of",
            "source_key": "Schedule file line",
            "sequence": "Calendar revision",
            "reminder_sent_at": "Reminder sent",
            "aired_at": "Marked as aired",
        },
        choices={"status": _capitalised(BROADCAST_STATUSES)},
        minutes=frozenset({"duration_minutes"}),
    ),
    "consent_record": Kind(
        "Consent entry",
        "consent entries",
        {
            "id": "Id",
            "participant_id": "Participant",
            "purpose": "For",
            "given": "Given",
            "wording_version": "Wording version",
            "on_date": "On",
            "recorded_at": "Recorded",
            "recorded_by_id": "Recorded by",
            # Details of entries shown.
            "page": "Shown on",
        },
        choices={"purpose": {p: w.label for p, w in WORDINGS.items()}},
    ),
    "answer_set": Kind(
        "Answer set",
        "answer sets",
        {
            "id": "Id",
            "measure_version_id": "Measure version",
            "participant_id": "Participant",
            "group_id": "Group",
            "session_id": "Session",
            "answered_on": "Answered on",
            "mode": "How answered",
            "answers": "Answers",
            "complete": "Every question answered",
            "entered_by_id": "Entered by",
            "entered_at": "Entered",
            # Details of answers shown.
            "page": "Shown on",
        },
        choices={"mode": MODE_LABELS},
    ),
    "feed_token": Kind(
        "Calendar feed address",
        "calendar feed addresses",
        {
            "id": "Id",
            "scope": "Feed of",
            "organisation_id": "Organisation",
            "group_id": "Group",
            "user_id": "Reader leader",
            "token_hash": "Address",
            "label": "Label",
            "created_by_id": "Made by",
            "revoked_at": "Revoked",
        },
        choices={"scope": {s.value: s.value.capitalize() for s in FeedScope}},
    ),
    # Named by entries (what was read, what aired) but not audited themselves.
    "material": Kind("Reading", "readings"),
    "episode": Kind("Episode", "episodes"),
    "programme": Kind("Programme", "programmes"),
    # Written only by explicit records.
    "export": Kind(
        "Export",
        "data",
        {
            "kind": "What",
            "format": "Format",
            "via": "Through",
            "from": "From",
            "to": "To",
            "organisation_id": "Partner",
            "setting": "Setting",
            "answer_sets": "Answer sets",
            "requested_by_id": "For",
        },
        choices={
            "kind": {
                "attendance_per_participant": "Attendance, a row per participant",
                "outcome_answer_sets": "Outcome answer sets, a row per set by participant code",
            },
            "format": {"csv": "CSV", "xlsx": "Excel (XLSX)"},
            "via": {"web": "The website", "api": "The API", "cli": "The command line"},
        },
        times={"from": "day", "to": "day"},
    ),
    "audit_event": Kind("Audit trail", "audit trail entries"),
    "leader_record": Kind(
        "Leader record",
        "leader records",
        {
            "user_id": "Person",
            "employment_type": "Employed as",
            "manager_id": "Manager",
            "left_on": "Left on",
        },
        choices={"employment_type": _capitalised(EMPLOYMENT_TYPES)},
    ),
    "training_record": Kind(
        "Training record",
        "training records",
        {
            "id": "Id",
            "user_id": "Person",
            "course": "Course",
            "completed_on": "Completed on",
            "expires_on": "Expires on",
        },
    ),
    "check_record": Kind(
        "Check record",
        "check records",
        {
            "id": "Id",
            "user_id": "Person",
            "check_type": "Check",
            "certificate_last_digits": "Certificate number, last digits",
            "issued_on": "Issued on",
            "renewal_due": "Renewal due",
            "update_service": "On the update service",
            "update_checked_on": "Update service last checked",
        },
        choices={"check_type": CHECK_TYPE_LABELS},
    ),
    "renewal_reminder": Kind(
        "Renewal reminder",
        "renewal reminders",
        {
            "id": "Id",
            "record_kind": "Reminder of",
            "record_id": "Record",
            "user_id": "Person",
            "due_on": "Due on",
            "days_before": "Days before",
        },
        choices={"record_kind": {"check": "Check", "training": "Training"}},
    ),
    "group_hours_setting": Kind(
        "Hours setting",
        "hours settings",
        {
            "group_id": "Group",
            "preparation_minutes": "Preparation",
            "travel_minutes": "Travel",
        },
        minutes=frozenset({"preparation_minutes", "travel_minutes"}),
    ),
    "hours_adjustment": Kind(
        "Hours adjustment",
        "hours adjustments",
        {"session_id": "Session", "user_id": "Person", "minutes": "Time", "reason": "Reason"},
        minutes=frozenset({"minutes"}),
    ),
    "referral": Kind(
        "Referral",
        "referrals",
        {
            "id": "Id",
            "participant_id": "Participant",
            "referrer_organisation_id": "Referred by",
            "referrer_name": "Referrer's name",
            "referrer_email": "Referrer's email",
            "referred_on": "Date of referral",
            "reason": "Reason",
            "status": "Status",
            "status_note": "Why the step was set by hand",
            "first_session_on": "First session",
            "regular_on": "Regular since",
            "ended_on": "Ended",
            "ended_reason": "Why it ended",
            "created_by_id": "Recorded by",
        },
        choices={"status": REFERRAL_STATUS_LABELS},
    ),
    "referral_step": Kind(
        "Referral step",
        "referral steps",
        {
            "id": "Id",
            "referral_id": "Referral",
            "step": "Step",
            "happened_on": "On",
            "reached_at": "Reached",
            "handled_at": "Referrer update handled",
            "outcome": "Referrer update",
            "via": "Through",
        },
        choices={
            "step": REFERRAL_STATUS_LABELS,
            "outcome": {
                "sent": "Sent",
                "no_consent": "Not sent: no consent",
                "no_contact": "Not sent: no referrer's email",
            },
        },
    ),
    "concern": Kind(
        "Safeguarding concern",
        "safeguarding concerns",
        {
            "id": "Id",
            "session_id": "Session",
            "participant_id": "Participant",
            "category": "Category",
            "seen_or_said": "What was seen or said",
            "action_taken": "Action taken",
            "who_was_told": "Who was told",
            "occurred_at": "When it happened",
            "raised_by_id": "Raised by",
            "status": "Status",
            "referred_to": "Referred to",
            "reference": "Their reference",
            "outcome": "Outcome",
            "closed_at": "Closed",
        },
        choices={"status": CONCERN_STATUS_LABELS},
    ),
}

ACTION_WORDS = {
    "create": "Created",
    "update": "Changed",
    "delete": "Deleted",
    "view_name": "Viewed the name of",
    "view_answers": "Viewed the answers in",
    "view_consent": "Viewed",
    "view_concern": "Read",
    "referrer_update": "Told the referrer of",
    "export": "Exported",
    "export_answers": "Exported answer sets by code",
    "import_answers": "Imported answer sets from a file",
    "erase": "Erased",
    "retention": "Cleared old names and notes of",
    "refused_link": "Refused a link of",
    "refused_sign_in": "Refused a sign-in of",
    "reset_two_factor": "Reset the two-factor sign-in of",
    "view_checks": "Viewed the checks and training of",
}

MATERIAL_KIND_LABELS = {choice.value: choice.label for choice in MATERIAL_KIND_CHOICES}


def kind_of(entity_type: str) -> Kind:
    return KINDS.get(entity_type) or Kind(
        entity_type.replace("_", " ").capitalize(), entity_type.replace("_", " ") + "s"
    )


def field_label(entity_type: str, key: str) -> str:
    return kind_of(entity_type).fields.get(key) or key.replace("_", " ").capitalize()


def action_words(action: str) -> str:
    return ACTION_WORDS.get(action) or action.replace("_", " ").capitalize()


def action_name(action: str) -> str:
    """An action as a choice in the filter, e.g. "Viewed the name"."""
    return action_words(action).removesuffix(" of")


def in_a_sentence(label: str) -> str:
    """A label inside a sentence: "Group" → "group", "API token" stays."""
    return label if label[:2].isupper() else label[:1].lower() + label[1:]


def how_many(count: int, entity_type: str) -> str:
    kind = kind_of(entity_type)
    return f"1 {in_a_sentence(kind.label)}" if count == 1 else f"{count} {kind.plural}"


_DAYS = {"MO": "Monday", "TU": "Tuesday", "WE": "Wednesday", "TH": "Thursday", "FR": "Friday"}
_DAYS |= {"SA": "Saturday", "SU": "Sunday"}


def rule_words(rule: str) -> str:
    """A weekly or daily repeat rule in words; anything else as written."""
    parts = dict(p.split("=", 1) for p in rule.removeprefix("RRULE:").split(";") if "=" in p)
    interval = int(parts.get("INTERVAL", "1")) if parts.get("INTERVAL", "1").isdigit() else 1
    days = [_DAYS.get(d) for d in parts.get("BYDAY", "").split(",") if d]
    if parts.get("FREQ") == "WEEKLY" and days and all(days):
        names = ", ".join(d for d in days if d)
        return f"Every {names}" if interval == 1 else f"Every {interval} weeks on {names}"
    if parts.get("FREQ") == "DAILY" and set(parts) <= {"FREQ", "INTERVAL"}:
        return "Every day" if interval == 1 else f"Every {interval} days"
    return rule


def value_words(entity_type: str, key: str, value: object) -> str:
    """A stored value that is not an id, in words."""
    if value is None:
        return NOTHING
    if value == REDACTED:
        return SECRET_WORDS
    if value == HIDDEN:
        return HIDDEN_WORDS
    if isinstance(value, bool):
        return "Yes" if value else "No"
    kind = kind_of(entity_type)
    if key in kind.choices and isinstance(value, str):
        return kind.choices[key].get(value, value)
    if key in kind.minutes and isinstance(value, int):
        return "1 minute" if value == 1 else f"{value} minutes"
    if key in kind.rules and isinstance(value, str):
        return rule_words(value)
    shape = shapes().get(entity_type, {}).get(key) or kind.times.get(key)
    if isinstance(value, str) and shape in TIME_FORMATS:
        return _time_words(value, shape)
    if isinstance(value, list):
        return ", ".join(value_words(entity_type, key, v) for v in value) or NOTHING
    return str(value)


TIME_FORMATS = {"when": DATETIME_FORMAT, "day": DATE_FORMAT, "clock": "%H:%M"}


def _time_words(text: str, shape: str) -> str:
    """ISO text (how the trail stores dates and times) in local words."""
    try:
        if shape == "when":
            moment = datetime.fromisoformat(text)
            return to_local(moment).strftime(DATETIME_FORMAT) if moment.tzinfo else text
        if shape == "day":
            return date.fromisoformat(text).strftime(DATE_FORMAT)
        return time.fromisoformat(text).strftime("%H:%M")
    except ValueError:
        return text


@cache
def shapes() -> dict[str, dict[str, str]]:
    """Per entity type, the fields whose stored value needs more than its text: ``when``,
    ``day``, ``clock``, ``ref:<entity type>`` (an id) or ``refs:<entity type>`` (a list of ids).

    Read from the models, so a new column or relationship is covered without a declaration.
    """
    from ..radio.models import Episode, Programme
    from ..sessions.models import ReadingMaterial

    models = tracked_models()
    named: dict[type, str] = {model: t.entity_type for model, t in models.items()}
    named |= {ReadingMaterial: "material", Episode: "episode", Programme: "programme"}
    by_table = {model.__table__.name: name for model, name in named.items()}
    result: dict[str, dict[str, str]] = {}
    for model, tracked in models.items():
        mapper = sa.inspect(model)
        fields: dict[str, str] = {}
        for attr in mapper.column_attrs:
            column = attr.columns[0]
            targets = [by_table.get(fk.column.table.name) for fk in column.foreign_keys]
            if targets and targets[0]:
                fields[attr.key] = f"ref:{targets[0]}"
            elif isinstance(column.type, UTCDateTime | sa.DateTime):
                fields[attr.key] = "when"
            elif isinstance(column.type, sa.Date):
                fields[attr.key] = "day"
            elif isinstance(column.type, sa.Time):
                fields[attr.key] = "clock"
        for relationship in mapper.relationships:
            target = named.get(relationship.mapper.class_)
            if relationship.uselist and target:
                fields[relationship.key] = f"refs:{target}"
        result[tracked.entity_type] = fields
    return result
