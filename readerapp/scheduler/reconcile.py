"""The database is the source of truth: the scheduler's per-row jobs are rebuilt from it.

At start and every minute (and within seconds when a cheap "has anything changed?" check sees
a newer ``updated_at`` or a different row count), the jobs for reminders and "mark aired" due in
the coming week are made to match the broadcasts and sessions: missing ones are added, moved
ones re-timed, and jobs for deleted, cancelled or already-handled rows removed. Work that is
already due is left to the "send what is due" sweep.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from apscheduler.triggers.date import DateTrigger

from ..extensions import db
from ..radio.models import Broadcast
from ..sessions.models import ReadingSession
from ..timeutil import utcnow
from . import process
from .timing import (
    BROADCAST_REMINDER_BEFORE,
    JOBS,
    ROW_JOB_PREFIXES,
    ROW_JOB_WINDOW,
    SESSION_REMINDER_BEFORE,
    UTC_ZONE,
)

log = logging.getLogger("readerapp.scheduler")


@dataclass(frozen=True)
class Wanted:
    job_id: str
    func: str
    row_id: int
    run_at: datetime


def wanted_jobs(now: datetime) -> list[Wanted]:
    horizon = now + ROW_JOB_WINDOW
    wanted: list[Wanted] = []
    broadcasts = db.session.execute(
        sa.select(
            Broadcast.id, Broadcast.air_dt, Broadcast.duration_minutes, Broadcast.reminder_sent_at
        ).where(
            Broadcast.status == "scheduled",
            Broadcast.air_dt < horizon + BROADCAST_REMINDER_BEFORE,
            Broadcast.air_dt > now - timedelta(days=1),
        )
    ).all()
    for b in broadcasts:
        remind_at = b.air_dt - BROADCAST_REMINDER_BEFORE
        if b.reminder_sent_at is None and now < remind_at <= horizon:
            wanted.append(
                Wanted(f"broadcast-reminder:{b.id}", "broadcast_reminder", b.id, remind_at)
            )
        end = b.air_dt + timedelta(minutes=b.duration_minutes)
        if now < end <= horizon:
            wanted.append(Wanted(f"broadcast-aired:{b.id}", "mark_aired", b.id, end))
    sessions = db.session.execute(
        sa.select(ReadingSession.id, ReadingSession.start_dt).where(
            ReadingSession.status == "scheduled",
            ReadingSession.reminder_sent_at.is_(None),
            ReadingSession.start_dt > now + SESSION_REMINDER_BEFORE,
            ReadingSession.start_dt <= horizon + SESSION_REMINDER_BEFORE,
        )
    ).all()
    for s in sessions:
        remind_at = s.start_dt - SESSION_REMINDER_BEFORE
        wanted.append(Wanted(f"session-reminder:{s.id}", "session_reminder", s.id, remind_at))
    return wanted


@dataclass
class ReconcileResult:
    added: int = 0
    retimed: int = 0
    removed: int = 0
    kept: int = 0


def reconcile_jobs(scheduler: Any = None, now: datetime | None = None) -> ReconcileResult:
    """Make the job store's per-row jobs match the database."""
    scheduler = scheduler or process.current_scheduler()
    now = now or utcnow()
    result = ReconcileResult()
    marker = change_marker()
    wanted = {w.job_id: w for w in wanted_jobs(now)}
    db.session.rollback()  # reads only; do not hold a transaction while touching the job store
    existing = {job.id: job for job in scheduler.get_jobs() if job.id.startswith(ROW_JOB_PREFIXES)}
    for job_id in existing:
        if job_id not in wanted:
            scheduler.remove_job(job_id)
            result.removed += 1
    for job_id, w in wanted.items():
        job = existing.get(job_id)
        if job is not None and job.next_run_time == w.run_at.astimezone(UTC):
            result.kept += 1
            continue
        scheduler.add_job(
            f"{JOBS}:{w.func}",
            trigger=DateTrigger(run_date=w.run_at, timezone=UTC_ZONE),
            args=[w.row_id],
            id=job_id,
            name=job_id,
            replace_existing=True,
            # Late is fine (the work is claimed in the database); never skip it.
            misfire_grace_time=None,
            coalesce=True,
        )
        if job is None:
            result.added += 1
        else:
            result.retimed += 1
    _state["marker"] = marker
    if result.added or result.retimed or result.removed:
        log.info(
            "reconciled jobs: %s added, %s re-timed, %s removed, %s kept",
            result.added,
            result.retimed,
            result.removed,
            result.kept,
        )
    return result


_state: dict[str, object] = {"marker": None}


def change_marker() -> tuple[object, ...]:
    """Cheap: the newest change and the row counts of the tables jobs come from."""
    b = db.session.execute(
        sa.select(sa.func.max(Broadcast.updated_at), sa.func.count(Broadcast.id))
    ).one()
    s = db.session.execute(
        sa.select(sa.func.max(ReadingSession.updated_at), sa.func.count(ReadingSession.id))
    ).one()
    return (*b, *s)


def reconcile_if_changed(scheduler: Any = None, now: datetime | None = None) -> bool:
    marker = change_marker()
    db.session.rollback()
    if marker == _state["marker"]:
        return False
    reconcile_jobs(scheduler, now)
    return True
