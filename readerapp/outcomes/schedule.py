"""When to ask: each group's measures and their schedule, and who is due at a session.

A person is due a measure at their first session with the group (no answers to it yet), again
once N sessions of the group or N weeks have passed since their last answers, and at leaving
(the group's last session). Being due never blocks a log: it is a reminder beside the code.
Operations flush; the caller commits.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from ..attendance.models import ParticipantAttendance
from ..errors import FieldError
from ..extensions import db
from ..groups.models import ReadingGroup
from ..sessions.models import ReadingSession
from ..timeutil import to_local
from .answers import consents_in_force
from .limits import EVERY_SESSIONS, EVERY_WEEKS
from .models import AnswerSet, GroupMeasure, Measure, MeasureVersion


class ScheduleError(FieldError):
    """A schedule that cannot be saved as given; the message says why."""


@dataclass(frozen=True)
class ScheduleData:
    measure_id: int
    at_first: bool
    every_sessions: int | None
    every_weeks: int | None
    at_leaving: bool


@dataclass(frozen=True)
class Due:
    measure: str  # the measure's name
    why: str  # "first time", "after 6 sessions", …
    needs_consent: bool  # no current consent to evaluation: record it before asking

    def describe(self) -> str:
        text = f"{self.measure} due ({self.why})"
        return f"{text}: record consent to evaluation first" if self.needs_consent else text


def group_schedules(group: ReadingGroup) -> list[GroupMeasure]:
    return list(
        db.session.scalars(
            sa.select(GroupMeasure)
            .join(Measure, Measure.id == GroupMeasure.measure_id)
            .where(GroupMeasure.group_id == group.id)
            .order_by(Measure.name)
        )
    )


def measures_asked_by_code() -> list[Measure]:
    """Measures a group may schedule: those whose latest version is used by participant code."""
    found = []
    for measure in db.session.scalars(sa.select(Measure).order_by(Measure.name)):
        if measure.versions and "participant" in measure.versions[-1].definition["uses"]:
            found.append(measure)
    return found


def save_schedule(group: ReadingGroup, data: ScheduleData) -> GroupMeasure:
    """Add the group's schedule for a measure, or change it."""
    if data.measure_id not in {m.id for m in measures_asked_by_code()}:
        raise ScheduleError("Choose a measure used by participant code.", "measure_id")
    for value, field, bounds in (
        (data.every_sessions, "every_sessions", EVERY_SESSIONS),
        (data.every_weeks, "every_weeks", EVERY_WEEKS),
    ):
        if value is not None and not bounds.min <= value <= bounds.max:
            raise ScheduleError(f"Give a number from {bounds.min} to {bounds.max}.", field)
    if not (data.at_first or data.every_sessions or data.every_weeks or data.at_leaving):
        raise ScheduleError("Choose at least one time to ask.", "at_first")
    schedule = db.session.scalar(
        sa.select(GroupMeasure).filter_by(group_id=group.id, measure_id=data.measure_id)
    )
    if schedule is None:
        schedule = GroupMeasure(group_id=group.id, measure_id=data.measure_id)
        db.session.add(schedule)
    schedule.at_first = data.at_first
    schedule.every_sessions = data.every_sessions
    schedule.every_weeks = data.every_weeks
    schedule.at_leaving = data.at_leaving
    db.session.flush()
    return schedule


def remove_schedule(schedule: GroupMeasure) -> None:
    """Stop asking; answers already given stay."""
    db.session.delete(schedule)
    db.session.flush()


def describe_schedule(schedule: GroupMeasure) -> str:
    parts = []
    if schedule.at_first:
        parts.append("at a person's first session")
    if schedule.every_sessions:
        n = schedule.every_sessions
        parts.append(f"every {n} session{'s' if n != 1 else ''}")
    if schedule.every_weeks:
        n = schedule.every_weeks
        parts.append(f"every {n} week{'s' if n != 1 else ''}")
    if schedule.at_leaving:
        parts.append("at the group's last session")
    return ", ".join(parts)


def _is_last_session(session: ReadingSession, day: date) -> bool:
    """The group's last session: it has an end date and nothing is planned after this one."""
    group = session.group
    if group.last_date is None:
        return False
    later = db.session.scalar(
        sa.select(ReadingSession.id)
        .where(
            ReadingSession.group_id == group.id,
            ReadingSession.start_dt > session.start_dt,
            ReadingSession.status != "cancelled",
        )
        .limit(1)
    )
    return later is None and day <= group.last_date


def due_at(
    session: ReadingSession,
    participant_ids: Sequence[int],
    schedules: Sequence[GroupMeasure] | None = None,
) -> dict[int, list[Due]]:
    """participant id -> the measures they are due at this session (only those due).
    ``schedules``: the group's, when the caller has read them already."""
    if schedules is None:
        schedules = group_schedules(session.group)
    ids = list(participant_ids)
    if not schedules or not ids:
        return {}
    day = to_local(session.start_dt, session.tz_name).date()
    measure_ids = [s.measure_id for s in schedules]
    # The latest answers per person and measure, from any group: nobody is asked twice.
    last_answered: dict[tuple[int, int], date] = {}
    rows = db.session.execute(
        sa.select(
            AnswerSet.participant_id, MeasureVersion.measure_id, sa.func.max(AnswerSet.answered_on)
        )
        .join(MeasureVersion, MeasureVersion.id == AnswerSet.measure_version_id)
        .where(AnswerSet.participant_id.in_(ids), MeasureVersion.measure_id.in_(measure_ids))
        .group_by(AnswerSet.participant_id, MeasureVersion.measure_id)
    )
    for person, measure_id, answered in rows:
        last_answered[(person, measure_id)] = answered
    # The days each person came to this group before this session.
    came: dict[int, list[date]] = defaultdict(list)
    attended = db.session.execute(
        sa.select(ParticipantAttendance.participant_id, ReadingSession.start_dt)
        .join(ReadingSession, ReadingSession.id == ParticipantAttendance.session_id)
        .where(
            ReadingSession.group_id == session.group_id,
            ReadingSession.id != session.id,
            ReadingSession.start_dt < session.start_dt,
            ParticipantAttendance.participant_id.in_(ids),
        )
    )
    for person, start in attended:
        came[person].append(to_local(start, session.tz_name).date())
    consenting = consents_in_force(ids, "evaluation")
    leaving = any(s.at_leaving for s in schedules) and _is_last_session(session, day)
    due: dict[int, list[Due]] = {}
    for person in ids:
        for schedule in schedules:
            why = _why_due(schedule, last_answered.get((person, schedule.measure_id)), came, person)
            why = why or _periodic(schedule, last_answered.get((person, schedule.measure_id)), day)
            if why is None and leaving and schedule.at_leaving:
                why = "leaving: the group's last session"
            if why is not None:
                due.setdefault(person, []).append(
                    Due(schedule.measure.name, why, person not in consenting)
                )
    return due


def _why_due(
    schedule: GroupMeasure, last: date | None, came: dict[int, list[date]], person: int
) -> str | None:
    if last is None:
        return "first time" if schedule.at_first else None
    if schedule.every_sessions:
        since = sum(1 for day in came[person] if day > last) + 1  # this session too
        if since >= schedule.every_sessions:
            return f"after {schedule.every_sessions} sessions"
    return None


def _periodic(schedule: GroupMeasure, last: date | None, day: date) -> str | None:
    if last is not None and schedule.every_weeks and (day - last).days >= 7 * schedule.every_weeks:
        return f"after {schedule.every_weeks} weeks"
    return None
