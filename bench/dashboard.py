"""Benchmark: the "My sessions" dashboard and the log form at the charity's scale.

Run: ``.venv/bin/python bench/dashboard.py`` (SQLite in a temporary directory).

Seeds 600 weekly groups with 78 sessions each (a year back, six months ahead: 46,800 sessions);
nine in ten past sessions are delivered with headcounts, the rest are still to log (a backlog of
about 3,100). 300 catalogue texts. Times, through the test client: the dashboard as an admin
(first and last page of "to log"), as a leader of two groups and as a partner viewer of ten, and
the log form of one session. Medians of several runs after one warm-up each.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

GROUPS = 600
SESSIONS_PER_GROUP = 78
HOSTS = 60
MATERIALS = 300
RUNS = 9


def main() -> None:
    from common import insert_groups, machine, median_ms, sqlite_app

    from readerapp.extensions import db
    from readerapp.models import Attendance, ReadingMaterial, ReadingSession
    from tests.factories import Factory

    app = sqlite_app(tempfile.mkdtemp())
    with app.app_context():
        f = Factory()
        admin = f.user("admin")
        leader = f.user("reader_leader")
        hosts = [f.organisation(name=f"Host {i}") for i in range(HOSTS)]
        partner = f.user("partner_viewer", organisation_id=hosts[0].id)
        now = datetime.now(UTC)
        stamps = {"created_at": now, "updated_at": now}
        group_ids = insert_groups(
            hosts, GROUPS, lead_leader_id=lambda i: leader.id if i < 2 else None
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
    print(f"readerapp dashboard bench · {total} sessions, {due_total} to log · {machine()}")
    for role, url in cases:
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = users[role]
            session["_fresh"] = True

        def get(url: str = url, client=client):  # type: ignore[no-untyped-def]
            response = client.get(url)
            assert response.status_code == 200, response.status_code

        median, fastest = median_ms(get, RUNS)
        print(f"{role:8} {url:40} median {median:7.1f} ms  (min {fastest:.1f})")


if __name__ == "__main__":
    main()
