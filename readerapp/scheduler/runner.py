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
from . import housekeeping, jobs, process, reconcile
from .leader import Leadership, leadership_for
from .process import request_stop
from .timing import HOUR, HOUSEKEEPING, JOBS, UTC_ZONE

log = logging.getLogger("readerapp.scheduler")


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
            func=f"{HOUSEKEEPING}:heartbeat",
            trigger=every(config["SCHEDULER_HEARTBEAT_SECONDS"]),
            grace=30,
        ),
        dict(
            id="reconcile",
            func=f"{HOUSEKEEPING}:reconcile",
            trigger=every(config["SCHEDULER_RECONCILE_SECONDS"]),
            grace=60,
        ),
        dict(
            id="check-changes",
            func=f"{HOUSEKEEPING}:check_changes",
            trigger=every(config["SCHEDULER_CHANGE_POLL_SECONDS"]),
            grace=30,
        ),
        dict(
            id="send-due",
            func=f"{JOBS}:send_due",
            trigger=every(config["SCHEDULER_SWEEP_SECONDS"]),
            grace=HOUR,
        ),
        # Wall-clock jobs in the service's zone, away from the 01:00–03:00 DST changes.
        dict(
            id="extend-sessions",
            func=f"{JOBS}:extend_sessions",
            trigger=CronTrigger(hour=4, minute=30, timezone=local),
            grace=12 * HOUR,
        ),
        dict(
            id="apply-retention",
            func=f"{JOBS}:apply_retention",
            trigger=CronTrigger(hour=4, minute=45, timezone=local),
            grace=12 * HOUR,
        ),
        dict(
            id="lapsed-checks-digest",
            func=f"{JOBS}:lapsed_checks_digest",
            trigger=CronTrigger(hour=8, minute=0, timezone=local),
            grace=12 * HOUR,
        ),
        dict(
            id="nudge-unlogged",
            func=f"{JOBS}:nudge_unlogged",
            trigger=CronTrigger(hour=9, minute=0, timezone=local),
            grace=12 * HOUR,
        ),
        dict(
            id="weekly-digest",
            func=f"{JOBS}:weekly_digest",
            trigger=CronTrigger(day_of_week="mon", hour=7, minute=0, timezone=local),
            grace=3 * 24 * HOUR,
        ),
    ]


def ensure_fixed_jobs(scheduler: BlockingScheduler, app: Flask) -> None:
    """Add the fixed jobs, keeping a stored job (and its missed run time) when unchanged."""
    for spec in fixed_jobs(app):
        existing = scheduler.get_job(spec["id"])
        func = spec["func"]
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
    while not process.stopping.is_set():
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
        process.stopping.wait(poll_seconds)
    return False


def run(app: Flask) -> int:
    """Run the scheduler process until SIGTERM/SIGINT. Returns the exit status."""
    process.reset()
    jobs.bind_app(app)
    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    with app.app_context():
        leadership = leadership_for(db.engine, app.instance_path)
        if not wait_for_leadership(leadership, app.config["SCHEDULER_STANDBY_POLL_SECONDS"]):
            leadership.release()
            return 0
        try:
            scheduler = build_scheduler(app)
            process.attach(scheduler, leadership)
            scheduler.add_listener(_job_run_recorder(app), EVENT_JOB_EXECUTED)
            threading.Thread(
                target=_start_up, args=(app, scheduler), name="scheduler-start-up", daemon=True
            ).start()
            # Blocks until shutdown. It starts paused: _start_up resumes it once the jobs are
            # rebuilt from the database and the missed work is swept.
            scheduler.start(paused=True)
        finally:
            process.attach(None, None)
            housekeeping.clear_heartbeat()
            leadership.release()
            db.session.remove()
            db.engine.dispose()
    log.info("scheduler %s: stopped", os.getpid())
    return 3 if process.was_lost() else 0


def _start_up(app: Flask, scheduler: BlockingScheduler) -> None:
    while scheduler.state == STATE_STOPPED and not process.stopping.is_set():
        time.sleep(0.05)
    try:
        with app.app_context():
            housekeeping.heartbeat()
            reconcile.reconcile_jobs(scheduler)
            swept = jobs.send_due()
            log.info("scheduler: start-up sweep %s", swept)
            ensure_fixed_jobs(scheduler, app)
            db.session.remove()
    except Exception:
        log.exception("scheduler: start-up failed")
        request_stop()
        return
    if process.stopping.is_set():
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
            housekeeping.record_job_run(app, event.job_id)

    return record
