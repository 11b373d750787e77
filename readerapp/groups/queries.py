"""Reads for the group pages: the list, upcoming sessions, monthly headcounts, what was read."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ..access import restrict_to_visible_groups
from ..attendance.models import Attendance
from ..db import contains_text
from ..disclosure import Disclosure
from ..extensions import db
from ..organisations.models import Venue
from ..sessions.models import ReadingMaterial, ReadingSession, session_material
from ..timeutil import to_local
from ..users.models import User
from .models import ReadingGroup
from .operations import pattern_of
from .recurrence import PatternError, describe

PAGE_SIZE = 50
UPCOMING_LIMIT = 12
RECENT_LIMIT = 10
HISTORY_MONTHS = 12
READING_LIMIT = 100


@dataclass
class GroupRow:
    group: ReadingGroup
    pattern: str
    next_dt: datetime | None


@dataclass
class GroupPage:
    rows: list[GroupRow]
    total: int
    page: int
    pages: int


def pattern_words(group: ReadingGroup) -> str:
    try:
        return describe(pattern_of(group))
    except PatternError:
        return group.rrule  # a rule saved before validation existed: show it as it is


def list_groups(
    user: User,
    now: datetime,
    *,
    status: str | None = None,
    setting: str | None = None,
    name: str | None = None,
    page: int = 1,
) -> GroupPage:
    next_start = (
        sa.select(
            ReadingSession.group_id.label("group_id"),
            sa.func.min(ReadingSession.start_dt).label("next_dt"),
        )
        .where(ReadingSession.start_dt >= now, ReadingSession.status == "scheduled")
        .group_by(ReadingSession.group_id)
        .subquery()
    )
    query = sa.select(ReadingGroup, next_start.c.next_dt).join(
        Venue, Venue.id == ReadingGroup.venue_id
    )
    query = query.outerjoin(next_start, next_start.c.group_id == ReadingGroup.id)
    query = restrict_to_visible_groups(query, ReadingGroup.id, user)
    if status:
        query = query.where(ReadingGroup.status == status)
    if setting:
        query = query.where(Venue.setting_type == setting)
    if name:
        query = query.where(contains_text(name, ReadingGroup.name))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    rows = db.session.execute(
        query.options(selectinload(ReadingGroup.venue), selectinload(ReadingGroup.excluded_dates))
        .order_by(sa.func.lower(ReadingGroup.name), ReadingGroup.id)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    return GroupPage(
        rows=[GroupRow(group, pattern_words(group), next_dt) for group, next_dt in rows],
        total=total,
        page=page,
        pages=pages,
    )


def upcoming_sessions(group: ReadingGroup, now: datetime) -> list[ReadingSession]:
    return list(
        db.session.scalars(
            sa.select(ReadingSession)
            .where(ReadingSession.group_id == group.id, ReadingSession.start_dt >= now)
            .order_by(ReadingSession.start_dt)
            .limit(UPCOMING_LIMIT)
        )
    )


@dataclass
class PastSession:
    session: ReadingSession
    participants: int | str | None  # None: attendance not logged


def recent_sessions(group: ReadingGroup, now: datetime) -> list[PastSession]:
    """The latest sessions that have started, newest first, with their headcount if logged."""
    rows = db.session.execute(
        sa.select(ReadingSession, Attendance.participants)
        .outerjoin(Attendance, Attendance.session_id == ReadingSession.id)
        .where(ReadingSession.group_id == group.id, ReadingSession.start_dt < now)
        .order_by(ReadingSession.start_dt.desc())
        .limit(RECENT_LIMIT)
    ).all()
    return [PastSession(session, participants) for session, participants in rows]


@dataclass
class MonthCount:
    month: date  # the first of the month, local
    sessions: int = 0
    # Counts of people: a number, or for partners the text of a suppressed one (``shown``).
    participants: int | str = 0
    first_time: int | str = 0


def shown(
    recent: list[PastSession], counts: list[MonthCount], disclosure: Disclosure
) -> tuple[list[PastSession], list[MonthCount], int | str]:
    """The recent sessions, the months and their total attendances as ``disclosure`` shows
    them: a session's headcount is one session's count, a month's adds up several."""
    total = sum(int(c.participants) for c in counts)
    if not disclosure.protects:
        return recent, counts, total
    return (
        [replace(r, participants=disclosure.cell(r.participants)) for r in recent],
        [
            replace(
                c,
                participants=disclosure.total(int(c.participants)),
                first_time=disclosure.total(int(c.first_time)),
            )
            for c in counts
        ],
        disclosure.total(total),
    )


