"""What the benchmark scripts share: an app on a database of their own, the machine's
description, and timing."""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def bench_app(url: str, instance: str, *, migrate: bool = False, **config: Any):  # type: ignore[no-untyped-def]
    """The app on ``url`` (its instance folder ``instance``), migrated first if asked."""
    from readerapp import create_app

    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": url,
            "ENVIRONMENT": "testing",
            "RATELIMIT_ENABLED": False,
            **config,
        },
        instance_path=instance,
    )
    if migrate:
        from flask_migrate import upgrade

        with app.app_context():
            upgrade(revision="heads")
    return app


def sqlite_app(workdir: str, **config: Any):  # type: ignore[no-untyped-def]
    """A migrated app on a new SQLite file in ``workdir``."""
    return bench_app(f"sqlite:///{workdir}/bench.sqlite3", workdir, migrate=True, **config)


def machine() -> str:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs ({model}), Python {platform.python_version()}"


def timed_ms(call: Callable[[], Any]) -> tuple[float, Any]:
    """Milliseconds one call took, and what it returned."""
    start = time.perf_counter()
    result = call()
    return (time.perf_counter() - start) * 1000, result


def median_ms(call: Callable[[], Any], runs: int) -> tuple[float, float]:
    """Median and minimum milliseconds of ``runs`` calls, after one warm-up call."""
    call()
    samples = [timed_ms(call)[0] for _ in range(runs)]
    return statistics.median(samples), min(samples)


def insert_groups(hosts: list[Any], count: int, **per_group: Any) -> list[int]:
    """``count`` weekly Tuesday groups, one venue each, each hosted by one of ``hosts`` in turn;
    ``per_group`` values may be callables of the group's number. Returns the groups' ids."""
    from datetime import UTC, date, datetime

    import sqlalchemy as sa

    from readerapp.extensions import db
    from readerapp.models import Partnership, ReadingGroup, Venue

    now = datetime.now(UTC)
    stamps = {"created_at": now, "updated_at": now}
    db.session.execute(
        sa.insert(Venue),
        [
            {
                "name": f"Venue {i}",
                "setting_type": "library",
                "organisation_id": hosts[i % len(hosts)].id,
            }
            | stamps
            for i in range(count)
        ],
    )
    venue_ids = db.session.scalars(sa.select(Venue.id).order_by(Venue.id)).all()[-count:]
    db.session.execute(
        sa.insert(ReadingGroup),
        [
            {
                "name": f"Group {i}",
                "venue_id": venue_ids[i],
                "rrule": "FREQ=WEEKLY;BYDAY=TU",
                "start_time": datetime(2026, 1, 1, 10, 30).time(),
                "duration_minutes": 90,
                "tz_name": "Europe/London",
                "first_date": date(2025, 1, 1),
                "status": "active",
            }
            | {key: value(i) if callable(value) else value for key, value in per_group.items()}
            | stamps
            for i in range(count)
        ],
    )
    group_ids = db.session.scalars(sa.select(ReadingGroup.id).order_by(ReadingGroup.id)).all()
    group_ids = group_ids[-count:]
    db.session.execute(
        sa.insert(Partnership),
        [
            {
                "organisation_id": hosts[i % len(hosts)].id,
                "group_id": gid,
                "role": "host",
                "start_date": date(2025, 1, 1),
            }
            | stamps
            for i, gid in enumerate(group_ids)
        ],
    )
    return list(group_ids)
