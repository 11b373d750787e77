"""This process's scheduler, its leadership lock and the stop signal.

The runner sets them; the housekeeping jobs and the reconciliation read them. Kept apart from
the runner so that the jobs never import the module that runs them.
"""

from __future__ import annotations

import logging
import threading

from apscheduler.schedulers.base import STATE_STOPPED
from apscheduler.schedulers.blocking import BlockingScheduler

from .leader import Leadership

log = logging.getLogger("readerapp.scheduler")

_scheduler: BlockingScheduler | None = None
_leadership: Leadership | None = None
_lost = False
stopping = threading.Event()


def attach(scheduler: BlockingScheduler | None, leadership: Leadership | None) -> None:
    """The runner's scheduler and lock for this process (None, None once it has stopped)."""
    global _scheduler, _leadership
    _scheduler, _leadership = scheduler, leadership


def reset() -> None:
    global _lost
    stopping.clear()
    _lost = False


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


def was_lost() -> bool:
    return _lost


def request_stop(*_: object) -> None:
    stopping.set()
    scheduler = _scheduler
    if scheduler is not None and scheduler.state != STATE_STOPPED:
        # Not from inside the signal handler: shutdown waits for running jobs.
        threading.Thread(target=scheduler.shutdown, name="scheduler-shutdown").start()
