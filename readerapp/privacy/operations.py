"""Removing personal data: on schedule (retention) and on request (erasure). Operations flush;
the caller commits. Attendance rows always stay, so every attendance count and report adds up as
before. Outcome answers and consent entries are health data about one person: erasure removes
them at once, and retention after ``OUTCOMES_RETENTION_MONTHS``. Answers still being given on
a phone handed over go on erasure too, and the daily retention run removes any left expired."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta
from flask import current_app

from ..attendance.models import Participant, ParticipantAttendance
from ..audit import record
from ..errors import FieldError
from ..extensions import db
from ..outcomes.hand_over import remove_expired_hand_overs, remove_hand_overs_of
from ..outcomes.models import AnswerSet, ConsentRecord
from ..referrals.operations import forget_referral_details
from ..sessions.models import ReadingSession
from ..timeutil import as_utc, utcnow

ERASED_CODE_PREFIX = "ERASED-"


class PrivacyError(FieldError):
    """The operation cannot be done as asked; the message says why."""


@dataclass(frozen=True)
class RetentionResult:
    cutoff: datetime
    cleared: int
    outcomes_cutoff: datetime | None = None
    outcomes_people: int = 0  # people whose answer sets and consent entries were removed
    hand_overs_expired: int = 0  # answers in progress on a phone, left past their lifetime


def last_attended() -> sa.Subquery:
    """participant_id -> the start of the last session they attended."""
    return (
        sa.select(
            ParticipantAttendance.participant_id.label("participant_id"),
            sa.func.max(ReadingSession.start_dt).label("last_dt"),
        )
        .join(ReadingSession, ReadingSession.id == ParticipantAttendance.session_id)
        .group_by(ParticipantAttendance.participant_id)
        .subquery("last_attended")
    )


def retention_cutoff(now: datetime, months: int) -> datetime:
    return as_utc(now) - relativedelta(months=months)


def _remove_outcomes(participant_ids: list[int]) -> tuple[int, int]:
    """Delete these people's answer sets, consent entries and answers in progress on a phone;
    how many answer sets and consent entries went."""
    if not participant_ids:
        return 0, 0
    remove_hand_overs_of(participant_ids)
    answers = db.session.execute(
        sa.delete(AnswerSet).where(AnswerSet.participant_id.in_(participant_ids))
    ).rowcount
    consents = db.session.execute(
        sa.delete(ConsentRecord).where(ConsentRecord.participant_id.in_(participant_ids))
    ).rowcount
    return answers, consents


def _apply_outcomes_retention(now: datetime) -> tuple[datetime, int]:
    """Remove the answers and consent entries of people unseen for OUTCOMES_RETENTION_MONTHS:
    neither at a session nor answering since."""
    cutoff = retention_cutoff(now, current_app.config["OUTCOMES_RETENTION_MONTHS"])
    last = last_attended()
    last_answer = (
        sa.select(
            AnswerSet.participant_id.label("participant_id"),
            sa.func.max(AnswerSet.entered_at).label("last_dt"),
        )
        .where(AnswerSet.participant_id.is_not(None))
        .group_by(AnswerSet.participant_id)
        .subquery("last_answer")
    )
    holding = sa.union(
        sa.select(AnswerSet.participant_id).where(AnswerSet.participant_id.is_not(None)),
        sa.select(ConsentRecord.participant_id),
    ).subquery("holding")
    seen = sa.func.coalesce(last.c.last_dt, Participant.created_at)
    due = (
        sa.select(Participant.id)
        .join(holding, holding.c.participant_id == Participant.id)
        .outerjoin(last, last.c.participant_id == Participant.id)
        .outerjoin(last_answer, last_answer.c.participant_id == Participant.id)
        .where(seen < cutoff)
        .where(sa.or_(last_answer.c.last_dt.is_(None), last_answer.c.last_dt < cutoff))
    )
    people = list(db.session.scalars(due))
    _remove_outcomes(people)
    return cutoff, len(people)


def apply_retention(now: datetime | None = None, months: int | None = None) -> RetentionResult:
    """Clear the display name and notes of everyone not seen for RETENTION_MONTHS.

    "Not seen" is measured from their last attended session (or from when the record was made,
    if they never attended). The code, the attendance rows and so every count stay. Idempotent:
    a second run the same day clears nothing more. Each cleared participant gets an audit entry
    (display_name and notes [hidden] -> None), and the run one summary entry.
    """
    now = utcnow() if now is None else as_utc(now)
    months = current_app.config["RETENTION_MONTHS"] if months is None else months
    cutoff = retention_cutoff(now, months)
    last = last_attended()
    seen = sa.func.coalesce(last.c.last_dt, Participant.created_at)
    due = (
        sa.select(Participant)
        .outerjoin(last, last.c.participant_id == Participant.id)
        .where(
            sa.or_(Participant.display_name.is_not(None), Participant.notes.is_not(None)),
            seen < cutoff,
        )
        .order_by(Participant.id)
    )
    cleared = 0
    for participant in db.session.scalars(due).all():
        participant.display_name = None
        participant.notes = None
        cleared += 1
    db.session.flush()
    outcomes_cutoff, outcomes_people = _apply_outcomes_retention(now)
    hand_overs_expired = remove_expired_hand_overs(now)
    record(
        "retention",
        "participant",
        None,
        {
            "cleared": cleared,
            "months": months,
            "cutoff": cutoff.isoformat(),
            "outcomes_people": outcomes_people,
            "outcomes_cutoff": outcomes_cutoff.isoformat(),
            "hand_overs_expired": hand_overs_expired,
        },
    )
    return RetentionResult(
        cutoff=cutoff,
        cleared=cleared,
        outcomes_cutoff=outcomes_cutoff,
        outcomes_people=outcomes_people,
        hand_overs_expired=hand_overs_expired,
    )


def _unused_erased_code(organisation_id: int) -> str:
    # Random, so the new code says nothing about the person or when they were erased.
    while True:
        code = ERASED_CODE_PREFIX + secrets.token_hex(5).upper()
        taken = db.session.scalar(
            sa.select(Participant.id).where(
                Participant.organisation_id == organisation_id, Participant.code == code
            )
        )
        if taken is None:
            return code


def erase_participant(participant: Participant, now: datetime | None = None) -> None:
    """Remove a person's identifying data at once, on their request.

    The display name and notes are cleared and the code is replaced by a random one, because an
    organisation's code may itself identify someone (a prison number, initials). Attendance rows
    stay, linked to the same (now anonymous) participant, so unique-people and attendance counts
    are unchanged. Their outcome answers and consent entries (health data) are deleted, and
    their referrals keep only what the figures count (source, dates, reason category).
    Safeguarding concerns are not erased: they follow their own retention.
    """
    if participant.erased_at is not None:
        raise PrivacyError("this participant's data has already been erased")
    participant.display_name = None
    participant.notes = None
    participant.code = _unused_erased_code(participant.organisation_id)
    participant.erased_at = utcnow() if now is None else as_utc(now)
    answer_sets, consent_entries = _remove_outcomes([participant.id])
    referrals = forget_referral_details(participant.id)
    db.session.flush()
    record(
        "erase",
        "participant",
        participant.id,
        {
            "answer_sets_removed": answer_sets,
            "consent_entries_removed": consent_entries,
            "referrals_cleared": referrals,
        },
    )
