"""Writes to the broadcast grid. Operations flush; the request, command or job commits.

Rules kept here for every caller (pages, the schedule-file loader, the scheduler):
- two broadcasts on one station never overlap (cancelled ones free their time);
- a repeat links to its first airing;
- moving bumps ``sequence`` (the feed's SEQUENCE) and, through SQLAlchemy, ``version``;
- cancelling keeps the row, with its reason, so reports show it as cancelled.
Air times are wall-clock times in the slot's zone, stored as UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from ..errors import FieldError
from ..extensions import db
from ..organisations.models import Organisation
from ..sessions.models import ReadingMaterial
from ..timeutil import LocalTimeError, is_valid_zone, local_span, local_to_utc_exact, utcnow
from .limits import (
    CANCELLATION_REASON,
    DURATION_MINUTES,
    EPISODE_NUMBER,
    EPISODE_TITLE,
    PROGRAMME_DESCRIPTION,
    PROGRAMME_TITLE,
)
from .models import Broadcast, Episode, Programme

# Longer than any real programme; it bounds the window searched for overlaps.
MAX_DURATION_MINUTES = DURATION_MINUTES.max


class RadioError(FieldError):
    """A change the rules refuse; ``field`` names the form field it concerns, if any, and
    ``conflict`` says it clashes with data that exists (pages and the API answer 409)."""

    def __init__(self, message: str, field: str | None = None, *, conflict: bool = False) -> None:
        super().__init__(message, field, conflict=conflict)
        # For a time the clocks repeat: the occurrences to choose from, as (fold, label).
        self.fold_choices: tuple[tuple[int, str], ...] = ()


class ConflictError(RadioError):
    def __init__(self, message: str, existing: Broadcast | None = None) -> None:
        super().__init__(message, field="air_time", conflict=True)
        self.existing = existing


MAX_EPISODE_MATERIALS = 10


def _text(value: str | None, limit: int, field: str, label: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise RadioError(f"The {label} must be text.", field)
    value = (value or "").strip() or None
    if value is not None and "\x00" in value:
        raise RadioError(f"The {label} contains a character that cannot be stored.", field)
    if value is not None and len(value) > limit:
        raise RadioError(f"The {label} must be at most {limit} characters.", field)
    return value


@dataclass
class ProgrammeData:
    station_id: int
    title: str
    description: str | None = None


def save_programme(programme: Programme | None, data: ProgrammeData) -> Programme:
    """Create (``programme`` None) or change a series on a radio station.

    A programme with broadcasts keeps its station: they were scheduled on that station's grid.
    """
    station = (
        db.session.get(Organisation, data.station_id)
        if isinstance(data.station_id, int) and not isinstance(data.station_id, bool)
        else None
    )
    if station is None or station.kind != "radio_station":
        raise RadioError("Choose a radio station.", "station_id")
    title = _text(data.title, PROGRAMME_TITLE, "title", "title")
    if title is None:
        raise RadioError("Give the programme a title.", "title")
    description = _text(data.description, PROGRAMME_DESCRIPTION, "description", "description")
    if programme is not None and programme.station_id != station.id:
        aired = db.session.scalar(
            sa.select(Broadcast.id)
            .join(Episode, Episode.id == Broadcast.episode_id)
            .where(Episode.programme_id == programme.id)
            .limit(1)
        )
        if aired is not None:
            raise RadioError(
                "This programme has broadcasts on its station, so it stays there.", "station_id"
            )
    clash = sa.select(Programme.id).where(
        Programme.station_id == station.id, sa.func.lower(Programme.title) == title.lower()
    )
    if programme is not None:
        clash = clash.where(Programme.id != programme.id)
    if db.session.scalar(clash) is not None:
        raise RadioError(
            f"{station.name} already has a programme called “{title}”.", "title", conflict=True
        )
    if programme is None:
        programme = Programme()
        db.session.add(programme)
    programme.station_id = station.id
    programme.title = title
    programme.description = description
    db.session.flush()
    return programme


@dataclass
class EpisodeData:
    number: int
    title: str
    duration_minutes: int
    material_ids: list[int] = field(default_factory=list)


def _whole(value: object, low: int, high: int, field_name: str, message: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise RadioError(message, field_name)
    return value


def save_episode(episode: Episode | None, programme: Programme, data: EpisodeData) -> Episode:
    """Create (``episode`` None) or change an episode of ``programme``: its number in the
    series, title, length and the texts read in it."""
    number = _whole(
        data.number,
        EPISODE_NUMBER.min,
        EPISODE_NUMBER.max,
        "number",
        f"Number it {EPISODE_NUMBER.min} to {EPISODE_NUMBER.max}.",
    )
    title = _text(data.title, EPISODE_TITLE, "title", "title")
    if title is None:
        raise RadioError("Give the episode a title.", "title")
    duration = _whole(
        data.duration_minutes,
        1,
        MAX_DURATION_MINUTES,
        "duration_minutes",
        f"Duration must be between 1 and {MAX_DURATION_MINUTES} minutes.",
    )
    ids = list(dict.fromkeys(data.material_ids))
    if len(ids) > MAX_EPISODE_MATERIALS:
        raise RadioError(f"List at most {MAX_EPISODE_MATERIALS} texts.", "material_ids")
    for raw in ids:
        _whole(raw, 1, 2**31 - 1, "material_ids", "Unknown text.")
    materials = (
        list(db.session.scalars(sa.select(ReadingMaterial).where(ReadingMaterial.id.in_(ids))))
        if ids
        else []
    )
    if len(materials) != len(ids):
        raise RadioError("Unknown text (it may have been removed).", "material_ids")
    clash = sa.select(Episode.id).where(
        Episode.programme_id == programme.id, Episode.number == number
    )
    if episode is not None:
        clash = clash.where(Episode.id != episode.id)
    if db.session.scalar(clash) is not None:
        raise RadioError(
            f"“{programme.title}” already has an episode {number}.", "number", conflict=True
        )
    if episode is None:
        episode = Episode(programme_id=programme.id)
        db.session.add(episode)
    episode.number = number
    episode.title = title
    episode.duration_minutes = duration
    episode.materials = materials
    db.session.flush()
    return episode


def describe(b: Broadcast) -> str:
    """ "Episode 2 “Title” on Tue 7 Jul 2026 20:00–20:55 Europe/London" (no personal data)."""
    episode = b.episode or db.session.get(Episode, b.episode_id)
    return describe_slot(episode, b.air_dt, b.duration_minutes, b.tz_name)


def describe_slot(episode: Episode, air_dt: datetime, minutes: int, tz_name: str) -> str:
    hours = local_span(air_dt, air_dt + timedelta(minutes=minutes), tz_name, "%a %-d %b %Y %H:%M")
    return f"episode {episode.number} “{episode.title}” on {hours} {tz_name}"


def _air_dt(day: date, at: time, tz_name: str, fold: int | None) -> datetime:
    """The air time a person chose; a time the clocks skip is refused on the time, and one
    they repeat asks which (the form offers the two, "fold")."""
    try:
        return local_to_utc_exact(day, at, tz_name, fold)
    except LocalTimeError as exc:
        error = RadioError(exc.message, "fold" if exc.choices else "air_time")
        error.fold_choices = exc.choices
        raise error from exc


def find_conflict(
    station_id: int,
    air_dt: datetime,
    duration_minutes: int,
    exclude_ids: set[int] | frozenset[int] = frozenset(),
) -> Broadcast | None:
    """The first live broadcast on the station that overlaps [air_dt, air_dt + duration)."""
    end = air_dt + timedelta(minutes=duration_minutes)
    candidates = db.session.scalars(
        sa.select(Broadcast)
        .where(
            Broadcast.station_id == station_id,
            Broadcast.status != "cancelled",
            Broadcast.air_dt < end,
            Broadcast.air_dt > air_dt - timedelta(minutes=MAX_DURATION_MINUTES),
        )
        .order_by(Broadcast.air_dt)
    ).all()
    for other in candidates:
        if other.id in exclude_ids:
            continue
        if other.air_dt < end and air_dt < other.end_dt:
            return other
    return None


def check_slot(
    station_id: int,
    episode: Episode,
    air_dt: datetime,
    duration_minutes: int,
    tz_name: str,
    *,
    exclude_ids: set[int] | frozenset[int] = frozenset(),
) -> None:
    """Refuse a slot that overlaps another broadcast, naming both."""
    other = find_conflict(station_id, air_dt, duration_minutes, exclude_ids)
    if other is not None:
        raise ConflictError(
            f"{describe_slot(episode, air_dt, duration_minutes, tz_name)} overlaps "
            f"{describe(other)} on the same station.",
            other,
        )


def _validate(tz_name: str, duration_minutes: int) -> None:
    if not is_valid_zone(tz_name):
        raise RadioError(f"Unknown time zone {tz_name!r} (e.g. Europe/London).", field="tz_name")
    if not 0 < duration_minutes <= MAX_DURATION_MINUTES:
        raise RadioError(
            f"Duration must be between 1 and {MAX_DURATION_MINUTES} minutes.",
            field="duration_minutes",
        )


def create_broadcast(
    *,
    episode: Episode,
    day: date,
    at: time,
    tz_name: str,
    duration_minutes: int | None = None,
    repeat_of: Broadcast | None = None,
    source_key: str | None = None,
    fold: int | None = None,
) -> Broadcast:
    """A broadcast of ``episode`` at a local wall-clock time on its programme's station."""
    duration = duration_minutes or episode.duration_minutes
    _validate(tz_name, duration)
    station_id = episode.programme.station_id
    if repeat_of is not None:
        if repeat_of.episode_id != episode.id or repeat_of.station_id != station_id:
            raise RadioError(
                "A repeat must be of the same episode on the same station.", "repeat_of"
            )
        # Always link to the first airing, never to another repeat.
        while repeat_of.repeat_of is not None:
            repeat_of = repeat_of.repeat_of
    air_dt = _air_dt(day, at, tz_name, fold)
    if repeat_of is not None and air_dt <= repeat_of.air_dt:
        raise RadioError("A repeat must air after the first airing.", field="air_date")
    check_slot(station_id, episode, air_dt, duration, tz_name)
    broadcast = Broadcast(
        station_id=station_id,
        episode_id=episode.id,
        air_dt=air_dt,
        tz_name=tz_name,
        duration_minutes=duration,
        status="scheduled",
        repeat_of_id=repeat_of.id if repeat_of else None,
        source_key=source_key,
    )
    broadcast.episode = episode
    db.session.add(broadcast)
    db.session.flush()
    return broadcast


