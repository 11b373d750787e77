"""``GET /healthz``: is the service up, can it reach its database, is the scheduler beating.

The check runs on a small thread pool of its own and is given ``HEALTH_CHECK_SECONDS``: a
database that hangs makes the answer 503 within that time, while the stuck check is left to the
database timeouts (a frozen PostgreSQL is cut off by the watchdog in readerapp/dbguard.py).
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from .db import sqlite_read_only
from .extensions import db
from .notifications.models import SchedulerHeartbeat
from .timeutil import utcnow

bp = Blueprint("health", __name__)

# The scheduler beats every 10 seconds; a minute of silence means it is not running.
HEARTBEAT_STALE_AFTER = timedelta(seconds=60)
# Load balancers give up after 2 seconds or so; answer before they do.
HEALTH_CHECK_SECONDS = 1.5
# At most two checks stuck on a hung database per process; further ones wait their turn and
# time out, so a hang never piles up threads or connections.
_checks = ThreadPoolExecutor(max_workers=2, thread_name_prefix="healthz")


def _check(engine: sa.Engine) -> datetime | None:
    """Reach the database and read the scheduler's last heartbeat."""
    sqlite_read_only.set(True)  # a health check never takes SQLite's write lock
    with Session(engine) as session:
        session.execute(sa.text("SELECT 1"))
        beat = session.get(SchedulerHeartbeat, "active")
        return beat.beat_at if beat is not None else None


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    future: Future[datetime | None] = _checks.submit(_check, db.engine)
    try:
        beat_at = future.result(timeout=HEALTH_CHECK_SECONDS)
    except FutureTimeout:
        future.cancel()  # if it is still queued behind stuck checks
        current_app.logger.warning("healthz: database did not answer in time")
        return jsonify(status="unavailable", database="unavailable"), 503
    except Exception as exc:  # any failure to reach the database is "unavailable"
        current_app.logger.warning("healthz: database unavailable (%s)", type(exc).__name__)
        return jsonify(status="unavailable", database="unavailable"), 503
    scheduler: dict[str, object] = {"status": "not running", "last_heartbeat": None}
    if beat_at is not None:
        fresh = utcnow() - beat_at <= HEARTBEAT_STALE_AFTER
        scheduler = {"status": "ok" if fresh else "stale", "last_heartbeat": beat_at.isoformat()}
    return jsonify(status="ok", database="ok", scheduler=scheduler)
