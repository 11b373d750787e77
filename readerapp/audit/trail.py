"""Writing the audit trail.

Changes are recorded generically: a listener on every SQLAlchemy session's flush turns the
inserts, updates and deletes of the tracked models into ``AuditEvent`` rows, written on the same
connection and so in the same transaction as the change (a rollback removes both). Web views, the
API, CLI commands and scheduler jobs are all covered without calling anything.

Reads that matter (a participant's display name shown, an export with per-participant rows) are
recorded explicitly with :func:`record`.

Who acted comes, in order, from :func:`acting_as` (scheduler jobs, scripts), the signed-in user of
the current request, the running CLI command (``cli:privacy apply-retention``), else ``system``.

Every row also carries the id of the action that wrote it, so that the trail can show what one
action did (a new group and its generated sessions) as one entry: one id per :func:`acting_as`
block (a scheduler job), else per request, else per CLI command, else per database transaction.
"""

from __future__ import annotations

import contextvars
import enum
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import UnmappedInstanceError

from ..extensions import db
from ..timeutil import utcnow
from .models import AuditEvent

# Shown instead of a secret (password or token hash): the trail says it changed, nothing more.
REDACTED = "[redacted]"
# Shown instead of personal data about a participant: the trail says it was set or changed.
HIDDEN = "[hidden]"

# Columns never worth an entry of their own: bookkeeping that changes on every read or write.
IGNORED_FIELDS = frozenset(
    {
        "created_at",
        "updated_at",
        "version",
        "served_etag",
        "served_last_modified",
        "served_state",
        "last_used_at",
        # Moves on at every two-factor sign-in.
        "totp_last_step",
    }
)
SECRET_FIELDS = frozenset({"password_hash", "token_hash", "totp_secret"})
# Everything of a safeguarding concern but its id, who raised it, its status and its dates.
CONCERN_CONTENT = frozenset(
    {
        "session_id",
        "participant_id",
        "category",
        "seen_or_said",
        "action_taken",
        "who_was_told",
        "occurred_at",
        "referred_to",
        "reference",
        "outcome",
    }
)


@dataclass(frozen=True)
class Tracked:
    entity_type: str
    # Personal data about a participant (names, free text, codes that may be identifying):
    # recorded as changed, never with its value.
    personal: frozenset[str] = frozenset()


def _tracked_models() -> dict[type, Tracked]:
    from ..attendance.models import Attendance, Participant, ParticipantAttendance
    from ..feeds.models import FeedToken
    from ..groups.models import GroupExcludedDate, ReadingGroup
    from ..organisations.models import Organisation, Partnership, Venue
    from ..outcomes.models import AnswerSet, ConsentRecord
    from ..radio.models import Broadcast
    from ..referrals.models import Referral, ReferralStep
    from ..safeguarding.models import Concern
    from ..sessions.models import ReadingSession
    from ..users.models import ApiToken, Invitation, User
    from ..workforce.models import (
        CheckRecord,
        GroupHoursSetting,
        LeaderRecord,
        RenewalReminder,
        SessionHoursAdjustment,
        TrainingRecord,
    )

    return {
        ReadingGroup: Tracked("group"),
        GroupExcludedDate: Tracked("group_excluded_date"),
        # Session notes are free text and may mention the people present.
        ReadingSession: Tracked("session", frozenset({"notes"})),
        Attendance: Tracked("attendance"),
        ParticipantAttendance: Tracked("participant_attendance"),
        Participant: Tracked("participant", frozenset({"display_name", "notes", "code"})),
        User: Tracked("user"),
        Invitation: Tracked("invitation"),
        ApiToken: Tracked("api_token"),
        Organisation: Tracked("organisation"),
        Venue: Tracked("venue"),
        Partnership: Tracked("partnership"),
        Broadcast: Tracked("broadcast"),
        FeedToken: Tracked("feed_token"),
        ConsentRecord: Tracked("consent_record"),
        # Answers to outcome measures are health data: the trail says they were entered, and
        # who entered them, never what they were.
        AnswerSet: Tracked("answer_set", frozenset({"answers"})),
        # Staff's own records: the trail names the change, never the certificate's digits.
        LeaderRecord: Tracked("leader_record"),
        TrainingRecord: Tracked("training_record"),
        CheckRecord: Tracked("check_record", frozenset({"certificate_last_digits"})),
        RenewalReminder: Tracked("renewal_reminder"),
        GroupHoursSetting: Tracked("group_hours_setting"),
        SessionHoursAdjustment: Tracked("hours_adjustment"),
        # A safeguarding concern is read by safeguarding leads alone, and the trail by admins:
        # it says a concern was raised or moved on, and by whom, never what it says nor whom it
        # is about.
        Concern: Tracked("concern", CONCERN_CONTENT),
        # The referrer's contact is a professional's, but personal all the same.
        Referral: Tracked("referral", frozenset({"referrer_name", "referrer_email"})),
        ReferralStep: Tracked("referral_step"),
    }