def move_broadcast(
    broadcast: Broadcast,
    *,
    day: date,
    at: time,
    tz_name: str | None = None,
    duration_minutes: int | None = None,
    exclude_ids: set[int] | frozenset[int] = frozenset(),
    fold: int | None = None,
) -> bool:
    """Move a scheduled broadcast; returns False when nothing changed."""
    if broadcast.status != "scheduled":
        raise RadioError(
            f"Only a scheduled broadcast can be moved; this one is {broadcast.status}."
        )
    tz_name = tz_name or broadcast.tz_name
    duration = duration_minutes or broadcast.duration_minutes
    _validate(tz_name, duration)
    air_dt = _air_dt(day, at, tz_name, fold)
    if (air_dt, tz_name, duration) == (
        broadcast.air_dt,
        broadcast.tz_name,
        broadcast.duration_minutes,
    ):
        return False
    if broadcast.repeat_of is not None and air_dt <= broadcast.repeat_of.air_dt:
        raise RadioError("A repeat must air after its first airing.", field="air_date")
    check_slot(
        broadcast.station_id,
        broadcast.episode,
        air_dt,
        duration,
        tz_name,
        exclude_ids=set(exclude_ids) | {broadcast.id},
    )
    time_changed = air_dt != broadcast.air_dt
    broadcast.air_dt = air_dt
    broadcast.tz_name = tz_name
    broadcast.duration_minutes = duration
    broadcast.sequence += 1
    if time_changed:
        # The station is reminded again about the new time (a new dedupe key: see jobs).
        broadcast.reminder_sent_at = None
    db.session.flush()
    return True


