"""Broadcast grids in ``schedules/*.toml``: one human-edited file per station.

A file names its station, its weekly slots and one or more runs of a programme::

    station = "Wavelength Prison Radio"

    [slots.tuesday-evening]
    day = "tuesday"          # monday … sunday
    time = "20:00"           # local wall-clock time in `zone`
    duration_minutes = 55
    zone = "Europe/London"

    [[runs]]
    key = "autumn-2026"      # stable: it names the broadcasts this run created
    programme = "Shared Reading"
    episodes = [1, 2, 3, 4, 5, 6]
    start = 2026-10-06       # first episode airs in the first slot on or after this date
    slot = "tuesday-evening"
    every = { weeks = 1 }    # or { weeks = 2 }, or { nth_weekday = 2 } (2nd slot day of the
                             # month; 1–4, or -1 for the last)

    [[runs.repeats]]         # each episode again …
    slot = "saturday-late"   # … in this slot, the first such day after its first airing

Dates are in 2000–2100, as everywhere else in the service. A slot time the clocks skip or
repeat on an airing's day (01:30 on the last Sunday of March or October in London) is refused,
naming the broadcast and the slot's line: a file cannot say which of two 01:30s it means.

Loading is idempotent: each broadcast remembers its ``source_key`` ("FILE#RUN/EPISODE" and
"FILE#RUN/EPISODE/repeat/SLOT"), so a second load changes nothing, an edited time moves the
broadcast (bumping its sequence) and a broadcast removed from the file is cancelled, not deleted.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from ..extensions import db
from ..limits import YEARS
from ..organisations.models import Organisation
from ..timeutil import (
    LocalTimeError,
    NonexistentTimeError,
    is_valid_zone,
    local_to_utc_exact,
    to_local,
    utcnow,
)
from ..tomlfile import TomlFileError, TomlReader, read_toml
from .models import Broadcast, Episode, Programme
from .operations import (
    MAX_DURATION_MINUTES,
    RadioError,
    cancel_broadcast,
    create_broadcast,
    describe,
    describe_slot,
    find_conflict,
    move_broadcast,
)

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# The years the rest of the service accepts (sessions, groups, the API).
FIRST_DAY, LAST_DAY = date(YEARS.min, 1, 1), date(YEARS.max, 12, 31)


class ScheduleFileError(TomlFileError):
    """Every problem found in a schedule file, each naming the file and the key (or line)."""


@dataclass(frozen=True)
class Slot:
    name: str
    weekday: int
    at: time
    duration_minutes: int
    zone: str


@dataclass(frozen=True)
class Planned:
    """One broadcast the file asks for."""

    source_key: str
    where: str  # the key path in the file, for messages
    episode: Episode
    day: date
    slot: Slot
    repeat_of_key: str | None
    air_dt: datetime

    def describe(self) -> str:
        return describe_slot(self.episode, self.air_dt, self.slot.duration_minutes, self.slot.zone)


@dataclass
class LoadReport:
    created: list[str] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    unchanged: int = 0
    kept: list[str] = field(default_factory=list)  # cancelled or aired rows left alone

    @property
    def changes(self) -> int:
        return len(self.created) + len(self.moved) + len(self.cancelled)

    def lines(self, dry_run: bool = False) -> list[str]:
        out = [f"create {line}" for line in self.created]
        out += [f"move   {line}" for line in self.moved]
        out += [f"cancel {line}" for line in self.cancelled]
        out += [f"keep   {line}" for line in self.kept]
        verbs = (
            ("to create", "to move", "to cancel") if dry_run else ("created", "moved", "cancelled")
        )
        out.append(
            f"{len(self.created)} {verbs[0]}, {len(self.moved)} {verbs[1]}, "
            f"{len(self.cancelled)} {verbs[2]}, {self.unchanged} unchanged."
        )
        return out


def _parse_time(value: str) -> time | None:
    try:
        parsed = time.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is None else None


def _first_on_or_after(day: date, weekday: int) -> date:
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def _nth_weekday(year: int, month: int, weekday: int, nth: int) -> date:
    first = _first_on_or_after(date(year, month, 1), weekday)
    if nth > 0:
        return first + timedelta(weeks=nth - 1)
    next_month = date(year + month // 12, month % 12 + 1, 1)
    return _first_on_or_after(next_month, weekday) - timedelta(weeks=1)


def first_air_days(start: date, weekday: int, count: int, every: dict[str, int]) -> list[date]:
    """The local dates of a run's first airings: every N weeks, or the nth weekday monthly."""
    if "weeks" in every:
        first = _first_on_or_after(start, weekday)
        return [first + timedelta(weeks=every["weeks"] * i) for i in range(count)]
    nth = every["nth_weekday"]
    days: list[date] = []
    year, month = start.year, start.month
    while len(days) < count:
        candidate = _nth_weekday(year, month, weekday, nth)
        if candidate >= start:
            days.append(candidate)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return days


