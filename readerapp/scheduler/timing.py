"""The scheduler's timings and job references, in one place: how far ahead reminders go out,
how far back nudges look, how far ahead per-row jobs are planned, and where job functions live.

Nothing here imports the rest of the scheduler, so every part can read it.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

# Where APScheduler finds the job functions ("module:function" references in its job store).
JOBS = "readerapp.scheduler.jobs"
HOUSEKEEPING = "readerapp.scheduler.housekeeping"

UTC_ZONE = ZoneInfo("UTC")
HOUR = 3600

BROADCAST_REMINDER_BEFORE = timedelta(hours=48)
SESSION_REMINDER_BEFORE = timedelta(hours=24)
NUDGE_AFTER = timedelta(hours=48)
# Sessions older than this are not nudged about (a first start must not mail years of history).
NUDGE_LOOKBACK = timedelta(days=30)

# Per-row jobs are planned this far ahead; the minute-by-minute reconciliation slides it on.
ROW_JOB_WINDOW = timedelta(days=7)
ROW_JOB_PREFIXES = ("broadcast-reminder:", "broadcast-aired:", "session-reminder:")
