"""The scheduler process: ``flask --app wsgi scheduler run``.

One APScheduler 3.11 ``BlockingScheduler`` in its own process (never inside a web worker), with
its job store (SQLAlchemyJobStore, table ``apscheduler_jobs``) in the app's database. Start-up:

1. take the leadership lock (see ``leader.py``), or wait as a hot standby, polling, until it is
   free — a killed active scheduler frees it at once;
2. rebuild the per-row jobs from the database and run the "send what is due" sweep, which
   catches up everything missed while no scheduler was running, once;
3. make sure the fixed jobs exist, keeping each one's stored next run time so a daily job
   missed during downtime runs once at start (coalesce, with a grace time), not once per miss;
4. run until SIGTERM or SIGINT, then shut down cleanly and release the lock.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.base import STATE_STOPPED
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask

from ..extensions import db
from .leader import Leadership, leadership_for

log = logging.getLogger("readerapp.scheduler")

JOBS = "readerapp.scheduler.jobs"
UTC_ZONE = ZoneInfo("UTC")
HOUR = 3600

_scheduler: BlockingScheduler | None = None
_leadership: Leadership | None = None
_stopping = threading.Event()


def current_scheduler() -> BlockingScheduler:
    if _scheduler is None:
        raise RuntimeError("the scheduler is not running in this process")
    return _scheduler


def leadership_lost() -> bool:
    """True when this process ran as the active scheduler and its lock has gone."""
    return _leadership is not None and not _leadership.still_held()


def lost_leadership() -> None:
    """The lock is gone (e.g. the database connection dropped): stop rather than risk two
    active schedulers. A supervisor (``make run``) or the standby carries on."""
    global _lost
    log.error("scheduler: leadership lost; shutting down")
    _lost = True
    request_stop()


def request_stop(*_: object) -> None:
    _stopping.set()
    scheduler = _scheduler
    if scheduler is not None and scheduler.state != STATE_STOPPED:
        # Not from inside the signal handler: shutdown waits for running jobs.
        threading.Thread(target=scheduler.shutdown, name="scheduler-shutdown").start()


def build_scheduler(app: Flask) -> BlockingScheduler:
    return BlockingScheduler(
        timezone=UTC_ZONE,
        jobstores={
            "default": SQLAlchemyJobStore(engine=db.engine, tablename="apscheduler_jobs"),
        },
        executors={"default": ThreadPoolExecutor(max_workers=4)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60},
    )


def fixed_jobs(app: Flask) -> list[dict[str, Any]]:
    config = app.config
    local = ZoneInfo(config["TIMEZONE"])

    def every(seconds: int) -> IntervalTrigger:
        return IntervalTrigger(seconds=seconds, timezone=UTC_ZONE)

    return [
        dict(
            id="heartbeat",
            func="heartbeat",
            trigger=every(config["SCHEDULER_HEARTBEAT_SECONDS"]),
            grace=30,
        ),
        dict(
            id="reconcile",
            func="reconcile",
            trigger=every(config["SCHEDULER_RECONCILE_SECONDS"]),
            grace=60,
        ),
        dict(
            id="check-changes",
            func="check_changes",
            trigger=every(config["SCHEDULER_CHANGE_POLL_SECONDS"]),
            grace=30,
        ),
        dict(
            id="send-due",
            func="send_due",
            trigger=every(config["SCHEDULER_SWEEP_SECONDS"]),
            grace=HOUR,
        ),
        # Wall-clock jobs in the service's zone, away from the 01:00–03:00 DST changes.
        dict(
            id="extend-sessions",
            func="extend_sessions",
            trigger=CronTrigger(hour=4, minute=30, timezone=local),
            grace=12 * HOUR,
        ),
        dict(
            id="apply-retention",
            func="apply_retention",
            trigger=CronTrigger(hour=4, minute=45, timezone=local),
            grace=12 * HOUR,
        ),
        dict(
            id="nudge-unlogged",
            func="nudge_unlogged",
            trigger=CronTrigger(hour=9, minute=0, timezone=local),
            grace=12 * HOUR,
        ),
        dict(
            id="weekly-digest",
            func="weekly_digest",
            trigger=CronTrigger(day_of_week="mon", hour=7, minute=0, timezone=local),
            grace=3 * 24 * HOUR,
        ),
    ]


def ensure_fixed_jobs(scheduler: BlockingScheduler, app: Flask) -> None:
    """Add the fixed jobs, keeping a stored job (and its missed run time) when unchanged."""
    for spec in fixed_jobs(app):
        existing = scheduler.get_job(spec["id"])
        func = f"{JOBS}:{spec['func']}"
        if (
            existing is not None
            and str(existing.trigger) == str(spec["trigger"])
            and existing.func_ref == func
            and existing.misfire_grace_time == spec["grace"]
        ):
            continue
        scheduler.add_job(
            func,
            trigger=spec["trigger"],
            id=spec["id"],
            name=spec["id"],
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=spec["grace"],
        )


def wait_for_leadership(leadership: Leadership, poll_seconds: int) -> bool:
    """Block until this process holds the lock (True) or is asked to stop (False)."""
    announced = False
    while not _stopping.is_set():
        if leadership.try_acquire():
            log.info("scheduler %s: active (holding the %s)", os.getpid(), leadership.description)
            return True
        if not announced:
            log.info(
                "scheduler %s: standby; another scheduler holds the %s (retrying every %ss)",
                os.getpid(),
                leadership.description,
                poll_seconds,
            )
            announced = True
        _stopping.wait(poll_seconds)
    return False


def run(app: Flask) -> int:
    """Run the scheduler process until SIGTERM/SIGINT. Returns the exit status."""
    global _scheduler, _leadership, _lost
    from . import jobs

    _stopping.clear()
    _lost = False
    jobs.bind_app(app)
    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    with app.app_context():
        leadership = leadership_for(db.engine, app.instance_path)
        if not wait_for_leadership(leadership, app.config["SCHEDULER_STANDBY_POLL_SECONDS"]):
            leadership.release()
            return 0
        _leadership = leadership
        try:
            scheduler = build_scheduler(app)
            _scheduler = scheduler
            scheduler.add_listener(_job_run_recorder(app), EVENT_JOB_EXECUTED)
            threading.Thread(
                target=_start_up, args=(app, scheduler), name="scheduler-start-up", daemon=True
            ).start()
            # Blocks until shutdown. It starts paused: _start_up resumes it once the jobs are
            # rebuilt from the database and the missed work is swept.
            scheduler.start(paused=True)
        finally:
            _scheduler = None
            _leadership = None
            _clear_heartbeat()
            leadership.release()
            db.session.remove()
            db.engine.dispose()
    log.info("scheduler %s: stopped", os.getpid())
    return 3 if _lost else 0


_lost = False


def _start_up(app: Flask, scheduler: BlockingScheduler) -> None:
    from . import jobs, reconcile

    while scheduler.state == STATE_STOPPED and not _stopping.is_set():
        time.sleep(0.05)
    try:
        with app.app_context():
            jobs.heartbeat()
            reconcile.reconcile_jobs(scheduler)
            swept = jobs.send_due()
            log.info("scheduler: start-up sweep %s", swept)
            ensure_fixed_jobs(scheduler, app)
            db.session.remove()
    except Exception:
        log.exception("scheduler: start-up failed")
        request_stop()
        return
    if _stopping.is_set():
        request_stop()
        return
    scheduler.resume()
    log.info("scheduler %s: running", os.getpid())


def _job_run_recorder(app: Flask) -> Any:
    """Each fixed job's last successful run, as a ``job:<id>`` row of scheduler_heartbeat, for
    /metrics (which may be served from another machine). Not the heartbeat job (the "active"
    row is its record) nor the per-row jobs (one each, run once)."""
    recorded = {spec["id"] for spec in fixed_jobs(app)} - {"heartbeat"}

    def record(event: JobExecutionEvent) -> None:
        if event.job_id in recorded:
            record_job_run(app, event.job_id)

    return record


def record_job_run(app: Flask, job_id: str) -> None:
    import socket

    from ..notifications.models import SchedulerHeartbeat
    from ..timeutil import utcnow

    with app.app_context():
        try:
            name = f"job:{job_id}"
            row = db.session.get(SchedulerHeartbeat, name)
            if row is None:
                row = SchedulerHeartbeat(name=name)
                db.session.add(row)
            row.beat_at = utcnow()
            row.host = socket.gethostname()[:200]
            row.pid = os.getpid()
            db.session.commit()
        except Exception:  # a missed record shows as lag; it must not disturb the scheduler
            db.session.rollback()
            log.warning("scheduler: could not record the run of %s", job_id)
        finally:
            db.session.remove()


def _clear_heartbeat() -> None:
    from ..notifications.models import SchedulerHeartbeat

    try:
        beat = db.session.get(SchedulerHeartbeat, "active")
        if beat is not None and beat.pid == os.getpid():
            db.session.delete(beat)
            db.session.commit()
    except Exception:  # a dying database must not stop the lock from being released
        db.session.rollback()
