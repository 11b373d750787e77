"""The scheduler's own upkeep, beside the runner: its heartbeat, keeping the per-row jobs in step
with the database, and the record of each fixed job's last run. APScheduler stores these as
"readerapp.scheduler.housekeeping:NAME"; the work itself is in ``jobs.py``.
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import datetime

from flask import Flask

from ..extensions import db
from ..notifications.models import SchedulerHeartbeat
from ..timeutil import utcnow
from . import process
from . import reconcile as reconciliation
from .jobs import job_context

log = logging.getLogger("readerapp.scheduler")


def _beat(name: str, at: datetime) -> None:
    row = db.session.get(SchedulerHeartbeat, name)
    if row is None:
        row = SchedulerHeartbeat(name=name)
        db.session.add(row)
    row.beat_at = at
    row.host = socket.gethostname()[:200]
    row.pid = os.getpid()


def heartbeat(now: datetime | None = None) -> None:
    """Written every few seconds by the active scheduler; /healthz reads it."""
    if process.leadership_lost():
        process.lost_leadership()
        return
    with job_context():
        _beat("active", now or utcnow())
        db.session.commit()


def reconcile(now: datetime | None = None) -> None:
    with job_context():
        reconciliation.reconcile_jobs(now=now)


def check_changes(now: datetime | None = None) -> None:
    with job_context():
        reconciliation.reconcile_if_changed(now=now)


def record_job_run(app: Flask, job_id: str) -> None:
    """A fixed job's last successful run, as a ``job:<id>`` row of scheduler_heartbeat (for
    /metrics, which may be served from another machine)."""
    with app.app_context():
        try:
            _beat(f"job:{job_id}", utcnow())
            db.session.commit()
        except Exception:  # a missed record shows as lag; it must not disturb the scheduler
            db.session.rollback()
            log.warning("scheduler: could not record the run of %s", job_id)
        finally:
            db.session.remove()


def clear_heartbeat() -> None:
    """The active scheduler is stopping: /healthz should say so at once."""
    try:
        beat = db.session.get(SchedulerHeartbeat, "active")
        if beat is not None and beat.pid == os.getpid():
            db.session.delete(beat)
            db.session.commit()
    except Exception:  # a dying database must not stop the lock from being released
        db.session.rollback()
