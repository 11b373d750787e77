"""Which sessions a leader's device keeps for use offline."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from ..access import visible_group_ids
from ..extensions import db
from ..sessions.models import ReadingSession
from ..users.models import User

# The next and the last two weeks: what a leader logs, or is about to.
KEPT_DAYS = 14
# A bound on what one device keeps, however many groups its leader has.
MOST_KEPT_SESSIONS = 120


def kept_session_ids(user: User, now: datetime) -> list[int]:
    """Ids of the sessions of ``user``'s groups from 14 days ago to 14 days ahead, in order."""
    query = sa.select(ReadingSession.id).where(
        ReadingSession.start_dt >= now - timedelta(days=KEPT_DAYS),
        ReadingSession.start_dt < now + timedelta(days=KEPT_DAYS),
    )
    groups = visible_group_ids(user)
    if groups is not None:
        query = query.where(ReadingSession.group_id.in_(groups))
    query = query.order_by(ReadingSession.start_dt).limit(MOST_KEPT_SESSIONS)
    return list(db.session.scalars(query))
