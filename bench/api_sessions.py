"""Benchmark: listing sessions through the JSON API at the charity's scale.

Run: ``.venv/bin/python bench/api_sessions.py`` (SQLite in a temporary directory).

Seeds 600 weekly groups with 78 sessions each (a year back, six months ahead: 46,800 sessions),
each group partnered with one of 60 host organisations, then times, through the test client
with Bearer tokens: the first and the last page of /api/v1/sessions (per_page=100) as an admin,
the last page again by cursor (``after``, as the Link header gives it),
one month filtered by date, the same list as a partner viewer (who sees 10 groups), and one
session. Medians of several runs; wall-clock time around the request, after one warm-up each.
"""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

GROUPS = 600
SESSIONS_PER_GROUP = 78
HOSTS = 60
RUNS = 9


def main() -> None:
    from common import insert_groups, machine, median_ms, sqlite_app

    from readerapp.api.schemas.sessions import session_cursor
    from readerapp.api.tokens import create_token
    from readerapp.extensions import db
    from readerapp.models import ReadingSession
    from tests.factories import Factory

    app = sqlite_app(tempfile.mkdtemp())
    with app.app_context():
        f = Factory()
        admin = f.user("admin")
        hosts = [f.organisation(name=f"Host {i}") for i in range(HOSTS)]
        partner = f.user("partner_viewer", organisation_id=hosts[0].id)
        group_ids = insert_groups(hosts, GROUPS)
        now = datetime.now(UTC)
        stamps = {"created_at": now, "updated_at": now}
        first = now.replace(minute=30, second=0, microsecond=0) - timedelta(weeks=52)
        rows = []
        for i, gid in enumerate(group_ids):
            for week in range(SESSIONS_PER_GROUP):
                start = first + timedelta(weeks=week, minutes=i)
                rows.append(
                    {
                        "group_id": gid,
                        "start_dt": start,
                        "tz_name": "Europe/London",
                        "duration_minutes": 90,
                        "status": "delivered" if start < now else "scheduled",
                    }
                    | stamps
                )
        db.session.execute(sa.insert(ReadingSession), rows)
        admin_token = create_token(admin).secret
        partner_token = create_token(partner).secret
        db.session.commit()
        some_session = db.session.scalar(sa.select(ReadingSession.id).limit(1))
        # The cursor a client holds after walking to the second-last page.
        before_last = db.session.scalar(
            sa.select(ReadingSession)
            .order_by(ReadingSession.start_dt, ReadingSession.id)
            .offset(GROUPS * SESSIONS_PER_GROUP - 101)
            .limit(1)
        )
        cursor = session_cursor(before_last)

    client = app.test_client()
    total = GROUPS * SESSIONS_PER_GROUP
    last_page = (total + 99) // 100
    month = (now - timedelta(days=40)).date()
    cases = [
        ("admin", admin_token, "/api/v1/sessions?per_page=100"),
        ("admin", admin_token, f"/api/v1/sessions?per_page=100&page={last_page}"),
        ("admin", admin_token, f"/api/v1/sessions?per_page=100&after={cursor}"),
        (
            "admin",
            admin_token,
            f"/api/v1/sessions?per_page=100&from={month}&to={month + timedelta(days=30)}",
        ),
        ("partner", partner_token, "/api/v1/sessions?per_page=100"),
        ("admin", admin_token, f"/api/v1/sessions/{some_session}"),
    ]
    print(f"readerapp API bench · {total} sessions · {machine()}")
    for role, token, url in cases:
        headers = {"Authorization": f"Bearer {token}"}

        def get(url: str = url, headers: dict[str, str] = headers):  # type: ignore[no-untyped-def]
            response = client.get(url, headers=headers)
            assert response.status_code == 200, response.get_data(as_text=True)
            return response

        median, fastest = median_ms(get, RUNS)
        meta = json.loads(get().headers.get("X-Pagination", "{}"))
        print(
            f"{role:8} {url:72} median {median:7.1f} ms"
            f"  (min {fastest:.1f}, total {meta.get('total', 1)})"
        )


if __name__ == "__main__":
    main()