def parse(path: Path) -> tuple[Organisation, list[Planned]]:
    """Read and validate a schedule file against the database; raises ScheduleFileError.

    Every problem in the file is collected (with its key and line) before any is reported, so
    one run of ``--dry-run`` lists them all.
    """
    reader, data = _read(path)
    reader.unknown(data, {"station", "zone", "slots", "runs"}, "")
    station, default_zone = _station(reader, data)
    slots = _slots(reader, data, default_zone)
    planned: list[Planned] = []
    run_keys: set[str] = set()
    for index, run in enumerate(reader.get(data, "runs", "", list) or []):
        planned.extend(_run(reader, data, station, slots, run_keys, index, run))
    if reader.problems:
        raise ScheduleFileError(reader.problems)
    if station is None:
        raise ScheduleFileError([f"{reader.name}: station: missing"])
    for item in planned:
        if item.episode.programme.station_id != station.id:  # pragma: no cover (checked above)
            raise ScheduleFileError(
                [f"{reader.name}: {item.where}: episode is not on {station.name}"]
            )
    _check_internal_overlaps(reader.name, planned)
    return station, planned


def _read(path: Path) -> tuple[TomlReader, dict[str, Any]]:
    try:
        return read_toml(path)
    except TomlFileError as exc:
        raise ScheduleFileError(exc.problems) from None


def _station(reader: TomlReader, data: dict[str, Any]) -> tuple[Organisation | None, str]:
    """The station the file is for, and the zone its slots use unless they name their own."""
    station_name = reader.get(data, "station", "", str)
    default_zone = reader.get(data, "zone", "", str, required=False) or "Europe/London"
    if not is_valid_zone(default_zone):
        reader.problem("zone", f"unknown time zone {default_zone!r}")
    station = None
    if station_name:
        station = db.session.scalar(sa.select(Organisation).filter_by(name=station_name))
        if station is None:
            reader.problem("station", f"no organisation is named {station_name!r}")
        elif not station.is_station:
            reader.problem("station", f"{station_name!r} is not a radio station")
    return station, default_zone


def _slots(reader: TomlReader, data: dict[str, Any], default_zone: str) -> dict[str, Slot]:
    """The named weekly slots ([slots.NAME]) that are valid; problems for the others."""
    slots: dict[str, Slot] = {}
    for slot_name, table in (reader.get(data, "slots", "", dict) or {}).items():
        where = f"slots.{slot_name}."
        if not isinstance(table, dict):
            reader.problem(f"slots.{slot_name}", "expected a table")
            continue
        reader.unknown(table, {"day", "time", "duration_minutes", "zone"}, where)
        day = reader.get(table, "day", where, str)
        at = reader.get(table, "time", where, str)
        minutes = reader.get(table, "duration_minutes", where, int)
        zone = reader.get(table, "zone", where, str, required=False) or default_zone
        weekday = DAYS.index(day.lower()) if day and day.lower() in DAYS else None
        if day and weekday is None:
            reader.problem(f"{where}day", f"expected a weekday name (monday … sunday), got {day!r}")
        parsed_at = _parse_time(at) if at else None
        if at and parsed_at is None:
            reader.problem(f"{where}time", f'expected a local time like "20:00", got {at!r}')
        if minutes is not None and not 0 < minutes <= MAX_DURATION_MINUTES:
            reader.problem(f"{where}duration_minutes", f"must be 1–{MAX_DURATION_MINUTES}")
            minutes = None
        if not is_valid_zone(zone):
            reader.problem(f"{where}zone", f"unknown time zone {zone!r}")
            continue
        if weekday is not None and parsed_at is not None and minutes:
            slots[slot_name] = Slot(slot_name, weekday, parsed_at, minutes, zone)
    return slots


