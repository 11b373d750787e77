"""Logging a session: its outcome, the texts read and its attendance, written together.

Operations validate what they are given, flush, and raise SessionError (with the field at fault)
or VersionConflict; they never commit and never touch HTTP. The caller commits once, or rolls
back on an error so nothing is half-written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from ..attendance.operations import Headcounts, RegisterInput, clear_attendance, record_attendance
from ..extensions import db
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

__all__ = [
    "Headcounts",
    "NewMaterial",
    "RegisterInput",
    "SessionError",
    "SessionLog",
    "VersionConflict",
    "log_session",
]

LOGGABLE_STATUSES = ("delivered", "cancelled")


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
    SessionError for bad input. Bumps ``sequence`` when the status changes.
    """
    check_version(session, expected_version)
    now = now or utcnow()
    if entry.status not in LOGGABLE_STATUSES:
        raise SessionError("Choose delivered or cancelled.", "status")
    notes = clean_text(entry.notes, SESSION_NOTES, "notes", "Notes")
    check_leader(entry.leader_id)

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
    touch(session)
    # A concurrent writer between our read and this UPDATE shows up as a stale version, which
    # @version_checked turns into VersionConflict.
    db.session.flush()
    return session
