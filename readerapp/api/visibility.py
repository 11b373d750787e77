"""Which rows an API caller may see: readerapp.access's rules applied to API queries and items,
answering 404 for a row the caller may not see."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from ..access import (
    can_view_group,
    visible_group_ids,
    visible_organisation_ids,
    visible_station_ids,
    visible_venue_ids,
)
from ..attendance.models import Attendance, ParticipantAttendance
from ..extensions import db
from ..groups.models import ReadingGroup
from ..sessions.models import ReadingSession
from ..users.models import User
from .core import get_or_404, not_found


def restrict(query: sa.Select, column: Any, ids: sa.Select | None) -> sa.Select:
    return query if ids is None else query.where(column.in_(ids))


def visible_group_or_404(user: User, group_id: int) -> ReadingGroup:
    group = get_or_404(ReadingGroup, group_id)
    if not can_view_group(user, group):
        not_found()
    return group


# What the session endpoints read of a session besides its row: its group (to check access) and
# its attendance with the register. Loaded with the row: one statement, not one per relation
# (a register is a few dozen rows at most, so joining it costs less than a second query).
SESSION_LOADS = (
    joinedload(ReadingSession.group),
    joinedload(ReadingSession.attendance)
    .joinedload(Attendance.records)
    .joinedload(ParticipantAttendance.participant),
)


def visible_session_or_404(user: User, session_id: int) -> ReadingSession:
    session = get_or_404(ReadingSession, session_id, options=SESSION_LOADS)
    if not can_view_group(user, session.group):
        not_found()
    return session


def admits(ids: sa.Select | None, value: Any) -> bool:
    """``ids`` (None: everything) holds ``value``."""
    return ids is None or db.session.scalar(sa.select(sa.literal(value).in_(ids))) is True


def visible_or_404(model: type[Any], ident: int, ids: sa.Select | None, key: Any = None) -> Any:
    """The row, if ``ids`` (None: everything) admits it — by its id, or by ``key(row)``."""
    item = get_or_404(model, ident)
    if not admits(ids, ident if key is None else key(item)):
        not_found()
    return item


__all__ = [
    "admits",
    "restrict",
    "visible_group_ids",
    "visible_group_or_404",
    "visible_or_404",
    "visible_organisation_ids",
    "visible_session_or_404",
    "visible_station_ids",
    "visible_venue_ids",
]
