"""``GET /healthz``: is the service up, can it reach its database, is the scheduler beating."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue

from .extensions import db
from .notifications.models import SchedulerHeartbeat
from .timeutil import utcnow

bp = Blueprint("health", __name__)

# The scheduler beats every 10 seconds; a minute of silence means it is not running.
HEARTBEAT_STALE_AFTER = timedelta(seconds=60)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    try:
        db.session.execute(sa.text("SELECT 1"))
        beat = db.session.get(SchedulerHeartbeat, "active")
    except Exception as exc:  # any failure to reach the database is "unavailable"
        current_app.logger.warning("healthz: database unavailable (%s)", type(exc).__name__)
        db.session.rollback()
        return jsonify(status="unavailable", database="unavailable"), 503
    scheduler: dict[str, object] = {"status": "not running", "last_heartbeat": None}
    if beat is not None:
        fresh = utcnow() - beat.beat_at <= HEARTBEAT_STALE_AFTER
        scheduler = {
            "status": "ok" if fresh else "stale",
            "last_heartbeat": beat.beat_at.isoformat(),
        }
    return jsonify(status="ok", database="ok", scheduler=scheduler)
