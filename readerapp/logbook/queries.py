"""Reads for the log form: the group's roster as a tick-list, and the next free code."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import sqlalchemy as sa

from ..attendance.models import Participant, ParticipantAttendance
from ..attendance.operations import host_organisation_id
from ..extensions import db
from ..groups.models import ReadingGroup
from ..sessions.models import ReadingSession

# People seen in this many of the group's latest sessions are its regulars, listed first.
REGULAR_SESSIONS = 6
ROSTER_LIMIT = 500
NUMBERED_CODE = re.compile(r"^(.*?)(\d+)$")


@dataclass(frozen=True)
class RosterEntry:
    id: int
    code: str
    regular: bool


def group_roster(group: ReadingGroup, exclude_session_id: int | None = None) -> list[RosterEntry]:
    """Everyone who has attended the group: its regulars (seen in its latest sessions) by most
    recent attendance, then the rest by code. Erased people are left out."""
    latest = (
        sa.select(ReadingSession.id)
        .where(
            ReadingSession.group_id == group.id,
            ReadingSession.status == "delivered",
            ReadingSession.id != (exclude_session_id or 0),
        )
        .order_by(ReadingSession.start_dt.desc())
        .limit(REGULAR_SESSIONS)
        .scalar_subquery()
    )
    last_seen = sa.func.max(ReadingSession.start_dt)
    regular = sa.func.max(sa.case((ReadingSession.id.in_(latest), 1), else_=0))
    rows = db.session.execute(
        sa.select(Participant.id, Participant.code, regular, last_seen)
        .join(ParticipantAttendance, ParticipantAttendance.participant_id == Participant.id)
        .join(ReadingSession, ReadingSession.id == ParticipantAttendance.session_id)
        .where(ReadingSession.group_id == group.id, Participant.erased_at.is_(None))
        .group_by(Participant.id, Participant.code)
        .limit(ROSTER_LIMIT)
    ).all()
    regulars = sorted((r for r in rows if r[2]), key=lambda r: (r[3], r[1]), reverse=True)
    others = sorted((r for r in rows if not r[2]), key=lambda r: r[1])
    return [
        RosterEntry(pid, code, bool(is_regular))
        for pid, code, is_regular, _ in [*regulars, *others]
    ]


def roster_has_names(roster: list[RosterEntry]) -> bool:
    """Whether anyone on the roster has a name held (reads no name)."""
    if not roster:
        return False
    return bool(
        db.session.scalar(
            sa.select(
                sa.exists().where(
                    Participant.id.in_([e.id for e in roster]),
                    Participant.display_name.is_not(None),
                )
            )
        )
    )


def roster_names(roster: list[RosterEntry]) -> dict[int, str]:
    """{participant id: first name} for those on the roster with one. Personal data: callers
    check ``access.may_see_names_on_register`` and record each name they show."""
    if not roster:
        return {}
    return dict(
        db.session.execute(
            sa.select(Participant.id, Participant.display_name).where(
                Participant.id.in_([e.id for e in roster]),
                Participant.display_name.is_not(None),
            )
        ).all()
    )


def next_free_code(group: ReadingGroup, roster: list[RosterEntry]) -> str:
    """The next code in the group's series (the most common prefix among its people, one past
    its highest number), free in the host organisation. A group without numbered codes starts
    a series from its initials."""
    numbered = [m for m in (NUMBERED_CODE.match(e.code) for e in roster) if m]
    if numbered:
        prefix = Counter(m.group(1) for m in numbered).most_common(1)[0][0]
        same = [m for m in numbered if m.group(1) == prefix]
        width = max(len(m.group(2)) for m in same)
        number = max(int(m.group(2)) for m in same) + 1
    else:
        initials = "".join(w[0] for w in re.findall(r"[A-Za-z0-9]+", group.name)[:3]).upper()
        prefix, width, number = f"{initials or 'P'}-", 3, 1
    taken = set(
        db.session.scalars(
            sa.select(sa.func.upper(Participant.code)).where(
                Participant.organisation_id == host_organisation_id(group),
                Participant.code.like(f"{prefix}%"),
            )
        )
    )
    while f"{prefix}{number:0{width}d}".upper() in taken:
        number += 1
    return f"{prefix}{number:0{width}d}"