_TRACKED: dict[type, Tracked] | None = None


def tracked_models() -> dict[type, Tracked]:
    global _TRACKED
    if _TRACKED is None:
        _TRACKED = _tracked_models()
    return _TRACKED


def entity_types() -> list[str]:
    """Every entity type the trail can hold, for filters."""
    types = {t.entity_type for t in tracked_models().values()}
    return sorted(types | EXPLICIT_ENTITY_TYPES)


# Entity types written only by explicit records (exports and the like).
EXPLICIT_ENTITY_TYPES = {"export", "audit_event", "answer_set", "password_reset", "sign_in"}

# "view_answers": answer sets (health data) shown, one entry per set; "view_consent": consent
# ledger entries shown, one per entry.
ACTIONS = (
    "create",
    "update",
    "delete",
    "view_name",
    "view_answers",
    "view_consent",
    "view_concern",
    "referrer_update",
    "export",
    "export_answers",
    "import_answers",
    "erase",
    "retention",
    # A single-use link (invitation, password reset) refused: unknown, expired or used.
    "refused_link",
    # A sign-in refused at its second step (a wrong or replayed code) or through single sign-on.
    "refused_sign_in",
    # An admin cleared someone's second factor (they set it up again at their next sign-in).
    "reset_two_factor",
    "view_checks",
)


# --- who is acting --------------------------------------------------------------------------


_actor: contextvars.ContextVar[str | None] = contextvars.ContextVar("audit_actor", default=None)


@contextmanager
def acting_as(label: str) -> Iterator[None]:
    """Attribute every change made inside the block to ``label`` (e.g. ``system:scheduler``);
    together they are one action."""
    token = _actor.set(label)
    action = _action.set(new_action_id())
    try:
        yield
    finally:
        _action.reset(action)
        _actor.reset(token)


# --- which action -----------------------------------------------------------------------------


_action: contextvars.ContextVar[str | None] = contextvars.ContextVar("audit_action", default=None)
_ACTION_KEY = "readerapp.audit_action_id"


def new_action_id() -> str:
    return uuid.uuid4().hex


def current_action_id(session: Session | None = None) -> str:
    """The id shared by every row the current job, request or command writes.

    Outside all three (a script, a test), each transaction of ``session`` is one action.
    """
    explicit = _action.get()
    if explicit is not None:
        return explicit
    if has_request_context():
        if _ACTION_KEY not in g:
            setattr(g, _ACTION_KEY, new_action_id())
        return str(getattr(g, _ACTION_KEY))
    import click

    context = click.get_current_context(silent=True)
    if context is not None:
        # ``meta`` is shared by a command's nested contexts: one id for the whole command.
        return str(context.meta.setdefault(_ACTION_KEY, new_action_id()))
    if session is None:
        return new_action_id()
    return str(session.info.setdefault(_ACTION_KEY, new_action_id()))


def _end_transaction_action(session: Session) -> None:
    session.info.pop(_ACTION_KEY, None)


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    label: str
    ip_address: str | None


def _email_of(user: Any) -> str | None:
    email = user.__dict__.get("email")
    if email is None:
        try:  # expired by a commit earlier in the request: load it back
            email = user.email
        except (sa.exc.SQLAlchemyError, AttributeError):
            return None
    return email


def current_actor() -> Actor:
    explicit = _actor.get()
    ip = request.remote_addr if has_request_context() else None
    if explicit is not None:
        return Actor(None, explicit, ip)
    if has_request_context():
        # Only a user already loaded for this request: loading one here could query mid-flush.
        user = g.get("_login_user")
        if user is not None and getattr(user, "is_authenticated", False):
            identity = sa.inspect(user).identity
            user_id = identity[0] if identity else None
            return Actor(user_id, _email_of(user) or f"user:{user_id}", ip)
        return Actor(None, "anonymous", ip)
    import click

    context = click.get_current_context(silent=True)
    if context is not None:
        return Actor(None, f"cli:{context.command_path.split(' ', 1)[-1]}", None)
    return Actor(None, "system", None)


# --- values -----------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """A JSON-friendly copy of a column value."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)


def _shown(key: str, value: Any, tracked: Tracked) -> Any:
    if value is None:
        return None
    if key in SECRET_FIELDS:
        return REDACTED
    if key in tracked.personal:
        return HIDDEN
    return _plain(value)