def monthly_headcounts(group: ReadingGroup, now: datetime) -> list[MonthCount]:
    """Delivered sessions and headcounts per local month, the last HISTORY_MONTHS months."""
    today = to_local(now, group.tz_name).date()
    months: list[date] = []
    year, month = today.year, today.month
    for _ in range(HISTORY_MONTHS):
        months.append(date(year, month, 1))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    months.reverse()
    counts = {m: MonthCount(m) for m in months}
    since = now - timedelta(days=HISTORY_MONTHS * 31 + 1)
    rows = db.session.execute(
        sa.select(ReadingSession.start_dt, Attendance.participants, Attendance.first_time)
        .outerjoin(Attendance, Attendance.session_id == ReadingSession.id)
        .where(
            ReadingSession.group_id == group.id,
            ReadingSession.status == "delivered",
            ReadingSession.start_dt >= since,
            ReadingSession.start_dt <= now,
        )
    ).all()
    for start_dt, participants, first_time in rows:
        local = to_local(start_dt, group.tz_name).date().replace(day=1)
        bucket = counts.get(local)
        if bucket is None:
            continue
        bucket.sessions += 1
        bucket.participants = int(bucket.participants) + (participants or 0)
        bucket.first_time = int(bucket.first_time) + (first_time or 0)
    return [counts[m] for m in months]


@dataclass
class ReadingRow:
    start_dt: datetime
    title: str
    author: str
    kind: str


def reading_history(group: ReadingGroup) -> list[ReadingRow]:
    rows = db.session.execute(
        sa.select(
            ReadingSession.start_dt,
            ReadingMaterial.title,
            ReadingMaterial.author,
            ReadingMaterial.kind,
        )
        .join(session_material, session_material.c.session_id == ReadingSession.id)
        .join(ReadingMaterial, ReadingMaterial.id == session_material.c.material_id)
        .where(ReadingSession.group_id == group.id, ReadingSession.status == "delivered")
        .order_by(ReadingSession.start_dt.desc(), ReadingMaterial.title)
        .limit(READING_LIMIT)
    ).all()
    return [ReadingRow(*row) for row in rows]


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: int | str


@dataclass
class Chart:
    width: int
    height: int
    baseline: float
    bars: list[Bar]
    maximum: int


def headcount_chart(counts: list[MonthCount], width: int = 480, height: int = 200) -> Chart:
    """Bar positions for a server-rendered SVG of participants per month."""
    top, bottom, left, right = 16, 28, 8, 8
    plot_height = height - top - bottom
    # A suppressed month (text) draws no bar; its label says "fewer than 5".
    maximum = max((c.participants for c in counts if isinstance(c.participants, int)), default=0)
    slot = (width - left - right) / max(len(counts), 1)
    bars = []
    for i, c in enumerate(counts):
        value = c.participants
        h = 0.0 if maximum == 0 or not isinstance(value, int) else plot_height * value / maximum
        bars.append(
            Bar(
                x=round(left + i * slot + slot * 0.15, 1),
                y=round(top + plot_height - h, 1),
                width=round(slot * 0.7, 1),
                height=round(h, 1),
                label=c.month.strftime("%b"),
                value=c.participants,
            )
        )
    return Chart(width, height, top + plot_height, bars, maximum)
