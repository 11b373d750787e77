"""Writes to safeguarding concerns. Operations flush; the request or job commits.

Messages in errors never repeat what the concern says: they name the field only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta

from ..attendance.models import Participant
from ..errors import FieldError
from ..extensions import db
from ..sessions.models import ReadingSession
from ..timeutil import as_utc, utcnow
from ..users.models import Role, User
from .limits import CONCERN_TEXT, REFERENCE, REFERRED_TO, WHO_WAS_TOLD
from .models import CONCERN_CATEGORIES, Concern

# A clock a few minutes fast on a phone is not a concern dated in the future.
CLOCK_SKEW = timedelta(minutes=10)


class ConcernError(FieldError):
    """A concern cannot be saved as asked; ``field`` names the input at fault."""


@dataclass(frozen=True)
class ConcernInput:
    category: str
    seen_or_said: str
    action_taken: str
    occurred_at: datetime
    who_was_told: str | None = None
    session_id: int | None = None
    participant_id: int | None = None


@dataclass(frozen=True)
class ConcernSubject:
    session: ReadingSession | None
    participant: Participant | None


@dataclass(frozen=True)
class StatusChange:
    """A designated safeguarding lead's step: ``referred`` (to whom, with their reference) or
    ``closed`` (with the outcome)."""

    status: str
    referred_to: str | None = None
    reference: str | None = None
    outcome: str | None = None


def _text(value: str | None, limit: int, field: str, label: str, required: bool) -> str | None:
    value = (value or "").strip() or None
    if value is None and required:
        raise ConcernError(f"Say {label}.", field)
    if value is not None and len(value) > limit:
        raise ConcernError(f"The {label} must be at most {limit} characters.", field)
    return value


def resolve_subject(session_id: int | None, participant_id: int | None) -> ConcernSubject:
    """The session and participant a concern is about; unknown ids are refused by field."""
    if session_id is None and participant_id is None:
        raise ConcernError("Choose the session or the participant the concern is about.", None)
    session = participant = None
    if session_id is not None:
        session = db.session.get(ReadingSession, session_id)
        if session is None:
            raise ConcernError(f"There is no session {session_id}.", "session_id")
    if participant_id is not None:
        participant = db.session.get(Participant, participant_id)
        if participant is None or participant.erased_at is not None:
            raise ConcernError(f"There is no participant {participant_id}.", "participant_id")
    return ConcernSubject(session, participant)


def raise_concern(data: ConcernInput, subject: ConcernSubject, raised_by: User | None) -> Concern:
    """Record a concern as submitted; from now on only safeguarding leads read it."""
    if data.category not in CONCERN_CATEGORIES:
        raise ConcernError("Choose a category from the list.", "category")
    seen = _text(data.seen_or_said, CONCERN_TEXT, "seen_or_said", "what was seen or said", True)
    action = _text(data.action_taken, CONCERN_TEXT, "action_taken", "what action was taken", True)
    told = _text(data.who_was_told, WHO_WAS_TOLD, "who_was_told", "who was told", False)
    when = data.occurred_at
    if when.tzinfo is None:
        raise ConcernError("Give the date and time with its time zone.", "occurred_at")
    if when > utcnow() + CLOCK_SKEW:
        raise ConcernError("The date and time cannot be in the future.", "occurred_at")
    concern = Concern(
        session_id=subject.session.id if subject.session else None,
        participant_id=subject.participant.id if subject.participant else None,
        category=data.category,
        seen_or_said=seen,
        action_taken=action,
        who_was_told=told,
        occurred_at=when,
        raised_by_id=raised_by.id if raised_by is not None else None,
        status="open",
    )
    db.session.add(concern)
    db.session.flush()
    return concern


def change_status(concern: Concern, change: StatusChange) -> Concern:
    """Open → referred (to a partner or agency, with its reference) → closed (with the outcome);
    an open concern may also be closed at once. A closed concern stays closed."""
    if concern.status == "closed":
        raise ConcernError("This concern is closed; it cannot change.", "status", conflict=True)
    if change.status == "referred":
        concern.referred_to = _text(
            change.referred_to, REFERRED_TO, "referred_to", "whom it was referred to", True
        )
        concern.reference = _text(change.reference, REFERENCE, "reference", "reference", False)
        concern.status = "referred"
    elif change.status == "closed":
        concern.outcome = _text(change.outcome, CONCERN_TEXT, "outcome", "the outcome", True)
        concern.status = "closed"
        concern.closed_at = utcnow()
    else:
        raise ConcernError("Choose referred or closed.", "status")
    db.session.flush()
    return concern


def set_safeguarding_lead(user: User, granted: bool) -> User:
    """Grant or withdraw the designated safeguarding lead capability (managers and admins)."""
    if granted and user.role not in (Role.ADMIN, Role.MANAGER):
        raise ConcernError(
            "Only a manager or an admin can be a designated safeguarding lead.", "safeguarding_lead"
        )
    user.safeguarding_lead = granted
    db.session.flush()
    return user


def apply_concern_retention(months: int, now: datetime | None = None) -> int:
    """Delete concerns closed more than ``months`` months ago; open and referred concerns are
    kept however old. Returns how many were deleted."""
    cutoff = as_utc(now or utcnow()) - relativedelta(months=months)
    ids = list(
        db.session.scalars(
            sa.select(Concern.id).where(Concern.status == "closed", Concern.closed_at < cutoff)
        )
    )
    for concern in db.session.scalars(sa.select(Concern).where(Concern.id.in_(ids))):
        db.session.delete(concern)  # through the ORM, so the audit trail records each deletion
    db.session.flush()
    return len(ids)