def _related_ids(values: Any) -> list[Any]:
    ids = []
    for obj in values or ():
        try:
            identity = _identity(obj)
        except UnmappedInstanceError:
            continue
        ids.append(identity[0] if identity and len(identity) == 1 else _plain(identity))
    return sorted(ids, key=str)


def _identity(obj: Any) -> tuple[Any, ...] | None:
    state = sa.inspect(obj)
    if state.identity:
        return tuple(state.identity)
    # Rows inserted by this flush get their identity only after the flush events.
    mapper = state.mapper
    values = tuple(
        state.dict.get(mapper.get_property_by_column(column).key) for column in mapper.primary_key
    )
    return None if any(v is None for v in values) else values


def _entity_id(obj: Any) -> str | None:
    identity = _identity(obj)
    return None if identity is None else ":".join(str(part) for part in identity)


def _column_attrs(obj: Any) -> list[str]:
    return [attr.key for attr in sa.inspect(obj).mapper.column_attrs]


def _created(obj: Any, tracked: Tracked) -> dict[str, list[Any]]:
    changes: dict[str, list[Any]] = {}
    state = sa.inspect(obj)
    for key in _column_attrs(obj):
        if key in IGNORED_FIELDS:
            continue
        # What was written; server-side defaults are not loaded back (no query mid-flush).
        value = state.dict.get(key)
        if value is not None:
            changes[key] = [None, _shown(key, value, tracked)]
    return changes


def _deleted(obj: Any, tracked: Tracked) -> dict[str, list[Any]]:
    changes: dict[str, list[Any]] = {}
    state = sa.inspect(obj)
    for key in _column_attrs(obj):
        if key in IGNORED_FIELDS:
            continue
        # Only what is loaded: a deleted row is not worth a query per column.
        value = state.dict.get(key)
        if value is not None:
            changes[key] = [_shown(key, value, tracked), None]
    return changes


def _updated(obj: Any, tracked: Tracked) -> dict[str, list[Any]]:
    changes: dict[str, list[Any]] = {}
    state = sa.inspect(obj)
    mapper = state.mapper
    for attr in state.attrs:
        key = attr.key
        if key in IGNORED_FIELDS:
            continue
        history = attr.history  # never loads: an unloaded attribute did not change
        if not history.has_changes():
            continue
        if key in mapper.column_attrs:
            old = history.deleted[0] if history.deleted else None
            new = history.added[0] if history.added else None
            if old == new or (not history.deleted and new is None):
                continue
            changes[key] = [_shown(key, old, tracked), _shown(key, new, tracked)]
        elif key in mapper.relationships and mapper.relationships[key].uselist:
            # Collections (co-leaders, materials): ids before and after.
            unchanged = list(history.unchanged)
            before = _related_ids(unchanged + list(history.deleted))
            after = _related_ids(unchanged + list(history.added))
            if before != after:
                changes[key] = [before, after]
    return changes


# --- the flush listener -----------------------------------------------------------------------


def _collect(session: Session) -> list[dict[str, Any]]:
    models = tracked_models()
    rows: list[tuple[str, Any, Tracked, dict[str, list[Any]]]] = []
    for obj in session.new:
        tracked = models.get(type(obj))
        if tracked is not None:
            rows.append(("create", obj, tracked, _created(obj, tracked)))
    for obj in session.dirty:
        tracked = models.get(type(obj))
        if tracked is None or obj in session.deleted:
            continue
        if not session.is_modified(obj, include_collections=True):
            continue
        changes = _updated(obj, tracked)
        if changes:
            rows.append(("update", obj, tracked, changes))
    for obj in session.deleted:
        tracked = models.get(type(obj))
        if tracked is not None:
            rows.append(("delete", obj, tracked, _deleted(obj, tracked)))
    if not rows:
        return []
    actor = current_actor()
    # The acting account deleted in this very flush cannot be referenced any more.
    deleted_ids = {(type(o), _entity_id(o)) for o in session.deleted}
    from ..users.models import User

    actor_id = None if (User, str(actor.user_id)) in deleted_ids else actor.user_id
    now = utcnow()
    action_id = current_action_id(session)
    return [
        {
            "at": now,
            "actor_id": actor_id,
            "actor_label": actor.label[:254],
            "action": action,
            "entity_type": tracked.entity_type,
            "entity_id": _entity_id(obj),
            "changes": changes or None,
            "ip_address": actor.ip_address,
            "action_id": action_id,
        }
        for action, obj, tracked, changes in rows
    ]


def _before_flush(session: Session, flush_context: Any, instances: Any) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEvent) and (obj in session.deleted or session.is_modified(obj)):
            raise PermissionError("audit events cannot be changed or deleted")


def _after_flush(session: Session, flush_context: Any) -> None:
    # After the flush: new rows have their ids; attribute history still shows what changed.
    rows = _collect(session)
    if rows:
        session.connection().execute(sa.insert(AuditEvent.__table__), rows)


