"""Benchmark: the group list and a group's page at the charity's scale (600 groups).

Run: ``.venv/bin/python bench/groups_pages.py`` (SQLite in a temporary directory).

Seeds 600 weekly groups with a year of delivered sessions (with headcounts and a text read)
and six months ahead scheduled, then times, through the test client, as an admin:
the first page of ``/groups``, a filtered list, and one group's page. Medians of several runs;
wall-clock time around the request, after one warm-up request each.
"""

from __future__ import annotations

import tempfile
from datetime import date, timedelta

import sqlalchemy as sa

GROUPS = 600
RUNS = 9


def main() -> None:
    from common import machine, median_ms, sqlite_app

    from readerapp.attendance.models import Attendance
    from readerapp.extensions import db
    from readerapp.groups.operations import generate_sessions
    from readerapp.models import ReadingSession, User
    from readerapp.sessions.models import session_material
    from readerapp.timeutil import utcnow
    from tests.factories import Factory
    from tests.world import sign_in_as

    app = sqlite_app(tempfile.mkdtemp())
    with app.app_context():
        f = Factory()
        admin = f.user("admin", display_name="Bench Admin")
        material = f.material(title="The Happy Prince", author="Oscar Wilde")
        venues = [f.venue(name=f"Venue {i}") for i in range(60)]
        since = date.today() - timedelta(days=365)
        days = ["MO", "TU", "WE", "TH", "FR"]
        for i in range(GROUPS):
            group = f.group(
                venues[i % len(venues)],
                name=f"Group {i:03d}",
                rrule=f"FREQ=WEEKLY;BYDAY={days[i % 5]}",
                first_date=since,
            )
            generate_sessions(group, since=since)
        now = utcnow()
        db.session.execute(
            sa.update(ReadingSession)
            .where(ReadingSession.start_dt < now)
            .values(status="delivered", touched=True)
        )
        past_ids = db.session.scalars(
            sa.select(ReadingSession.id).where(ReadingSession.start_dt < now)
        ).all()
        db.session.execute(
            sa.insert(Attendance),
            [{"session_id": sid, "participants": 6, "first_time": 1} for sid in past_ids],
        )
        db.session.execute(
            sa.insert(session_material),
            [{"session_id": sid, "material_id": material.id} for sid in past_ids],
        )
        db.session.commit()
        sessions = db.session.scalar(sa.select(sa.func.count()).select_from(ReadingSession))
        admin = db.session.get(User, admin.id)
        client = app.test_client()
        sign_in_as(client, admin)
        group_id = db.session.scalar(sa.select(sa.func.min(ReadingSession.group_id)))
        db.session.commit()

    def timed(url: str) -> float:
        def get() -> None:
            response = client.get(url)
            assert response.status_code == 200, response.status_code

        return median_ms(get, RUNS)[0]

    print(f"machine: {machine()}")
    print(f"data: {GROUPS} groups, {sessions} sessions, {len(past_ids)} with attendance")
    for label, url in [
        ("GET /groups (page 1 of 12)", "/groups"),
        ("GET /groups?setting=...&q=Group 5", "/groups?setting=mental_health_inpatient&q=Group+5"),
        ("GET /groups/<id>", f"/groups/{group_id}"),
    ]:
        print(f"{label}: median {timed(url):.1f} ms over {RUNS} runs")


if __name__ == "__main__":
    main()
