# Table and column names are constants of this module; every value is bound or copied.
# ruff: noqa: S608
"""Synthetic data for benchmarks: 600 weekly groups per year of history, bulk-inserted.

Scale 1 is one year (about 31,000 sessions and 250,000 participant attendances); scale N is N
years. Rows go in through the driver directly (``executemany`` on SQLite, ``COPY`` on
PostgreSQL), never as ORM objects, in batches of groups so memory stays modest.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from ..extensions import db
from ..timeutil import local_to_utc, utcnow

GROUPS = 600
HOSTS = 80
FUNDERS = 6
LEADERS = 320
MATERIALS = 400
AUTHORS = 120
POOL = 22  # participant codes per group per year
GROUPS_PER_BATCH = 40
TZ = "Europe/London"
SETTINGS_BY_KIND = {
    "nhs_trust": ("mental_health_inpatient", "acute_hospital", "secure_hospital"),
    "prison": ("prison",),
    "library": ("library",),
    "care_provider": ("care_home",),
    "local_authority": ("community_centre", "school"),
    "charity": ("community_centre", "online"),
}
REASONS = (
    "Ward closed (infection control)",
    "Leader unwell",
    "Prison lockdown",
    "Venue unavailable",
    "Bank holiday",
)
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR")


@dataclass
class Generated:
    groups: int = 0
    sessions: int = 0
    attendances: int = 0
    participant_attendances: int = 0
    broadcasts: int = 0


class Writer:
    """Bulk inserts through the raw driver connection of the current transaction."""

    def __init__(self) -> None:
        self.conn = db.session.connection()
        self.sqlite = self.conn.dialect.name == "sqlite"
        self.raw = self.conn.connection.driver_connection

    def dt(self, value: datetime) -> Any:
        if self.sqlite:
            return value.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
        return value

    def day(self, value: date) -> Any:
        return value.isoformat() if self.sqlite else value

    def clock(self, value: time) -> Any:
        return value.strftime("%H:%M:%S.%f") if self.sqlite else value

    def insert(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        names = ", ".join(f'"{c}"' for c in columns)
        if self.sqlite:
            marks = ", ".join("?" for _ in columns)
            self.raw.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', rows)
            return
        with (
            self.raw.cursor() as cursor,
            cursor.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy,
        ):
            for row in rows:
                copy.write_row(row)

    def fix_sequences(self, tables: Iterable[str]) -> None:
        if self.sqlite:
            return
        with self.raw.cursor() as cursor:
            for table in tables:
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                    f'COALESCE((SELECT max(id) FROM "{table}"), 1))'
                )


def generate(
    scale: int, seed: int = 20261129, today: date | None = None, groups: int = GROUPS
) -> Generated:
    """Fill an empty database with ``scale`` years of synthetic history ending around today.

    ``groups`` is 600 for benchmarks; tests pass fewer.
    """
    if db.session.execute(sa.text("SELECT count(*) FROM reading_session")).scalar_one():
        raise ValueError("the database already has sessions: generate into an empty one")
    rng = random.Random(seed)
    w = Writer()
    now = utcnow()
    stamp = w.dt(now)
    today = today or now.date()
    first_day = today - timedelta(days=365 * scale)
    out = Generated()

    # Organisations: hosts of every kind, funders, and two radio stations.
    kinds = list(SETTINGS_BY_KIND)
    orgs: list[tuple[Any, ...]] = []
    host_kind: dict[int, str] = {}
    for i in range(1, HOSTS + 1):
        kind = kinds[i % len(kinds)]
        host_kind[i] = kind
        orgs.append((i, f"Bench Host {i:03d}", kind, False, None, stamp, stamp))
    funders = list(range(HOSTS + 1, HOSTS + FUNDERS + 1))
    for i in funders:
        orgs.append((i, f"Bench Funder {i:03d}", "funder", False, None, stamp, stamp))
    stations = [HOSTS + FUNDERS + 1, HOSTS + FUNDERS + 2]
    for n, i in enumerate(stations):
        orgs.append((i, f"Bench Radio {n + 1}", "radio_station", False, 100 + 20 * n, stamp, stamp))
    w.insert(
        "organisation",
        (
            "id",
            "name",
            "kind",
            "share_location_detail",
            "prisons_reached",
            "created_at",
            "updated_at",
        ),
        orgs,
    )

    venues = []
    venue_org: dict[int, int] = {}
    for v in range(1, 2 * HOSTS + 1):
        org = (v - 1) % HOSTS + 1
        setting = rng.choice(SETTINGS_BY_KIND[host_kind[org]])
        venue_org[v] = org
        venues.append((v, f"Bench Venue {v:03d}", setting, f"Unit {v}", org, stamp, stamp))
    w.insert(
        "venue",
        ("id", "name", "setting_type", "unit", "organisation_id", "created_at", "updated_at"),
        venues,
    )

    password = generate_password_hash("bench-password-not-for-use")
    users = [
        (i, f"leader{i:03d}@bench.example", f"Bench Leader {i:03d}", password, "reader_leader")
        for i in range(1, LEADERS + 1)
    ]
    users.append((LEADERS + 1, "manager@bench.example", "Bench Manager", password, "manager"))
    w.insert(
        "user_account",
        (
            "id",
            "email",
            "display_name",
            "password_hash",
            "role",
            "active",
            "session_generation",
            "created_at",
            "updated_at",
        ),
        [(*u, True, 1, stamp, stamp) for u in users],
    )

    materials = [
        (
            i,
            f"Bench Story {i:03d}",
            f"Bench Author {rng.randrange(AUTHORS):03d}",
            rng.choice(("short_story", "poem")),
            stamp,
            stamp,
        )
        for i in range(1, MATERIALS + 1)
    ]
    w.insert(
        "reading_material",
        ("id", "title", "author", "kind", "created_at", "updated_at"),
        materials,
    )

    session_id = 0
    participant_id = 0
    partnership_id = 0
    group_count = groups
    for batch_start in range(1, group_count + 1, GROUPS_PER_BATCH):
        groups, partnerships, sessions = [], [], []
        attendance, registers, session_materials, participants = [], [], [], []
        for gid in range(batch_start, min(batch_start + GROUPS_PER_BATCH, group_count + 1)):
            venue = rng.randrange(1, 2 * HOSTS + 1)
            org = venue_org[venue]
            leader = rng.randrange(1, LEADERS + 1)
            weekday = gid % len(WEEKDAYS)
            start = time(rng.choice((9, 10, 13, 14, 18)), rng.choice((0, 30)))
            groups.append(
                (
                    gid,
                    f"Bench Group {gid:03d}",
                    venue,
                    leader,
                    f"FREQ=WEEKLY;BYDAY={WEEKDAYS[weekday]}",
                    w.clock(start),
                    90,
                    TZ,
                    w.day(first_day),
                    "active",
                    stamp,
                    stamp,
                )
            )
            partnership_id += 1
            partnerships.append((partnership_id, org, gid, "host", w.day(first_day)))
            if gid % 3 == 0:
                partnership_id += 1
                funder = funders[gid % len(funders)]
                partnerships.append((partnership_id, funder, gid, "funder", w.day(first_day)))
            # The first meeting on the group's weekday, then weekly to two weeks ahead.
            day = first_day + timedelta(days=(weekday - first_day.weekday()) % 7)
            pool: list[int] = []
            pool_year = None
            seen: set[int] = set()
            mean = rng.uniform(5, 11)
            while day < today + timedelta(days=14):
                session_id += 1
                start_dt = local_to_utc(day, start, TZ)
                status, reason = "scheduled", None
                if day < today:
                    roll = rng.random()
                    if roll < 0.05:
                        status, reason = "cancelled", rng.choice(REASONS)
                    elif roll < 0.07:
                        status = "scheduled"
                    else:
                        status = "delivered"
                sessions.append(
                    (
                        session_id,
                        gid,
                        w.dt(start_dt),
                        TZ,
                        90,
                        status,
                        reason,
                        w.dt(start_dt),
                        leader,
                        1,
                        0,
                        False,
                        stamp,
                        stamp,
                    )
                )
                if status == "delivered":
                    if pool_year != day.year:
                        # A fresh pool of people each year: wards and wings turn over.
                        pool_year = day.year
                        pool = []
                        for k in range(POOL):
                            participant_id += 1
                            pool.append(participant_id)
                            participants.append(
                                (
                                    participant_id,
                                    org,
                                    f"G{gid:03d}-{day.year}-{k:02d}",
                                    stamp,
                                    stamp,
                                )
                            )
                    n = max(1, min(POOL, round(rng.gauss(mean, 2))))
                    present = rng.sample(pool, n)
                    first = 0
                    for pid in present:
                        new = pid not in seen
                        seen.add(pid)
                        first += new
                        registers.append((session_id, pid, new))
                    attendance.append(
                        (session_id, session_id, n, first, rng.randrange(3), rng.randrange(2))
                    )
                    for m in rng.sample(range(1, MATERIALS + 1), rng.choice((1, 2))):
                        session_materials.append((session_id, m))
                day += timedelta(days=7)
        out.groups += len(groups)
        out.sessions += len(sessions)
        out.attendances += len(attendance)
        out.participant_attendances += len(registers)
        w.insert(
            "reading_group",
            (
                "id",
                "name",
                "venue_id",
                "lead_leader_id",
                "rrule",
                "start_time",
                "duration_minutes",
                "tz_name",
                "first_date",
                "status",
                "created_at",
                "updated_at",
            ),
            groups,
        )
        w.insert(
            "partnership",
            ("id", "organisation_id", "group_id", "role", "start_date", "created_at", "updated_at"),
            [(*p, stamp, stamp) for p in partnerships],
        )
        w.insert(
            "reading_session",
            (
                "id",
                "group_id",
                "start_dt",
                "tz_name",
                "duration_minutes",
                "status",
                "cancellation_reason",
                "occurrence_dt",
                "leader_id",
                "version",
                "sequence",
                "touched",
                "created_at",
                "updated_at",
            ),
            sessions,
        )
        w.insert(
            "participant",
            ("id", "organisation_id", "code", "created_at", "updated_at"),
            participants,
        )
        w.insert(
            "attendance",
            (
                "id",
                "session_id",
                "participants",
                "first_time",
                "staff_carers",
                "volunteers",
                "created_at",
                "updated_at",
            ),
            [(*a, stamp, stamp) for a in attendance],
        )
        w.insert(
            "participant_attendance", ("session_id", "participant_id", "first_time"), registers
        )
        w.insert("session_material", ("session_id", "material_id"), session_materials)

    out.broadcasts = _radio(w, rng, stations, first_day, today, stamp)
    w.fix_sequences(
        (
            "organisation",
            "venue",
            "user_account",
            "reading_material",
            "reading_group",
            "partnership",
            "reading_session",
            "participant",
            "attendance",
            "programme",
            "episode",
            "broadcast",
        )
    )
    # Fresh statistics, as autovacuum or a routine ANALYZE would leave them: without them the
    # planners guess from empty tables and pick nested loops over millions of rows.
    w.raw.execute("ANALYZE")
    return out


def _radio(
    w: Writer, rng: random.Random, stations: list[int], first: date, today: date, stamp: Any
) -> int:
    """A six-episode series per station, aired weekly with a repeat, across the whole history."""
    programmes, episodes, broadcasts = [], [], []
    broadcast_id = 0
    for n, station in enumerate(stations, start=1):
        programmes.append((n, station, "Shared Reading", stamp, stamp))
        for e in range(1, 7):
            episodes.append((6 * (n - 1) + e, n, e, f"Episode {e}", 55, stamp, stamp))
        day = first
        week = 0
        while day < today:
            for hour in (19, 21):  # first airing and the same-week repeat
                broadcast_id += 1
                air = local_to_utc(day, time(hour, n), TZ)
                aired = rng.random() > 0.02
                broadcasts.append(
                    (
                        broadcast_id,
                        station,
                        6 * (n - 1) + week % 6 + 1,
                        w.dt(air),
                        TZ,
                        55,
                        "aired" if aired else "cancelled",
                        None if aired else "Schedule change",
                        1,
                        0,
                        stamp,
                        stamp,
                    )
                )
            day += timedelta(days=7)
            week += 1
    w.insert("programme", ("id", "station_id", "title", "created_at", "updated_at"), programmes)
    w.insert(
        "episode",
        ("id", "programme_id", "number", "title", "duration_minutes", "created_at", "updated_at"),
        episodes,
    )
    w.insert(
        "broadcast",
        (
            "id",
            "station_id",
            "episode_id",
            "air_dt",
            "tz_name",
            "duration_minutes",
            "status",
            "cancellation_reason",
            "version",
            "sequence",
            "created_at",
            "updated_at",
        ),
        broadcasts,
    )
    return len(broadcasts)
