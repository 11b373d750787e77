"""Reads for the session pages: what each user may see, in the shape the pages need."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from ..access import restrict_to_visible_groups
from ..extensions import db
from ..groups.models import ReadingGroup
from ..organisations.models import Venue
from ..timeutil import local_zone, to_local
from ..users.models import User
from .models import ReadingSession

T = TypeVar("T")

# Leaders see their few groups in full; managers see every group, so lists are paged.
PAGE_SIZE = 25
RECENT_LOGS = 10
UPCOMING_DAYS = 14
RECENT_DAYS = 60


@dataclass
class Page(Generic[T]):
    items: list[T]
    page: int
    pages: int
    total: int

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def _paginate(query: sa.Select, page: int, per_page: int = PAGE_SIZE) -> Page[ReadingSession]:
    total = db.session.scalar(
        sa.select(sa.func.count()).select_from(query.order_by(None).subquery())
    )
    pages = max(1, math.ceil((total or 0) / per_page))
    page = min(max(1, page), pages)
    items = list(
        db.session.scalars(
            query.options(
                joinedload(ReadingSession.group)
                .joinedload(ReadingGroup.venue)
                .joinedload(Venue.organisation),
                joinedload(ReadingSession.attendance),
                selectinload(ReadingSession.materials),
            )
            .limit(per_page)
            .offset((page - 1) * per_page)
        ).unique()
    )
    return Page(items=items, page=page, pages=pages, total=total or 0)


def visible_sessions(user: User) -> sa.Select:
    return restrict_to_visible_groups(sa.select(ReadingSession), ReadingSession.group_id, user)


def start_of_local_day(now: datetime) -> datetime:
    local = to_local(now, local_zone())
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def upcoming(user: User, now: datetime, page: int = 1) -> Page[ReadingSession]:
    """Today's sessions (including earlier today) and those in the next two weeks."""
    start = start_of_local_day(now)
    query = (
        visible_sessions(user)
        .where(
            ReadingSession.start_dt >= start,
            ReadingSession.start_dt < start + timedelta(days=UPCOMING_DAYS + 1),
        )
        .order_by(ReadingSession.start_dt, ReadingSession.id)
    )
    return _paginate(query, page)


def _not_logged(user: User, now: datetime) -> sa.Select:
    # Logging sets the status (delivered with headcounts, or cancelled), so "still scheduled
    # after its start" is "not logged" without a join to attendance.
    return visible_sessions(user).where(
        ReadingSession.start_dt < now, ReadingSession.status == "scheduled"
    )


def to_log(user: User, now: datetime, page: int = 1) -> Page[ReadingSession]:
    """Sessions that have started but whose attendance nobody has logged: newest first, as a
    leader logs the session just run (the oldest is flagged instead: ``oldest_to_log``)."""
    query = _not_logged(user, now).order_by(
        ReadingSession.start_dt.desc(), ReadingSession.id.desc()
    )
    return _paginate(query, page)


def oldest_to_log(user: User, now: datetime) -> ReadingSession | None:
    """The session that has waited longest to be logged, or None when nothing waits."""
    query = (
        _not_logged(user, now)
        .options(joinedload(ReadingSession.group))
        .order_by(ReadingSession.start_dt, ReadingSession.id)
        .limit(1)
    )
    return db.session.scalars(query).first()


def recent_logs(user: User, now: datetime, limit: int = RECENT_LOGS) -> list[ReadingSession]:
    """The latest logged sessions (delivered or cancelled) of the last few weeks, latest first.

    Bounded by start time so the start_dt index answers it, however long the history."""
    query = (
        visible_sessions(user)
        .where(
            ReadingSession.status.in_(("delivered", "cancelled")),
            ReadingSession.touched,
            ReadingSession.start_dt >= now - timedelta(days=RECENT_DAYS),
            ReadingSession.start_dt < now,
        )
        .order_by(ReadingSession.start_dt.desc(), ReadingSession.id.desc())
    )
    return _paginate(query, 1, per_page=limit).items