def _bulk_statement(orm_execute_state: Any) -> None:
    """``session.execute(update(Model)…)`` skips the flush: record which fields it set."""
    if not (orm_execute_state.is_update or orm_execute_state.is_delete):
        return
    mapper = orm_execute_state.bind_mapper
    tracked = tracked_models().get(mapper.class_) if mapper is not None else None
    if tracked is None:
        return
    statement = orm_execute_state.statement
    details: dict[str, Any] = {"bulk": True}
    if orm_execute_state.is_update:
        # Field names only: the values may be personal data.
        keys = {
            getattr(key, "key", str(key)) for key in (getattr(statement, "_values", None) or {})
        }
        parameters = orm_execute_state.parameters
        if isinstance(parameters, list):  # bulk UPDATE by primary key: one dict per row
            for row in parameters:
                keys.update(row)
        elif isinstance(parameters, dict):
            keys.update(parameters)
        details["fields"] = sorted(k for k in keys if k not in IGNORED_FIELDS)
    actor = current_actor()
    orm_execute_state.session.connection().execute(
        sa.insert(AuditEvent.__table__),
        [
            {
                "at": utcnow(),
                "actor_id": actor.user_id,
                "actor_label": actor.label[:254],
                "action": "update" if orm_execute_state.is_update else "delete",
                "entity_type": tracked.entity_type,
                "entity_id": None,
                "changes": details,
                "ip_address": actor.ip_address,
                "action_id": current_action_id(orm_execute_state.session),
            }
        ],
    )


def _keep_old_value(target: Any, value: Any, oldvalue: Any, initiator: Any) -> None:
    """Registered only for ``active_history``: the attribute loads its old value when set."""


def install_listeners() -> None:
    """Listen on every ORM session (idempotent: events are process-wide)."""
    if event.contains(Session, "after_flush", _after_flush):
        return
    event.listen(Session, "before_flush", _before_flush)
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "do_orm_execute", _bulk_statement)
    event.listen(Session, "after_commit", _end_transaction_action)
    event.listen(Session, "after_rollback", _end_transaction_action)
    # By default setting an unloaded (e.g. expired after commit) column forgets its old value;
    # active history loads it first, so every update records [old, new].
    for model in tracked_models():
        for attr in sa.inspect(model).column_attrs:
            if attr.key not in IGNORED_FIELDS:
                event.listen(getattr(model, attr.key), "set", _keep_old_value, active_history=True)


@event.listens_for(AuditEvent, "before_update", propagate=True)
@event.listens_for(AuditEvent, "before_delete", propagate=True)
def _refuse_change(mapper: Any, connection: Any, target: AuditEvent) -> None:
    raise PermissionError("audit events cannot be changed or deleted")


# --- explicit records -------------------------------------------------------------------------


READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _event_row(
    action: str, entity_type: str, entity_id: object, details: dict[str, Any] | None
) -> dict[str, Any]:
    actor = current_actor()
    return {
        "at": utcnow(),
        "actor_id": actor.user_id,
        "actor_label": actor.label[:254],
        "action": action[:40],
        "entity_type": entity_type[:60],
        "entity_id": None if entity_id is None else str(entity_id)[:60],
        "changes": _plain(details) if details else None,
        "ip_address": actor.ip_address,
        "action_id": current_action_id(db.session()),
    }


def record(
    action: str,
    entity_type: str,
    entity_id: object | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Record an action that is not a row change: a view of a name, an export, an erasure.

    ``action`` e.g. ``"view_name"``, ``"export"``; ``entity_type`` e.g. ``"participant"``,
    ``"export"``; ``entity_id`` the row's id (any value, stored as text) or None; ``details`` a
    small JSON-able dict (never names, notes or secrets).

    In a read-only request (GET/HEAD) the event is written and committed at once in its own short
    transaction, because such views never commit. Everywhere else (POST views, CLI, jobs) it joins
    the caller's transaction and is committed or rolled back with it.
    """
    recordmany(action, entity_type, [entity_id], details)


def recordmany(
    action: str,
    entity_type: str,
    entity_ids: list[object] | tuple[object, ...],
    details: dict[str, Any] | None = None,
) -> None:
    """:func:`record` for several rows at once (one event each, one statement)."""
    rows = [_event_row(action, entity_type, entity_id, details) for entity_id in entity_ids]
    if not rows:
        return
    if has_request_context() and request.method in READ_ONLY_METHODS:
        with db.engine.begin() as connection:
            connection.execute(sa.insert(AuditEvent.__table__), rows)
    else:
        db.session.execute(sa.insert(AuditEvent.__table__), rows)
