"""Writes to groups. Operations flush; the request or job that calls them commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..sessions.models import ReadingSession
from ..timeutil import to_local, utcnow, zone
from .models import ReadingGroup
from .recurrence import Pattern, occurrences


def pattern_of(group: ReadingGroup) -> Pattern:
    return Pattern(
        rule=group.rrule,
        start_time=group.start_time,
        duration_minutes=group.duration_minutes,
        tz_name=group.tz_name,
        first_date=group.first_date,
        last_date=group.last_date,
        excluded=frozenset(d.day for d in group.excluded_dates),
    )


@dataclass
class GenerationResult:
    created: int = 0
    removed: int = 0
    updated: int = 0


def generate_sessions(
    group: ReadingGroup,
    *,
    now: datetime | None = None,
    horizon_days: int | None = None,
    since: date | None = None,
) -> GenerationResult:
    """Bring a group's generated sessions in line with its pattern, up to the rolling horizon.

    Idempotent. Only occurrences that start after ``now`` and that nobody has touched are
    created, removed or re-timed; cancelled, rescheduled, logged or edited occurrences survive.
    ``since`` (a local date) lets the demo data fill in the past as well.
    """
    now = now or utcnow()
    horizon_days = horizon_days or current_app.config["SCHEDULE_HORIZON_DAYS"]
    tz = zone(group.tz_name)
    today = to_local(now, tz).date()
    end = today + timedelta(days=horizon_days)
    start = since if since is not None else today
    result = GenerationResult()

    wanted: set[datetime] = set()
    if group.status == "active":
        wanted = {dt for dt in occurrences(pattern_of(group), start, end) if since or dt > now}

    lower = datetime.combine(start, datetime.min.time(), tzinfo=tz)
    existing = db.session.scalars(
        sa.select(ReadingSession).where(
            ReadingSession.group_id == group.id,
            sa.or_(ReadingSession.occurrence_dt >= lower, ReadingSession.start_dt >= lower),
        )
    ).all()
    by_slot = {s.occurrence_dt: s for s in existing if s.occurrence_dt is not None}
    taken_starts = {s.start_dt for s in existing}

    for session in existing:
        if session.occurrence_dt is None or session.touched or session.status != "scheduled":
            continue
        if session.start_dt <= now:
            continue
        if session.occurrence_dt not in wanted:
            db.session.delete(session)
            taken_starts.discard(session.start_dt)
            result.removed += 1
        elif session.duration_minutes != group.duration_minutes:
            session.duration_minutes = group.duration_minutes
            session.sequence += 1
            result.updated += 1

    for slot in sorted(wanted - by_slot.keys()):
        if slot in taken_starts:  # a moved occurrence already sits there
            continue
        db.session.add(
            ReadingSession(
                group_id=group.id,
                start_dt=slot,
                occurrence_dt=slot,
                tz_name=group.tz_name,
                duration_minutes=group.duration_minutes,
                leader_id=group.lead_leader_id,
                status="scheduled",
            )
        )
        taken_starts.add(slot)
        result.created += 1
    db.session.flush()
    return result


def generate_all(now: datetime | None = None) -> GenerationResult:
    """Extend every active group's sessions to the horizon (run daily by the scheduler)."""
    total = GenerationResult()
    groups = db.session.scalars(sa.select(ReadingGroup).order_by(ReadingGroup.id)).all()
    for group in groups:
        r = generate_sessions(group, now=now)
        total.created += r.created
        total.removed += r.removed
        total.updated += r.updated
    return total
