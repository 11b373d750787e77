"""Loading broadcast grids from schedules/*.toml: the example, idempotence, edits, errors, DST."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from readerapp.extensions import db
from readerapp.models import Broadcast
from readerapp.radio.schedule_file import ScheduleFileError, apply, first_air_days
from readerapp.timeutil import to_local

from .factories import Factory
from .radio_support import EXAMPLE, shared_reading_series

HEADER = """
station = "Wavelength Prison Radio"
[slots.tue]
day = "tuesday"
time = "20:00"
duration_minutes = 60
[slots.sat]
day = "saturday"
time = "21:00"
duration_minutes = 60
zone = "Europe/London"
"""

RUN = """
[[runs]]
key = "r"
programme = "Shared Reading"
episodes = [1, 2, 3]
start = {start}
slot = "tue"
every = {every}
"""


def _write(tmp_path: Path, text: str, name: str = "grid.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _broadcasts() -> list[Broadcast]:
    return list(db.session.scalars(sa.select(Broadcast).order_by(Broadcast.air_dt)))


def _problems(path: Path) -> list[str]:
    with pytest.raises(ScheduleFileError) as caught:
        apply(path)
    db.session.rollback()
    return caught.value.problems


def test_the_example_grid_loads_with_repeats_linked_and_times_kept_across_dst(
    factory: Factory,
) -> None:
    shared_reading_series(factory)
    db.session.commit()
    report = apply(EXAMPLE, now=datetime(2026, 11, 29, tzinfo=UTC))
    db.session.commit()
    assert len(report.created) == 21 and not report.moved
    broadcasts = _broadcasts()
    spring = [b for b in broadcasts if b.source_key.startswith(f"{EXAMPLE.name}#spring-2027/")]
    firsts = [b for b in spring if b.repeat_of_id is None]
    repeats = [b for b in spring if b.repeat_of_id is not None]
    assert len(firsts) == 6 and len(repeats) == 6
    for repeat in repeats:
        first = db.session.get(Broadcast, repeat.repeat_of_id)
        assert first.episode_id == repeat.episode_id
        assert to_local(repeat.air_dt, "Europe/London").strftime("%a %H:%M") == "Sat 21:00"
        assert 0 < (repeat.air_dt - first.air_dt).days < 7  # the same week
    # British Summer Time starts on 28 March 2027: 20:00 local is 20:00 UTC before, 19:00 after.
    utc_hours = [(b.air_dt.date().isoformat(), b.air_dt.hour) for b in firsts]
    assert utc_hours[:3] == [("2027-03-09", 20), ("2027-03-16", 20), ("2027-03-23", 20)]
    assert utc_hours[3:] == [("2027-03-30", 19), ("2027-04-06", 19), ("2027-04-13", 19)]
    assert all(to_local(b.air_dt, b.tz_name).hour == 20 for b in firsts)
    # Every other Sunday, and the first Tuesday of the month.
    encore = [b for b in broadcasts if "#summer-encore-2027/" in b.source_key]
    assert [(b.air_dt - encore[0].air_dt).days for b in encore] == [0, 14, 28, 42, 56, 70]
    monthly = [b for b in broadcasts if "#autumn-monthly-2027/" in b.source_key]
    assert [to_local(b.air_dt, "Europe/London").date().isoformat() for b in monthly] == [
        "2027-09-07",
        "2027-10-05",
        "2027-11-02",
    ]


def test_loading_again_changes_nothing(factory: Factory) -> None:
    shared_reading_series(factory)
    db.session.commit()
    apply(EXAMPLE)
    db.session.commit()
    before = [(b.id, b.air_dt, b.version, b.sequence) for b in _broadcasts()]
    report = apply(EXAMPLE)
    db.session.commit()
    assert report.changes == 0 and report.unchanged == 21
    assert [(b.id, b.air_dt, b.version, b.sequence) for b in _broadcasts()] == before


def test_an_edited_time_moves_broadcasts_and_a_removed_one_is_cancelled(
    factory: Factory, tmp_path: Path
) -> None:
    shared_reading_series(factory)
    db.session.commit()
    path = _write(tmp_path, HEADER + RUN.format(start="2027-01-05", every="{ weeks = 1 }"))
    apply(path)
    db.session.commit()
    first = _broadcasts()[0]
    version, updated = first.version, first.updated_at
    edited = HEADER.replace('time = "20:00"', 'time = "19:30"') + RUN.format(
        start="2027-01-05", every="{ weeks = 1 }"
    ).replace("[1, 2, 3]", "[1, 2]")
    path.write_text(edited, encoding="utf-8")
    report = apply(path)
    db.session.commit()
    assert len(report.moved) == 2 and len(report.cancelled) == 1
    db.session.refresh(first)
    assert to_local(first.air_dt, "Europe/London").strftime("%H:%M") == "19:30"
    assert first.sequence == 1 and first.version > version and first.updated_at > updated
    cancelled = [b for b in _broadcasts() if b.status == "cancelled"]
    assert len(cancelled) == 1 and "grid.toml" in cancelled[0].cancellation_reason


def test_dry_run_prints_the_changes_and_writes_nothing(
    app: Flask, factory: Factory, tmp_path: Path
) -> None:
    shared_reading_series(factory)
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["schedules", "load", str(EXAMPLE), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "21 to create" in result.output and "Dry run" in result.output
    assert "create episode 1 “Where We Begin” on Tue 9 Mar 2027 20:00–21:00" in result.output
    db.session.rollback()
    assert _broadcasts() == []
    result = runner.invoke(args=["schedules", "load", str(EXAMPLE)])
    assert result.exit_code == 0 and "21 created" in result.output
    db.session.rollback()
    assert len(_broadcasts()) == 21


WEEKLY = RUN.format(start="2027-01-05", every="{ weeks = 1 }")
ERRORS = {
    "toml": ('station = "W"\n[slots.tue\n', "grid.toml: not valid TOML"),
    "day": (
        HEADER.replace('"tuesday"', '"tewsday"') + WEEKLY,
        "grid.toml: slots.tue.day: expected a weekday name",
    ),
    "time": (
        HEADER.replace('"20:00"', '"8pm"') + WEEKLY,
        "grid.toml: slots.tue.time: expected a local time",
    ),
    "zone": (
        HEADER.replace('zone = "Europe/London"', 'zone = "Europe/Lundun"') + WEEKLY,
        "grid.toml: slots.sat.zone: unknown time zone",
    ),
    "host-zone": (
        HEADER.replace('zone = "Europe/London"', 'zone = "localtime"') + WEEKLY,
        "grid.toml: slots.sat.zone: unknown time zone 'localtime'",
    ),
    "file-zone": (
        'zone = "posixrules"\n' + HEADER + WEEKLY,
        "grid.toml: zone: unknown time zone 'posixrules'",
    ),
    "slot": (
        HEADER + WEEKLY.replace('"tue"', '"wed"'),
        "grid.toml: runs[0].slot: no slot named 'wed'",
    ),
    "episode": (
        HEADER + WEEKLY.replace("[1, 2, 3]", "[1, 9]"),
        "grid.toml: runs[0].episodes[1]: 'Shared Reading' has no episode 9",
    ),
    "nth": (
        HEADER + RUN.format(start="2027-01-05", every="{ nth_weekday = 5 }"),
        "grid.toml: runs[0].every.nth_weekday",
    ),
    "every": (
        HEADER + RUN.format(start="2027-01-05", every="{ days = 3 }"),
        "grid.toml: runs[0].every: expected",
    ),
    "start": (
        HEADER + RUN.format(start='"soon"', every="{ weeks = 1 }"),
        "grid.toml: runs[0].start: expected date",
    ),
    "station": (
        HEADER.replace("Wavelength", "Elsewhere") + WEEKLY,
        "grid.toml: station: no organisation is named",
    ),
    "unknown": ("colour = 'blue'\n" + HEADER + WEEKLY, "grid.toml: colour: unknown key"),
    "year-1": (
        HEADER + RUN.format(start="0001-01-02", every="{ weeks = 1 }"),
        "grid.toml: runs[0].start (line 17): expected a date in 2000–2100, got 0001-01-02",
    ),
    "year-9999": (
        HEADER + RUN.format(start="9999-12-28", every="{ weeks = 1 }"),
        "grid.toml: runs[0].start (line 17): expected a date in 2000–2100, got 9999-12-28",
    ),
    "year-2101": (
        HEADER + RUN.format(start="2100-12-20", every="{ weeks = 2 }"),
        "grid.toml: runs[0].episodes (line 16): the run would air after 2100",
    ),
    "second-run-start": (
        HEADER + WEEKLY + WEEKLY.replace('"r"', '"r2"').replace("2027-01-05", "1999-12-31"),
        "grid.toml: runs[1].start (line 25): expected a date in 2000–2100",
    ),
}


@pytest.mark.parametrize(("text", "expected"), ERRORS.values(), ids=ERRORS.keys())
def test_errors_name_the_file_and_the_key(
    factory: Factory, tmp_path: Path, text: str, expected: str
) -> None:
    shared_reading_series(factory)
    db.session.commit()
    problems = _problems(_write(tmp_path, text))
    assert any(p.startswith(expected) for p in problems), problems
    assert _broadcasts() == []


@pytest.mark.parametrize("start", ["0001-01-02", "9999-12-28"])
def test_the_command_refuses_a_year_out_of_range_with_a_message(
    app: Flask, factory: Factory, tmp_path: Path, start: str
) -> None:
    shared_reading_series(factory)
    db.session.commit()
    path = _write(tmp_path, HEADER + RUN.format(start=start, every="{ weeks = 1 }"))
    result = app.test_cli_runner().invoke(args=["schedules", "load", str(path), "--dry-run"])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert f"grid.toml: runs[0].start (line 17): expected a date in 2000–2100, got {start}" in (
        result.output
    )
    assert _broadcasts() == []


def test_a_toml_syntax_error_names_the_line(factory: Factory, tmp_path: Path) -> None:
    shared_reading_series(factory)
    db.session.commit()
    problems = _problems(_write(tmp_path, 'station = "W"\n\n[slots.tue\nday = "x"\n'))
    assert "line 3" in problems[0]


def test_an_overlap_within_the_file_is_refused_naming_both(
    factory: Factory, tmp_path: Path
) -> None:
    shared_reading_series(factory)
    db.session.commit()
    clash = HEADER.replace('day = "saturday"\ntime = "21:00"', 'day = "tuesday"\ntime = "20:30"')
    text = (
        clash
        + RUN.format(start="2027-01-05", every="{ weeks = 1 }")
        + '[[runs.repeats]]\nslot = "sat"\n'
    )
    problems = _problems(_write(tmp_path, text))
    assert "overlaps" in problems[0]
    assert "20:00–21:00" in problems[0] and "20:30–21:30" in problems[0]
    assert _broadcasts() == []


def test_an_overlap_with_a_broadcast_already_on_the_station_is_refused(
    factory: Factory, tmp_path: Path
) -> None:
    series = shared_reading_series(factory)
    factory.broadcast(
        series.episodes[5],
        air_dt=datetime(2027, 1, 12, 20, 30, tzinfo=UTC),
        duration_minutes=30,
    )
    db.session.commit()
    problems = _problems(
        _write(tmp_path, HEADER + RUN.format(start="2027-01-05", every="{ weeks = 1 }"))
    )
    assert len(problems) == 1
    assert "episode 2" in problems[0] and "episode 6" in problems[0] and "overlaps" in problems[0]
    assert len(_broadcasts()) == 1  # nothing of the file was written


def test_every_n_weeks_and_nth_weekday_rules() -> None:
    from datetime import date

    assert first_air_days(date(2027, 1, 1), 1, 3, {"weeks": 3}) == [
        date(2027, 1, 5),
        date(2027, 1, 26),
        date(2027, 2, 16),
    ]
    # The last Friday of each month, starting mid-month.
    assert first_air_days(date(2027, 1, 30), 4, 3, {"nth_weekday": -1}) == [
        date(2027, 2, 26),
        date(2027, 3, 26),
        date(2027, 4, 30),
    ]
    assert first_air_days(date(2027, 12, 1), 0, 2, {"nth_weekday": 2}) == [
        date(2027, 12, 13),
        date(2028, 1, 10),
    ]


def test_dst_weeks_keep_the_wall_clock_time_both_ways(factory: Factory, tmp_path: Path) -> None:
    """Weekly at 20:00 across both changes; an hour that does not exist moves forward."""
    shared_reading_series(factory)
    db.session.commit()
    autumn = HEADER + RUN.format(start="2027-10-19", every="{ weeks = 1 }")
    apply(_write(tmp_path, autumn, "autumn.toml"))
    db.session.commit()
    airs = [b.air_dt for b in _broadcasts()]
    # 19:00 UTC in summer time, 20:00 UTC after 31 October 2027.
    assert [(a.date().isoformat(), a.hour) for a in airs] == [
        ("2027-10-19", 19),
        ("2027-10-26", 19),
        ("2027-11-02", 20),
    ]
    # A slot the clocks skip (28 March 2027 01:30) or repeat (31 October 2027 01:30) in London
    # is refused, naming the broadcast and the slot's line, and nothing is written.
    early = HEADER.replace('"20:00"', '"01:30"').replace('"tuesday"', '"sunday"')
    before = len(_broadcasts())
    spring = _problems(
        _write(tmp_path, early + RUN.format(start="2027-03-21", every="{ weeks = 1 }"))
    )
    assert spring == [
        "grid.toml: runs[0].episodes (2): on Sun 28 Mar 2027 the clock change in Europe/London "
        "skips 01:30: give slot 'tue' a time outside that hour (slots.tue.time, line 5)"
    ]
    autumn = _problems(
        _write(tmp_path, early + RUN.format(start="2027-10-24", every="{ weeks = 1 }"))
    )
    assert len(autumn) == 1 and "runs[0].episodes (2): on Sun 31 Oct 2027" in autumn[0]
    assert "repeats 01:30" in autumn[0] and "line 5" in autumn[0]
    assert len(_broadcasts()) == before