RUN_KEYS = {"key", "programme", "episodes", "start", "slot", "every", "repeats"}


def _run(
    reader: TomlReader,
    data: dict[str, Any],
    station: Organisation | None,
    slots: dict[str, Slot],
    run_keys: set[str],
    index: int,
    run: Any,
) -> list[Planned]:
    """One [[runs]] table: its episodes aired week by week in a slot, with their repeats."""
    where = f"runs[{index}]."
    if not isinstance(run, dict):
        reader.problem(f"runs[{index}]", "expected a table")
        return []
    reader.unknown(run, RUN_KEYS, where)
    key = reader.get(run, "key", where, str)
    if key in run_keys:
        reader.problem(f"{where}key", f"{key!r} is used by another run")
    if key:
        run_keys.add(key)
    start = _run_start(reader, run, where, index)
    slot_name = reader.get(run, "slot", where, str)
    slot = slots.get(slot_name) if slot_name else None
    if slot_name and slot is None and slot_name not in (data.get("slots") or {}):
        reader.problem(f"{where}slot", f"no slot named {slot_name!r} in [slots]")
    every = _every(reader, run, where)
    episodes = _episodes(reader, run, where, station)
    repeat_slots = _repeat_slots(reader, data, slots, run, where)
    if reader.problems or not (key and slot and start and every and episodes):
        return []
    return _plan_run(reader, index, key, start, slot, every, episodes, repeat_slots)


def _run_start(reader: TomlReader, run: dict[str, Any], where: str, index: int) -> date | None:
    start = reader.get(run, "start", where, date)
    if isinstance(start, datetime):
        reader.problem(f"{where}start", "expected a date (2026-10-06), not a date-time")
        return None
    if start is not None and not FIRST_DAY <= start <= LAST_DAY:
        reader.problem(
            f"{where}start",
            f"expected a date in {FIRST_DAY.year}–{LAST_DAY.year}, got {start.isoformat()}",
            reader.line_of("runs", index, "start"),
        )
        return None
    return start


def _every(reader: TomlReader, run: dict[str, Any], where: str) -> dict[str, int] | None:
    """How often the run airs: every N weeks, or on the Nth weekday of each month."""
    every = reader.get(run, "every", where, dict, required=False) or {"weeks": 1}
    if set(every) == {"weeks"}:
        weeks = every["weeks"]
        if isinstance(weeks, bool) or not isinstance(weeks, int) or not 1 <= weeks <= 52:
            reader.problem(f"{where}every.weeks", "expected a whole number of weeks, 1–52")
            return None
        return every
    if set(every) == {"nth_weekday"}:
        nth = every["nth_weekday"]
        if isinstance(nth, bool) or nth not in (1, 2, 3, 4, -1):
            reader.problem(f"{where}every.nth_weekday", "expected 1, 2, 3, 4 or -1 (the last)")
            return None
        return every
    reader.problem(f"{where}every", "expected { weeks = N } or { nth_weekday = N }")
    return None


