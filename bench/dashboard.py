"""Benchmark: the "My sessions" dashboard and the log form at the charity's scale.

Run: ``.venv/bin/python bench/dashboard.py`` (SQLite in a temporary directory).

Seeds 600 weekly groups with 78 sessions each (a year back, six months ahead: 46,800 sessions);
nine in ten past sessions are delivered with headcounts, the rest are still to log (a backlog of
about 3,100). 300 catalogue texts. Times, through the test client: the dashboard as an admin
(first and last page of "to log"), as a leader of two groups and as a partner viewer of ten, and
the log form of one session. Medians of several runs after one warm-up each.
"""

from __future__ import annotations

import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

GROUPS = 600
SESSIONS_PER_GROUP = 78
HOSTS = 60
MATERIALS = 300
RUNS = 9


def main() -> None:
    from flask_migrate import upgrade

    from readerapp import create_app
    from readerapp.extensions import db
    from readerapp.models import (
        Attendance,
        Partnership,
        ReadingGroup,
        ReadingMaterial,
        ReadingSession,
        Venue,
    )
    from tests.factories import Factory

    workdir = tempfile.mkdtemp()
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir}/bench.sqlite3",
            "ENVIRONMENT": "testing",
            "RATELIMIT_ENABLED": False,
        },
        instance_path=workdir,
    )
    with app.app_context():
        upgrade(revision="heads")
        f = Factory()
        admin = f.user("admin")
        leader = f.user("reader_leader")
        hosts = [f.organisation(name=f"Host {i}") for i in range(HOSTS)]
        partner = f.user("partner_viewer", organisation_id=hosts[0].id)
        now = datetime.now(UTC)
        stamps = {"created_at": now, "updated_at": now}
        db.session.execute(
            sa.insert(Venue),
            [
                {
                    "name": f"Venue {i}",
                    "setting_type": "library",
                    "organisation_id": hosts[i % HOSTS].id,
                }
                | stamps
                for i in range(GROUPS)
            ],
        )
        venue_ids = db.session.scalars(sa.select(Venue.id).order_by(Venue.id)).all()
        db.session.execute(
            sa.insert(ReadingGroup),
            [
                {
                    "name": f"Group {i}",
                    "venue_id": venue_ids[i],
                    "lead_leader_id": leader.id if i < 2 else None,
                    "rrule": "FREQ=WEEKLY;BYDAY=TU",
                    "start_time": datetime(2026, 1, 1, 10, 30).time(),
                    "duration_minutes": 90,
                    "tz_name": "Europe/London",
                    "first_date": date(2025, 1, 1),
                    "status": "active",
                }
                | stamps
                for i in range(GROUPS)
            ],
        )
        group_ids = db.session.scalars(sa.select(ReadingGroup.id).order_by(ReadingGroup.id)).all()
        db.session.execute(
            sa.insert(Partnership),
            [
                {
                    "organisation_id": hosts[i % HOSTS].id,
                    "group_id": gid,
                    "role": "host",
                    "start_date": date(2025, 1, 1),
                }
                | stamps
                for i, gid in enumerate(group_ids)
            ],
        )
        db.session.execute(
            sa.insert(ReadingMaterial),
            [
                {"title": f"Story {i}", "author": f"Author {i % 50}", "kind": "short_story"}
                | stamps
                for i in range(MATERIALS)
            ],
        )
        first = now.replace(minute=30, second=0, microsecond=0) - timedelta(weeks=52)
        rows = []
        for i, gid in enumerate(group_ids):
            for week in range(SESSIONS_PER_GROUP):
                start = first + timedelta(weeks=week, minutes=i)
                past = start < now
                delivered = past and (week + i) % 10 != 0
                rows.append(
                    {
                        "group_id": gid,
                        "start_dt": start,
                        "tz_name": "Europe/London",
                        "duration_minutes": 90,
                        "status": "delivered" if delivered else "scheduled",
                        "touched": delivered,
                    }
                    | stamps
                )
        db.session.execute(sa.insert(ReadingSession), rows)
        delivered_ids = db.session.scalars(
            sa.select(ReadingSession.id).where(ReadingSession.status == "delivered")
        ).all()
        db.session.execute(
            sa.insert(Attendance),
            [
                {"session_id": sid, "participants": 6, "first_time": 1, "staff_carers": 1} | stamps
                for sid in delivered_ids
            ],
        )
        due_total = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(ReadingSession)
            .where(ReadingSession.status == "scheduled", ReadingSession.start_dt < now)
        )
        log_session_id = db.session.scalar(
            sa.select(ReadingSession.id).where(
                ReadingSession.group_id == group_ids[0], ReadingSession.status == "scheduled"
            )
        )
        db.session.commit()
        users = {"admin": admin.get_id(), "leader": leader.get_id(), "partner": partner.get_id()}

    last_due_page = (due_total + 24) // 25
    cases = [
        ("admin", "/sessions"),
        ("admin", f"/sessions?due_page={last_due_page}"),
        ("leader", "/sessions"),
        ("partner", "/sessions"),
        ("leader", f"/sessions/{log_session_id}/log"),
    ]
    total = GROUPS * SESSIONS_PER_GROUP
    print(
        f"readerapp dashboard bench · {total} sessions, {due_total} to log · "
        f"{platform.processor() or platform.machine()}"
    )
    for role, url in cases:
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = users[role]
            session["_fresh"] = True
        response = client.get(url)
        assert response.status_code == 200, response.status_code
        timings = []
        for _ in range(RUNS):
            started = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        print(
            f"{role:8} {url:40} median {statistics.median(timings):7.1f} ms"
            f"  (min {min(timings):.1f})"
        )


if __name__ == "__main__":
    main()
