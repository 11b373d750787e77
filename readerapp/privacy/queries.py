"""Which participants a user may list, with their attendance counts (never their names)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from ..access import visible_group_ids
from ..attendance.models import Participant, ParticipantAttendance
from ..extensions import db
from ..groups.models import ReadingGroup
from ..organisations.models import Organisation
from ..sessions.models import ReadingSession
from ..users.models import User

PAGE_SIZE = 50


@dataclass(frozen=True)
class ParticipantRow:
    participant: Participant
    organisation_name: str
    sessions_attended: int
    last_attended_dt: datetime | None


def _attendance_summary(user: User) -> sa.Subquery:
    """Per participant: sessions attended and the last one, within the groups ``user`` sees."""
    query = (
        sa.select(
            ParticipantAttendance.participant_id.label("participant_id"),
            sa.func.count().label("sessions"),
            sa.func.max(ReadingSession.start_dt).label("last_dt"),
        )
        .join(ReadingSession, ReadingSession.id == ParticipantAttendance.session_id)
        .group_by(ParticipantAttendance.participant_id)
    )
    groups = visible_group_ids(user)
    if groups is not None:
        query = query.where(ReadingSession.group_id.in_(groups))
    return query.subquery("summary")


def participants_for(
    user: User, page: int, code: str | None = None, organisation_id: int | None = None
) -> tuple[list[ParticipantRow], bool]:
    """A page of participants ``user`` may list (staff: all; leaders: their groups')."""
    summary = _attendance_summary(user)
    query = sa.select(
        Participant,
        Organisation.name,
        sa.func.coalesce(summary.c.sessions, 0),
        summary.c.last_dt,
    ).join(Organisation, Organisation.id == Participant.organisation_id)
    if visible_group_ids(user) is None:
        query = query.outerjoin(summary, summary.c.participant_id == Participant.id)
    else:
        query = query.join(summary, summary.c.participant_id == Participant.id)
    if code:
        query = query.where(sa.func.upper(Participant.code).startswith(code.strip().upper()))
    if organisation_id:
        query = query.where(Participant.organisation_id == organisation_id)
    query = query.order_by(Organisation.name, Participant.code)
    rows = db.session.execute(query.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)).all()
    result = [ParticipantRow(p, name, sessions, last) for p, name, sessions, last in rows]
    return result[:PAGE_SIZE], len(result) > PAGE_SIZE


def can_list_participant(user: User, participant: Participant) -> bool:
    groups = visible_group_ids(user)
    if groups is None:
        return True
    attended = (
        sa.select(ParticipantAttendance.session_id)
        .join(ReadingSession, ReadingSession.id == ParticipantAttendance.session_id)
        .where(
            ParticipantAttendance.participant_id == participant.id,
            ReadingSession.group_id.in_(groups),
        )
        .limit(1)
    )
    return db.session.scalar(attended) is not None


def groups_attended(user: User, participant: Participant) -> list[tuple[str, int]]:
    """(group name, sessions attended) for the groups ``user`` sees."""
    query = (
        sa.select(ReadingGroup.name, sa.func.count())
        .select_from(ParticipantAttendance)
        .join(ReadingSession, ReadingSession.id == ParticipantAttendance.session_id)
        .join(ReadingGroup, ReadingGroup.id == ReadingSession.group_id)
        .where(ParticipantAttendance.participant_id == participant.id)
        .group_by(ReadingGroup.name)
        .order_by(ReadingGroup.name)
    )
    groups = visible_group_ids(user)
    if groups is not None:
        query = query.where(ReadingGroup.id.in_(groups))
    return [(name, count) for name, count in db.session.execute(query)]


def organisations_with_participants() -> list[tuple[int, str]]:
    query = (
        sa.select(Organisation.id, Organisation.name)
        .where(Organisation.id.in_(sa.select(Participant.organisation_id)))
        .order_by(Organisation.name)
    )
    return [(oid, name) for oid, name in db.session.execute(query)]