def _episodes(
    reader: TomlReader, run: dict[str, Any], where: str, station: Organisation | None
) -> list[Episode]:
    """The run's programme on the station, and its episodes in the order listed."""
    programme_title = reader.get(run, "programme", where, str)
    numbers = reader.get(run, "episodes", where, list) or []
    programme = None
    if station is not None and programme_title:
        programme = db.session.scalar(
            sa.select(Programme).filter_by(station_id=station.id, title=programme_title)
        )
        if programme is None:
            reader.problem(
                f"{where}programme", f"{station.name!r} has no programme {programme_title!r}"
            )
    episodes: list[Episode] = []
    for position, number in enumerate(numbers):
        if isinstance(number, bool) or not isinstance(number, int):
            reader.problem(
                f"{where}episodes[{position}]", f"expected an episode number, got {number!r}"
            )
            continue
        if programme is None:
            continue
        episode = next((e for e in programme.episodes if e.number == number), None)
        if episode is None:
            reader.problem(
                f"{where}episodes[{position}]", f"{programme_title!r} has no episode {number}"
            )
        else:
            episodes.append(episode)
    if len(set(numbers)) != len(numbers):
        reader.problem(f"{where}episodes", "an episode is listed twice")
    return episodes


def _repeat_slots(
    reader: TomlReader,
    data: dict[str, Any],
    slots: dict[str, Slot],
    run: dict[str, Any],
    where: str,
) -> list[Slot]:
    repeat_slots: list[Slot] = []
    for r_index, repeat in enumerate(reader.get(run, "repeats", where, list, required=False) or []):
        r_where = f"{where}repeats[{r_index}]."
        if not isinstance(repeat, dict):
            reader.problem(f"{where}repeats[{r_index}]", "expected a table")
            continue
        reader.unknown(repeat, {"slot"}, r_where)
        r_name = reader.get(repeat, "slot", r_where, str)
        if r_name and r_name in slots:
            repeat_slots.append(slots[r_name])
        elif r_name and r_name not in (data.get("slots") or {}):
            reader.problem(f"{r_where}slot", f"no slot named {r_name!r} in [slots]")
    return repeat_slots


def _plan_run(
    reader: TomlReader,
    index: int,
    key: str,
    start: date,
    slot: Slot,
    every: dict[str, int],
    episodes: list[Episode],
    repeat_slots: list[Slot],
) -> list[Planned]:
    """Each episode's first airing, in turn from ``start``, and its repeats within the week."""
    where = f"runs[{index}]."
    try:
        days = first_air_days(start, slot.weekday, len(episodes), every)
    except (OverflowError, ValueError):
        days = [date.max]
    # A repeat airs within a week of its first airing.
    if days[-1] + timedelta(days=7 if repeat_slots else 0) > LAST_DAY:
        reader.problem(
            f"{where}episodes",
            f"the run would air after {LAST_DAY.year}: start it earlier or list fewer episodes",
            reader.line_of("runs", index, "episodes"),
        )
        return []
    planned: list[Planned] = []
    for episode, day in zip(episodes, days, strict=True):
        first_key = f"{reader.name}#{key}/{episode.number}"
        first = _plan(
            reader, first_key, f"{where}episodes ({episode.number})", episode, day, slot, None
        )
        if first is None:
            continue
        planned.append(first)
        for repeat_slot in repeat_slots:
            gap = (repeat_slot.weekday - day.weekday()) % 7 or 7
            repeat = _plan(
                reader,
                f"{first_key}/repeat/{repeat_slot.name}",
                f"{where}repeats ({repeat_slot.name}, episode {episode.number})",
                episode,
                day + timedelta(days=gap),
                repeat_slot,
                first_key,
            )
            if repeat is not None:
                planned.append(repeat)
    return planned


def _plan(
    reader: TomlReader,
    source_key: str,
    where: str,
    episode: Episode,
    day: date,
    slot: Slot,
    repeat_of_key: str | None,
) -> Planned | None:
    """One broadcast, or None with a problem when the clocks skip or repeat its slot's time
    that day: a file cannot say which of two 01:30s it means, and a skipped one is refused
    rather than moved."""
    try:
        air_dt = local_to_utc_exact(day, slot.at, slot.zone)
    except LocalTimeError as exc:
        change = "skips" if isinstance(exc, NonexistentTimeError) else "repeats"
        line = reader.line_of(f"slots.{slot.name}", None, "time")
        reader.problem(
            where,
            f"on {day:%a %-d %b %Y} the clock change in {slot.zone} {change} "
            f"{slot.at:%H:%M}: give slot {slot.name!r} a time outside that hour "
            f"(slots.{slot.name}.time{f', line {line}' if line else ''})",
        )
        return None
    return Planned(source_key, where, episode, day, slot, repeat_of_key, air_dt)


