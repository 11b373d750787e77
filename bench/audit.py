"""Benchmark: what the audit trail adds to writes, and how long a retention run takes.

Run: ``.venv/bin/python bench/audit.py`` (SQLite in a temporary directory).

Times, with the audit listeners on and then off (same process, same data shape): inserting 2,000
sessions in one flush and commit, and updating the start of those 2,000 sessions in one commit.
Then a retention run over 5,000 named participants of whom half are past the retention period.
Medians of several runs; wall-clock time.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

ROWS = 2_000
PARTICIPANTS = 5_000
RUNS = 5


def main() -> None:
    from common import sqlite_app

    from readerapp.audit import trail
    from readerapp.extensions import db
    from readerapp.models import (
        AuditEvent,
        Organisation,
        Participant,
        ParticipantAttendance,
        ReadingGroup,
        ReadingSession,
        Venue,
    )
    from readerapp.privacy import apply_retention

    with tempfile.TemporaryDirectory() as tmp:
        app = sqlite_app(tmp)
        with app.app_context():
            org = Organisation(name="Trust", kind="nhs_trust")
            db.session.add(org)
            db.session.flush()
            venue = Venue(name="Ward", setting_type="care_home", organisation_id=org.id)
            db.session.add(venue)
            db.session.flush()
            start = datetime(2026, 1, 6, 10, tzinfo=UTC)

            def new_group(n: int) -> ReadingGroup:
                group = ReadingGroup(
                    name=f"Group {n}",
                    venue_id=venue.id,
                    rrule="FREQ=WEEKLY",
                    start_time=start.time(),
                    duration_minutes=60,
                    tz_name="Europe/London",
                    first_date=start.date(),
                )
                db.session.add(group)
                db.session.flush()
                return group

            counter = iter(range(10_000))

            def insert_and_update() -> tuple[float, float]:
                group = new_group(next(counter))
                db.session.commit()
                t0 = time.perf_counter()
                sessions = [
                    ReadingSession(
                        group_id=group.id,
                        start_dt=start + timedelta(days=7 * i),
                        tz_name="Europe/London",
                        duration_minutes=60,
                    )
                    for i in range(ROWS)
                ]
                db.session.add_all(sessions)
                db.session.commit()
                t1 = time.perf_counter()
                for s in sessions:
                    s.start_dt = s.start_dt + timedelta(hours=1)
                db.session.commit()
                t2 = time.perf_counter()
                return t1 - t0, t2 - t1

            def measure(label: str, fn: Callable[[], tuple[float, float]]) -> None:
                fn()  # warm-up
                runs = [fn() for _ in range(RUNS)]
                inserts = statistics.median(r[0] for r in runs)
                updates = statistics.median(r[1] for r in runs)
                print(
                    f"{label:<14} insert {ROWS} sessions: {inserts * 1000:7.1f} ms   "
                    f"update {ROWS}: {updates * 1000:7.1f} ms"
                )

            measure("audit on", insert_and_update)
            audited = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
            event.remove(Session, "after_flush", trail._after_flush)
            measure("audit off", insert_and_update)
            event.listen(Session, "after_flush", trail._after_flush)
            print(f"audit events written with audit on: {audited:,}")

            # Retention over many named participants, half of them long gone.
            group = new_group(next(counter))
            old = ReadingSession(
                group_id=group.id,
                start_dt=start - timedelta(days=1000),
                tz_name="Europe/London",
                duration_minutes=60,
                status="delivered",
            )
            recent = ReadingSession(
                group_id=group.id,
                start_dt=datetime.now(UTC) - timedelta(days=7),
                tz_name="Europe/London",
                duration_minutes=60,
                status="delivered",
            )
            db.session.add_all([old, recent])
            db.session.flush()
            people = [
                Participant(organisation_id=org.id, code=f"P{i:05d}", display_name=f"Person {i}")
                for i in range(PARTICIPANTS)
            ]
            db.session.add_all(people)
            db.session.flush()
            db.session.add_all(
                ParticipantAttendance(session_id=(old if i % 2 else recent).id, participant_id=p.id)
                for i, p in enumerate(people)
            )
            db.session.commit()
            t0 = time.perf_counter()
            result = apply_retention()
            db.session.commit()
            elapsed = time.perf_counter() - t0
            print(
                f"retention: cleared {result.cleared:,} of {PARTICIPANTS:,} participants "
                f"in {elapsed * 1000:.0f} ms (one audit entry each)"
            )


if __name__ == "__main__":
    main()
