"""Benchmark: a partner feed of 2,000 events — first build, cold build, 304 revalidation.

Run: ``.venv/bin/python bench/feeds.py`` (SQLite in a temporary directory; also PostgreSQL when
DATABASE_URL is set, in a temporary database beside it that is dropped afterwards).

- first build: the first request ever, every event built with icalendar and cached;
- cold: an unconditional request in a fresh process (new app, empty pools and statement
  caches), with the event cache filled by an earlier request — each run is its own process;
- warm: the same request again in a process that has already served it;
- one change: an unconditional request after one session was rescheduled (one event rebuilt);
- 304: a revalidation with If-None-Match, and with If-Modified-Since.
Medians of several runs; wall-clock time around the test client's request.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from datetime import time as clock
from pathlib import Path

import sqlalchemy as sa
from common import ROOT, bench_app, machine

EVENTS = 2000
RUNS = 7


def make_app(url: str, instance: str):  # type: ignore[no-untyped-def]
    return bench_app(url, instance)


def seed(url: str, instance: str) -> str:
    """A partner with 52 weekly groups over the feed window, trimmed to exactly 2,000 events."""
    from flask_migrate import upgrade

    from readerapp.extensions import db
    from readerapp.feeds.operations import create_token
    from readerapp.groups.operations import generate_sessions
    from readerapp.models import (
        Organisation,
        Partnership,
        ReadingGroup,
        ReadingMaterial,
        ReadingSession,
        User,
        Venue,
    )
    from readerapp.timeutil import utcnow

    app = make_app(url, instance)
    with app.app_context():
        upgrade(revision="heads")
        now = utcnow()
        partner = Organisation(name="Bench Trust", kind="nhs_trust", share_location_detail=True)
        other = Organisation(name="Other Trust", kind="nhs_trust")
        db.session.add_all([partner, other])
        db.session.flush()
        materials = [
            ReadingMaterial(title=f"Story {i}", author=f"Author {i}", kind="short_story")
            for i in range(20)
        ]
        db.session.add_all(materials)
        days = ["MO", "TU", "WE", "TH", "FR"]
        start_day = (now - timedelta(days=91)).date()
        for i in range(56):
            org = partner if i < 52 else other
            venue = Venue(
                name=f"Venue {i}", setting_type="library", unit=f"Room {i}", organisation=org
            )
            leader = User(
                email=f"leader{i}@bench.example",
                display_name=f"Leader{i} Surname",
                role="reader_leader",
                password_hash="!",  # noqa: S106  (cannot sign in)
            )
            db.session.add_all([venue, leader])
            db.session.flush()
            group = ReadingGroup(
                name=f"Group {i}",
                venue_id=venue.id,
                lead_leader_id=leader.id,
                rrule=f"FREQ=WEEKLY;BYDAY={days[i % 5]}",
                start_time=clock(9 + i % 6, 30),
                duration_minutes=90,
                tz_name="Europe/London",
                first_date=date(2026, 1, 5),
            )
            db.session.add(group)
            db.session.flush()
            db.session.add(
                Partnership(
                    organisation_id=org.id, group_id=group.id, role="host", start_date=start_day
                )
            )
            generate_sessions(group, now=now, since=start_day)
        db.session.flush()
        partner_sessions = (
            sa.select(ReadingSession.id)
            .join(ReadingGroup)
            .join(Partnership, Partnership.group_id == ReadingGroup.id)
            .where(Partnership.organisation_id == partner.id)
        )
        # Keep exactly EVENTS sessions, all well inside the feed's window (92 days back to the
        # 183-day horizon); delete the partner's others.
        keep = db.session.scalars(
            partner_sessions.where(
                ReadingSession.start_dt > now - timedelta(days=91),
                ReadingSession.start_dt < now + timedelta(days=182),
            )
            .order_by(ReadingSession.start_dt.desc())
            .limit(EVENTS)
        ).all()
        db.session.execute(
            sa.delete(ReadingSession).where(
                ReadingSession.id.in_(partner_sessions), ReadingSession.id.not_in(keep)
            )
        )
        sessions = db.session.scalars(
            sa.select(ReadingSession).where(ReadingSession.id.in_(keep))
        ).all()
        for n, s in enumerate(sessions):
            if s.start_dt < now:
                s.status = "delivered"
                s.materials = [materials[n % 20], materials[(n + 7) % 20]]
            elif n % 17 == 0:
                s.status = "cancelled"
                s.cancellation_reason = "Ward closed for an inspection"
                s.sequence += 1
        _, raw = create_token("organisation", partner)
        db.session.commit()
        # Planner statistics, as a live database has them (autovacuum on PostgreSQL; without
        # them a fresh database plans the 2,000-row joins as nested loops over "1 row").
        with db.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
        db.engine.dispose()
    return raw


def timed_get(client, path: str, headers: dict[str, str] | None = None) -> tuple[float, object]:
    start = time.perf_counter()
    response = client.get(path, headers=headers or {})
    return (time.perf_counter() - start) * 1000, response


def child(url: str, instance: str, raw: str) -> None:
    """One fresh process: its first (cold) request, then warm ones, then 304s."""
    app = make_app(url, instance)
    client = app.test_client()
    path = f"/feeds/{raw}.ics"
    cold, response = timed_get(client, path)
    assert response.status_code == 200, response.status_code
    events = response.data.count(b"BEGIN:VEVENT")
    etag, last_modified = response.headers["ETag"], response.headers["Last-Modified"]
    warm = [timed_get(client, path)[0] for _ in range(RUNS)]
    inm = []
    ims = []
    for _ in range(RUNS * 3):
        ms, r = timed_get(client, path, {"If-None-Match": etag})
        assert r.status_code == 304, (r.status_code, r.data[:300])
        inm.append(ms)
        ms, r = timed_get(client, path, {"If-Modified-Since": last_modified})
        assert r.status_code == 304, (r.status_code, last_modified, r.headers.get("Last-Modified"))
        ims.append(ms)
    with app.app_context():
        from readerapp.extensions import db

        db.engine.dispose()
    print(
        json.dumps(
            {
                "cold": cold,
                "warm": statistics.median(warm),
                "inm": statistics.median(inm),
                "ims": statistics.median(ims),
                "events": events,
                "bytes": len(response.data),
            }
        )
    )


def run_child(url: str, instance: str, raw: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", url, instance, raw],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if out.returncode != 0:
        raise RuntimeError(f"the measuring process failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def first_and_change(url: str, instance: str, raw: str) -> tuple[float, float]:
    """The first build ever (empty cache), and a rebuild after one session moved."""
    from readerapp.extensions import db
    from readerapp.models import ReadingSession

    app = make_app(url, instance)
    client = app.test_client()
    first, response = timed_get(client, f"/feeds/{raw}.ics")
    assert response.status_code == 200
    changes = []
    for _ in range(RUNS):
        with app.app_context():
            session = db.session.scalar(
                sa.select(ReadingSession)
                .where(ReadingSession.status == "scheduled")
                .order_by(ReadingSession.start_dt.desc())
                .limit(1)
            )
            session.start_dt += timedelta(minutes=15)
            session.sequence += 1
            db.session.commit()
        ms, response = timed_get(client, f"/feeds/{raw}.ics")
        assert response.status_code == 200
        changes.append(ms)
    with app.app_context():
        db.engine.dispose()
    return first, statistics.median(changes)


def bench(label: str, url: str) -> None:
    with tempfile.TemporaryDirectory() as instance:
        raw = seed(url, instance)
        first, change = first_and_change(url, instance, raw)
        children = [run_child(url, instance, raw) for _ in range(RUNS)]
    print(f"\n{label}: partner feed, {children[0]['events']} events, {children[0]['bytes']} bytes")

    def median(key: str) -> float:
        return statistics.median(c[key] for c in children)

    print(f"  first build (empty event cache)      {first:8.1f} ms")
    print(f"  cold (fresh process, cache filled)   {median('cold'):8.1f} ms  ({RUNS} processes)")
    print(f"  warm (same process, repeated)        {median('warm'):8.1f} ms")
    print(f"  after one session moved              {change:8.1f} ms")
    print(f"  304, If-None-Match                   {median('inm'):8.2f} ms")
    print(f"  304, If-Modified-Since               {median('ims'):8.2f} ms")


def main() -> None:
    print(f"Machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        bench("SQLite", f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
    database_url = os.environ.get("DATABASE_URL", "")
    if database_url.startswith("postgres"):
        from readerapp.config import database_uri

        base = sa.make_url(database_uri(database_url, Path(".")))
        name = f"readerapp_bench_{uuid.uuid4().hex[:10]}"
        admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            bench("PostgreSQL", base.set(database=name).render_as_string(hide_password=False))
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.dispose()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(*sys.argv[2:5])
    else:
        main()
