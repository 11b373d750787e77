"""Which sessions a leader's device keeps for use offline."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from ..access import visible_group_ids
from ..extensions import db
from ..sessions.models import ReadingSession
from ..sessions.queries import start_of_local_day
from ..users.models import User

# The next and the last two weeks: what a leader logs, or is about to.
KEPT_DAYS = 14
# A bound on what one device keeps, however many groups its leader has.
MOST_KEPT_SESSIONS = 120


def kept_session_ids(user: User, now: datetime) -> list[int]:
    """Ids of the sessions of ``user``'s groups on the 14 (local) days before today, today,
    and the 14 days after, in order."""
    today = start_of_local_day(now)
    query = sa.select(ReadingSession.id).where(
        ReadingSession.start_dt >= today - timedelta(days=KEPT_DAYS),
        ReadingSession.start_dt < today + timedelta(days=KEPT_DAYS + 1),
    )
    groups = visible_group_ids(user)
    if groups is not None:
        query = query.where(ReadingSession.group_id.in_(groups))
    query = query.order_by(ReadingSession.start_dt).limit(MOST_KEPT_SESSIONS)
    return list(db.session.scalars(query))
