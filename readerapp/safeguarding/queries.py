"""Reading concerns. Callers check ``access.may_read_concerns`` and audit every read."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..groups.models import ReadingGroup
from ..sessions.models import ReadingSession
from ..users.models import User
from .models import Concern

LIST_LIMIT = 500


def concerns_for_leads(status: str | None = None) -> list[Concern]:
    """Every concern, newest first (open ones before the rest), for safeguarding leads."""
    query = (
        sa.select(Concern)
        .options(
            selectinload(Concern.participant),
            selectinload(Concern.session).selectinload(ReadingSession.group),
            selectinload(Concern.raised_by),
        )
        .order_by((Concern.status == "closed").asc(), Concern.created_at.desc(), Concern.id.desc())
        .limit(LIST_LIMIT)
    )
    if status:
        query = query.where(Concern.status == status)
    return list(db.session.scalars(query))


def receipts_of(user: User) -> list[tuple[int, object]]:
    """(id, received at) of the concerns ``user`` raised: all a raiser sees of them."""
    return [
        (row.id, row.created_at)
        for row in db.session.execute(
            sa.select(Concern.id, Concern.created_at)
            .where(Concern.raised_by_id == user.id)
            .order_by(Concern.created_at.desc())
            .limit(LIST_LIMIT)
        )
    ]


def sessions_to_raise_about(group_ids: sa.Select | None, limit: int = 20) -> list[ReadingSession]:
    """Recent sessions (already begun) of the groups a user logs, for the raise links."""
    from ..timeutil import utcnow

    query = (
        sa.select(ReadingSession)
        .join(ReadingGroup, ReadingGroup.id == ReadingSession.group_id)
        .where(ReadingSession.start_dt <= utcnow())
        .options(selectinload(ReadingSession.group))
        .order_by(ReadingSession.start_dt.desc())
        .limit(limit)
    )
    if group_ids is not None:
        query = query.where(ReadingSession.group_id.in_(group_ids))
    return list(db.session.scalars(query))