def cancel_broadcast(broadcast: Broadcast, reason: str) -> None:
    reason = (reason or "").strip()
    if not reason:
        raise RadioError("Say why the broadcast is cancelled.", field="reason")
    if broadcast.status == "aired":
        raise RadioError("This broadcast has already aired; it cannot be cancelled.")
    if broadcast.status == "cancelled":
        raise RadioError("This broadcast is already cancelled.")
    broadcast.status = "cancelled"
    broadcast.cancellation_reason = reason[:CANCELLATION_REASON]
    broadcast.sequence += 1
    db.session.flush()


AS_RUN_STATES = ("aired", "cancelled", "unconfirmed", "scheduled")


@dataclass(frozen=True)
class AsRunRow:
    broadcast: Broadcast
    state: str  # aired | cancelled | unconfirmed (ended, not yet marked) | scheduled


def as_run(
    station_id: int, start: datetime, end: datetime, now: datetime | None = None
) -> list[AsRunRow]:
    """What aired (and what was cancelled) on a station between two instants."""
    now = now or utcnow()
    rows = db.session.scalars(
        sa.select(Broadcast)
        .where(
            Broadcast.station_id == station_id,
            Broadcast.air_dt >= start,
            Broadcast.air_dt < end,
        )
        .options(sa.orm.selectinload(Broadcast.episode).selectinload(Episode.programme))
        .order_by(Broadcast.air_dt)
    ).all()
    result = []
    for b in rows:
        if b.status == "scheduled":
            state = "unconfirmed" if b.end_dt <= now else "scheduled"
        else:
            state = b.status
        result.append(AsRunRow(b, state))
    return result


