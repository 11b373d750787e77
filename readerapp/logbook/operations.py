"""Logging a session: its outcome, the texts read and its attendance, written together.

Operations validate what they are given, flush, and raise SessionError (with the field at fault)
or VersionConflict; they never commit and never touch HTTP. The caller commits once, or rolls
back on an error so nothing is half-written.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from ..access import is_leader
from ..attendance.models import Attendance, Participant, ParticipantAttendance
from ..attendance.operations import (
    Headcounts,
    RegisterInput,
    clear_attendance,
    host_organisation_id,
    record_attendance,
    validate_headcounts,
)
from ..extensions import db
from ..groups.models import ReadingGroup
from ..sessions.errors import SessionError, VersionConflict, version_checked
from ..sessions.limits import CANCELLATION_REASON, SESSION_NOTES
from ..sessions.models import ReadingSession
from ..sessions.operations import (
    NewMaterial,
    check_leader,
    check_version,
    clean_text,
    resolve_materials,
    touch,
)
from ..timeutil import utcnow
from ..users.models import User
from .models import IDEMPOTENCY_KEY_LENGTH, LogReceipt

__all__ = [
    "Headcounts",
    "NeedsConfirmation",
    "NewMaterial",
    "RegisterInput",
    "SessionError",
    "SessionLog",
    "VersionConflict",
    "check_idempotency_key",
    "earlier_receipt",
    "expected_maximum",
    "log_problems",
    "log_session",
    "receive_once",
    "unusual_counts",
]

LOGGABLE_STATUSES = ("delivered", "cancelled")
# The usual most participants of a group with no history and none set: a typical reading group.
DEFAULT_EXPECTED_MAX = 12
# How many of a group's latest logs its usual most is taken from.
HISTORY_SESSIONS = 10


@dataclass(frozen=True)
class SessionLog:
    """What happened at a session, as a leader reports it. It replaces the whole log: notes
    and leader are set to what is given (None clears them)."""

    status: str  # "delivered" or "cancelled"
    cancellation_reason: str | None = None
    headcounts: Headcounts = field(default_factory=Headcounts)
    material_ids: Sequence[int] = ()
    new_materials: Sequence[NewMaterial] = ()
    # None leaves an existing register alone; an empty RegisterInput removes it.
    register: RegisterInput | None = None
    notes: str | None = None
    leader_id: int | None = None
    # The person logging has seen the unusual counts (see ``unusual_counts``) and stands by them.
    confirmed: bool = False
    # Entered late, from a paper register: the log records when it was entered so.
    entered_late: bool = False


class NeedsConfirmation(SessionError):
    """Counts that are allowed but unusual enough to be a slip of the thumb: nothing is saved
    until the caller confirms them. ``reasons`` lists each, for a person to read."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__(" ".join(reasons), "participants")
        self.reasons = reasons


def expected_maximum(group: ReadingGroup, exclude_session_id: int | None = None) -> int:
    """The most participants a session of ``group`` usually has: as set on the group, else the
    most of its latest logs, else the group's capacity, else a typical group's size."""
    if group.expected_max:
        return group.expected_max
    latest = (
        sa.select(Attendance.participants)
        .join(ReadingSession, ReadingSession.id == Attendance.session_id)
        .where(ReadingSession.group_id == group.id, ReadingSession.status == "delivered")
        .order_by(ReadingSession.start_dt.desc())
        .limit(HISTORY_SESSIONS)
    )
    if exclude_session_id is not None:
        latest = latest.where(ReadingSession.id != exclude_session_id)
    most = db.session.scalar(sa.select(sa.func.max(latest.subquery().c.participants)))
    return most or group.capacity or DEFAULT_EXPECTED_MAX