def _check_internal_overlaps(name: str, planned: list[Planned]) -> None:
    problems = []
    ordered = sorted(planned, key=lambda p: p.air_dt)
    for a, b in itertools.pairwise(ordered):
        if b.air_dt < a.air_dt + timedelta(minutes=a.slot.duration_minutes):
            problems.append(
                f"{name}: {b.where}: {b.describe()} overlaps {a.describe()} ({a.where})"
            )
    if problems:
        raise ScheduleFileError(problems)


def apply(path: Path, now: datetime | None = None) -> LoadReport:
    """Bring the database in line with the file. Flushes; the caller commits or rolls back."""
    now = now or utcnow()
    name = path.name
    station, planned = parse(path)
    report = LoadReport()
    owned = {
        b.source_key: b
        for b in db.session.scalars(
            sa.select(Broadcast).where(
                Broadcast.station_id == station.id, Broadcast.source_key.like(f"{name}#%")
            )
        )
    }
    owned_ids = {b.id for b in owned.values()}
    problems = []
    # Check everything against the rest of the station first, so no partial load is possible.
    for item in planned:
        existing = owned.get(item.source_key)
        if existing is not None and existing.status != "scheduled":
            continue
        other = find_conflict(station.id, item.air_dt, item.slot.duration_minutes, owned_ids)
        if other is not None:
            problems.append(
                f"{name}: {item.where}: "
                f"{item.describe()} overlaps {describe(other)} already on the station"
            )
    if problems:
        raise ScheduleFileError(problems)

    wanted = {item.source_key for item in planned}
    for key, broadcast in sorted(owned.items()):
        if key in wanted or broadcast.status != "scheduled":
            continue
        if broadcast.air_dt <= now:
            report.kept.append(f"{describe(broadcast)} (no longer in the file, already past)")
            continue
        report.cancelled.append(describe(broadcast))
        cancel_broadcast(broadcast, f"Removed from the schedule file {name}")

    by_key: dict[str, Broadcast] = {}
    for item in planned:
        existing = owned.get(item.source_key)
        repeat_of = by_key.get(item.repeat_of_key) if item.repeat_of_key else None
        try:
            if existing is None:
                by_key[item.source_key] = create_broadcast(
                    episode=item.episode,
                    day=item.day,
                    at=item.slot.at,
                    tz_name=item.slot.zone,
                    duration_minutes=item.slot.duration_minutes,
                    repeat_of=repeat_of,
                    source_key=item.source_key,
                )
                report.created.append(describe(by_key[item.source_key]))
                continue
            by_key[item.source_key] = existing
            if existing.status != "scheduled":
                report.kept.append(f"{describe(existing)} ({existing.status})")
                continue
            before = describe(existing)
            if existing.episode_id != item.episode.id:
                raise RadioError("the run now lists a different episode here; use a new run key")
            if move_broadcast(
                existing,
                day=item.day,
                at=item.slot.at,
                tz_name=item.slot.zone,
                duration_minutes=item.slot.duration_minutes,
                exclude_ids=owned_ids,
            ):
                report.moved.append(
                    f"{before} → {to_local(existing.air_dt, existing.tz_name):%a %-d %b %Y %H:%M}"
                )
            else:
                report.unchanged += 1
            if repeat_of is not None and existing.repeat_of_id != repeat_of.id:
                existing.repeat_of_id = repeat_of.id
        except RadioError as exc:
            raise ScheduleFileError([f"{name}: {item.where}: {exc}"]) from None
    db.session.flush()
    return report