@dataclass(frozen=True)
class AsRunSummary:
    """The as-run list's figures, and the station's broadcasts either side of a quiet period."""

    aired: int
    cancelled: int
    unconfirmed: int  # ended but not yet marked aired (the scheduler marks them at their end)
    to_come: int  # in the period, still ahead
    last_aired: Broadcast | None  # before the period, when nothing aired in it
    next_up: Broadcast | None  # the next broadcast still to air, when none aired in the period


def summarise_as_run(
    station_id: int, rows: list[AsRunRow], start: datetime, now: datetime | None = None
) -> AsRunSummary:
    now = now or utcnow()
    counts = {s: sum(1 for r in rows if r.state == s) for s in AS_RUN_STATES}
    last_aired = next_up = None
    if not counts["aired"] and not counts["unconfirmed"]:
        # A quiet period says when the station last aired and when it airs next, so that
        # "nothing aired" is never the only thing a station's user reads.
        episode = sa.orm.selectinload(Broadcast.episode).selectinload(Episode.programme)
        last_aired = db.session.scalar(
            sa.select(Broadcast)
            .where(
                Broadcast.station_id == station_id,
                Broadcast.status == "aired",
                Broadcast.air_dt < start,
            )
            .options(episode)
            .order_by(Broadcast.air_dt.desc())
            .limit(1)
        )
        next_up = db.session.scalar(
            sa.select(Broadcast)
            .where(
                Broadcast.station_id == station_id,
                Broadcast.status == "scheduled",
                Broadcast.air_dt >= now,
            )
            .options(episode)
            .order_by(Broadcast.air_dt)
            .limit(1)
        )
    return AsRunSummary(
        aired=counts["aired"],
        cancelled=counts["cancelled"],
        unconfirmed=counts["unconfirmed"],
        to_come=counts["scheduled"],
        last_aired=last_aired,
        next_up=next_up,
    )