def log_problems(
    session: ReadingSession, entry: SessionLog, now: datetime | None = None
) -> list[SessionError]:
    """Every rule ``entry`` breaks that can be told without writing, each on its own field, so
    a form can show them all at once. ``log_session`` checks them again (and the rest)."""
    now = now or utcnow()
    if entry.status not in LOGGABLE_STATUSES:
        return [SessionError("Choose delivered or cancelled.", "status")]
    problems = []
    if entry.status == "cancelled":
        if not (entry.cancellation_reason or "").strip():
            problems.append(
                SessionError("Say why the session was cancelled.", "cancellation_reason")
            )
        return problems
    if session.start_dt > now:
        problems.append(
            SessionError(
                "This session has not started yet: it can be logged as delivered once it has.",
                "status",
            )
        )
    try:
        validate_headcounts(entry.headcounts)
    except SessionError as error:
        problems.append(error)
    size = entry.register.size if entry.register is not None else 0
    if size > entry.headcounts.participants:
        problems.append(
            SessionError(
                f"The register lists {size} people: participants must be at least that.",
                "participants",
            )
        )
    return problems


def unusual_counts(session: ReadingSession, entry: SessionLog) -> list[str]:
    """Why a delivered log's counts need confirming (empty when they look right). The one place
    for these rules: the log form, the API and the paper-register import all ask it."""
    if entry.status != "delivered":
        return []
    counts = entry.headcounts
    reasons = []
    if counts.participants == 0:
        reasons.append("Delivered with 0 participants — did nobody come?")
    else:
        usual = expected_maximum(session.group, exclude_session_id=session.id)
        if counts.participants > usual:
            reasons.append(
                f"{counts.participants} is more than this group's usual {usual} — is that right?"
            )
    register = entry.register
    if register is not None and register.size:
        new = _first_timers_listed(session, register)
        if counts.first_time > new:
            reasons.append(
                f"{counts.first_time} here for the first time, but the register has {new} "
                f"new {'person' if new == 1 else 'people'} — is that right?"
            )
    return reasons


def _first_timers_listed(session: ReadingSession, register: RegisterInput) -> int:
    """The people in ``register`` here for the first time: its new codes, and the known codes
    of people who never came to a session before this one."""
    codes = {str(c).strip().upper() for c in register.codes}
    new = {str(c).strip().upper() for c in register.new_codes} - codes
    if not codes:
        return len(new)
    came_before = (
        sa.select(ParticipantAttendance.participant_id)
        .join(ReadingSession, ReadingSession.id == ParticipantAttendance.session_id)
        .where(
            ParticipantAttendance.participant_id == Participant.id,
            ReadingSession.start_dt < session.start_dt,
        )
        .exists()
    )
    never_came = db.session.scalar(
        sa.select(sa.func.count()).where(
            Participant.organisation_id == host_organisation_id(session.group),
            sa.func.upper(Participant.code).in_(codes),
            ~came_before,
        )
    )
    return len(new) + (never_came or 0)


@version_checked
def log_session(
    session: ReadingSession,
    entry: SessionLog,
    *,
    expected_version: int | None,
    actor: User | None,
    now: datetime | None = None,
) -> ReadingSession:
    """Log (or edit the log of) a session: delivered with headcounts, materials and an optional
    register, or cancelled with a reason.

    Raises VersionConflict when ``expected_version`` is given and the session has moved on,
    SessionError for bad input, NeedsConfirmation for unusual counts not ``confirmed``. Bumps
    ``sequence`` when the status changes.
    """
    check_version(session, expected_version)
    now = now or utcnow()
    if entry.status not in LOGGABLE_STATUSES:
        raise SessionError("Choose delivered or cancelled.", "status")
    notes = clean_text(entry.notes, SESSION_NOTES, "notes", "Notes")
    day = session.local_start.date()
    check_leader(entry.leader_id, session.group, day)
    # A reader leader logging a session in a regulated setting must be cleared for it too
    # (staff entering a paper register are not the ones who led it).
    if actor is not None and is_leader(actor) and actor.id != entry.leader_id:
        check_leader(actor.id, session.group, day)

    if entry.status == "delivered":
        if session.start_dt > now:
            raise SessionError(
                "This session has not started yet: it can be logged as delivered once it has.",
                "status",
            )
        materials = resolve_materials(entry.material_ids, entry.new_materials)
        if session.status != "delivered":
            session.sequence += 1
        session.status = "delivered"
        session.cancellation_reason = None
        session.materials = materials
        record_attendance(session, entry.headcounts, entry.register, actor=actor)
        # After the hard rules, so a confirmation is asked only of a log that could be saved;
        # the caller rolls back what was flushed.
        reasons = [] if entry.confirmed else unusual_counts(session, entry)
        if reasons:
            raise NeedsConfirmation(reasons)
    else:
        reason = clean_text(
            entry.cancellation_reason, CANCELLATION_REASON, "cancellation_reason", "The reason"
        )
        if not reason:
            raise SessionError("Say why the session was cancelled.", "cancellation_reason")
        if session.status != "cancelled":
            session.sequence += 1
        session.status = "cancelled"
        session.cancellation_reason = reason
        session.materials = []
        clear_attendance(session)

    session.notes = notes
    session.leader_id = entry.leader_id
    if entry.entered_late:
        session.entered_late_at = now
    touch(session)
    # A concurrent writer between our read and this UPDATE shows up as a stale version, which
    # @version_checked turns into VersionConflict.
    db.session.flush()
    return session


# --- sent once: idempotency keys -------------------------------------------------------------

# Letters, digits and a few separators: a UUID, a ULID or any client's own scheme.
_KEY_PATTERN = re.compile(r"[A-Za-z0-9._:-]+")


def check_idempotency_key(key: str | None) -> str | None:
    """``key`` trimmed (None when absent or empty); SessionError on ``idempotency_key`` when
    it is too long or holds other than letters, digits and ``. _ : -``."""
    key = (key or "").strip()
    if not key:
        return None
    if len(key) > IDEMPOTENCY_KEY_LENGTH or not _KEY_PATTERN.fullmatch(key):
        raise SessionError(
            f"The idempotency key must be 1 to {IDEMPOTENCY_KEY_LENGTH} letters, digits or "
            "“. _ : -” (a UUID will do).",
            "idempotency_key",
        )
    return key


def _same_session(receipt: LogReceipt, session: ReadingSession) -> LogReceipt:
    if receipt.session_id != session.id:
        raise SessionError(
            "This idempotency key was already used for another session's log: make a new key "
            "for each log.",
            "idempotency_key",
            conflict=True,
        )
    return receipt


def _receipt(key: str) -> LogReceipt | None:
    return db.session.scalar(sa.select(LogReceipt).where(LogReceipt.idempotency_key == key))


def earlier_receipt(key: str, session: ReadingSession) -> LogReceipt | None:
    """The receipt of a log of ``session`` received with ``key`` already, if any (a read, for a
    quick answer before writing begins); SessionError when the key was another session's."""
    earlier = _receipt(key)
    return _same_session(earlier, session) if earlier is not None else None


def receive_once(key: str, session: ReadingSession, actor: User | None) -> LogReceipt | None:
    """Claim ``key`` for a log of ``session`` before anything is written. Returns the earlier
    receipt when a log with this key was received already (the caller answers with the first
    result and writes nothing), or None once this request holds the key.

    The key's row is written first: on PostgreSQL a concurrent request with the same key waits
    on the unique index until this one commits, then fails there and finds this receipt (or
    takes the key if this one rolled back); on SQLite writers queue, so the second one finds
    it at once. Either way one log is written. SessionError when the key was used for another
    session."""
    earlier = earlier_receipt(key, session)
    if earlier is not None:
        return earlier
    try:
        with db.session.begin_nested():
            db.session.add(
                LogReceipt(
                    idempotency_key=key,
                    session_id=session.id,
                    user_id=actor.id if actor is not None else None,
                )
            )
    except sa.exc.IntegrityError:
        earlier = _receipt(key)
        if earlier is None:
            raise
        return _same_session(earlier, session)
    return None
