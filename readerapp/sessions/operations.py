"""Writes to sessions, shared by the web app and the JSON API.

Operations validate what they are given, flush, and raise SessionError (with the field at fault)
or VersionConflict; they never commit and never touch HTTP. The caller commits once, or rolls
back on an error so nothing is half-written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time

import sqlalchemy as sa

from ..access import clearance_refusal, may_lead
from ..db import escape_like
from ..extensions import db
from ..groups.models import ReadingGroup
from ..limits import YEARS
from ..timeutil import LocalTimeError, local_to_utc_exact, to_local, utcnow
from ..users.models import User
from .errors import SessionError, VersionConflict, version_checked
from .limits import (
    CANCELLATION_REASON,
    DURATION_MINUTES,
    MATERIAL_AUTHOR,
    MATERIAL_TITLE,
)
from .models import MATERIAL_KINDS, ReadingMaterial, ReadingSession, session_material

__all__ = [
    "NewMaterial",
    "SessionError",
    "VersionConflict",
    "add_session",
    "cancel_session",
    "check_leader",
    "clean_text",
    "find_material",
    "previous_readings",
    "reschedule_session",
    "resolve_materials",
    "save_material",
    "suggest_materials",
    "touch",
]

MAX_MATERIALS = 10


@dataclass(frozen=True)
class NewMaterial:
    """A text named by title and author; an existing catalogue entry with the same title and
    author (ignoring case and surrounding spaces) is reused, otherwise one is created."""

    title: str
    author: str
    kind: str = "short_story"


def check_version(session: ReadingSession, expected_version: int | None) -> None:
    """Raise VersionConflict unless the session is still at the version the caller saw."""
    if expected_version is not None and session.version != expected_version:
        raise VersionConflict(expected_version, session.version)


def _flush(session: ReadingSession, expected_version: int | None) -> None:
    # A concurrent writer between our read and this UPDATE shows up as a stale version, which
    # @version_checked on the operation turns into VersionConflict.
    db.session.flush()


def touch(session: ReadingSession) -> None:
    """Mark a person's change: regeneration leaves it alone, and updated_at (feeds, ETags) and
    the version move even when only related rows (materials, attendance) changed."""
    session.touched = True
    session.updated_at = utcnow()


def clean_text(value: str | None, limit: int, field_name: str, label: str) -> str | None:
    """A person's text trimmed, None when empty; SessionError on ``field_name`` when it is not
    text, holds a NUL or is longer than ``limit``."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise SessionError(f"{label} must be text.", field_name)
    value = value.strip()
    if "\x00" in value:
        raise SessionError(f"{label} contains a character that cannot be stored.", field_name)
    if len(value) > limit:
        raise SessionError(f"{label} must be at most {limit} characters.", field_name)
    return value or None


def resolve_materials(
    material_ids: Sequence[int], new_materials: Sequence[NewMaterial]
) -> list[ReadingMaterial]:
    """The catalogue entries for a session: ids must exist; new entries reuse a match."""
    if len(material_ids) + len(new_materials) > MAX_MATERIALS:
        raise SessionError(f"List at most {MAX_MATERIALS} texts.", "materials")
    chosen: dict[int, ReadingMaterial] = {}
    ids = []
    for raw in material_ids:
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise SessionError("Unknown text.", "materials")
        ids.append(raw)
    if ids:
        rows = db.session.scalars(
            sa.select(ReadingMaterial).where(ReadingMaterial.id.in_(ids))
        ).all()
        chosen.update({m.id: m for m in rows})
        missing = sorted(set(ids) - chosen.keys())
        if missing:
            raise SessionError("Unknown text (it may have been removed).", "materials")
    for entry in new_materials:
        title = clean_text(entry.title, MATERIAL_TITLE, "materials", "A title")
        author = clean_text(entry.author, MATERIAL_AUTHOR, "materials", "An author")
        if not title:
            raise SessionError("Give the title of each text.", "materials")
        if not author:
            raise SessionError(f"Give the author of “{title}” (or “Anonymous”).", "materials")
        material = db.session.scalar(
            sa.select(ReadingMaterial).where(
                sa.func.lower(ReadingMaterial.title) == title.lower(),
                sa.func.lower(ReadingMaterial.author) == author.lower(),
            )
        )
        if material is None:
            if entry.kind not in MATERIAL_KINDS:
                raise SessionError("Choose what kind of text it is.", "materials")
            material = ReadingMaterial(title=title, author=author, kind=entry.kind)
            db.session.add(material)
            db.session.flush()
        chosen[material.id] = material
    return list(chosen.values())


def check_leader(
    leader_id: int | None, group: ReadingGroup | None = None, day: date | None = None
) -> None:
    """SessionError on ``leader_id`` unless it is None or an active user who may lead; with a
    ``group`` and a local ``day``, also unless they are cleared to lead there that day (a
    regulated setting needs a current check and training)."""
    if leader_id is None:
        return
    if isinstance(leader_id, bool) or not isinstance(leader_id, int):
        raise SessionError("Choose a leader from the list.", "leader_id")
    leader = db.session.get(User, leader_id)
    if leader is None or not leader.active or not may_lead(leader):
        raise SessionError("Choose a leader from the list.", "leader_id")
    if group is not None and day is not None:
        refusal = clearance_refusal(leader, group.venue.setting_type, day)
        if refusal:
            raise SessionError(refusal, "leader_id")


@version_checked
def cancel_session(
    session: ReadingSession,
    reason: str | None,
    *,
    expected_version: int | None = None,
) -> ReadingSession:
    """Cancel one occurrence, keeping its row and identity (feeds show it as cancelled)."""
    check_version(session, expected_version)
    cleaned = clean_text(reason, CANCELLATION_REASON, "reason", "The reason")
    if not cleaned:
        raise SessionError("Say why the session is cancelled.", "reason")
    if session.status == "cancelled":
        raise SessionError("This session is already cancelled.", "reason")
    if session.status == "delivered":
        raise SessionError(
            "This session was delivered: change its log instead of cancelling it.", "reason"
        )
    session.status = "cancelled"
    session.cancellation_reason = cleaned
    session.sequence += 1
    touch(session)
    _flush(session, expected_version)
    return session


def _check_slot(day: date, duration_minutes: int) -> None:
    if isinstance(duration_minutes, bool) or not isinstance(duration_minutes, int):
        raise SessionError("Enter the length in minutes.", "duration_minutes")
    if not DURATION_MINUTES.min <= duration_minutes <= DURATION_MINUTES.max:
        raise SessionError(
            f"Enter a length between {DURATION_MINUTES.min} and {DURATION_MINUTES.max} minutes.",
            "duration_minutes",
        )
    if not YEARS.min <= day.year <= YEARS.max:
        raise SessionError(f"Enter a date between {YEARS.min} and {YEARS.max}.", "date")


def _start(day: date, at: time, tz_name: str, fold: int | None) -> datetime:
    """The start a person chose; a time the clocks skip is refused on the time, and one they
    repeat asks which (the form offers the two, "fold")."""
    try:
        return local_to_utc_exact(day, at, tz_name, fold)
    except LocalTimeError as exc:
        error = SessionError(exc.message, "fold" if exc.choices else "start_time")
        error.fold_choices = exc.choices  # type: ignore[attr-defined]
        raise error from exc


def _check_free(group_id: int, start: datetime, tz_name: str, other_than: int | None) -> None:
    """A group meets once at a time: refuse a start another of its sessions has."""
    clash = sa.select(ReadingSession.id).where(
        ReadingSession.group_id == group_id, ReadingSession.start_dt == start
    )
    if other_than is not None:
        clash = clash.where(ReadingSession.id != other_than)
    if db.session.scalar(clash) is not None:
        when = to_local(start, tz_name).strftime("%a %-d %b %Y at %H:%M")
        raise SessionError(
            f"This group already has a session on {when}: cancel or move that one first.",
            "date",
            conflict=True,
        )


def add_session(
    group: ReadingGroup,
    day: date,
    at: time,
    duration_minutes: int | None = None,
    *,
    leader_id: int | None = None,
    fold: int | None = None,
) -> ReadingSession:
    """An extra, one-off meeting of ``group`` at a local date and time in the group's zone.

    It has no pattern slot, so regenerating the group's sessions leaves it alone; otherwise it
    is a session like any other (logged, moved, cancelled, in feeds). The length defaults to
    the group's and the leader to its lead leader. Refuses a future session of a closed group
    and a start another session of the group already has.
    """
    duration = group.duration_minutes if duration_minutes is None else duration_minutes
    _check_slot(day, duration)
    if leader_id is None:
        leader_id = group.lead_leader_id
    else:
        check_leader(leader_id)
    start = _start(day, at, group.tz_name, fold)
    check_leader(leader_id, group, day)
    # A closed group's past can still be recorded (a paper register found late).
    if group.status == "closed" and start > utcnow():
        raise SessionError("This group is closed: reopen it before adding sessions.", "date")
    _check_free(group.id, start, group.tz_name, None)
    session = ReadingSession(
        group_id=group.id,
        start_dt=start,
        tz_name=group.tz_name,
        duration_minutes=duration,
        leader_id=leader_id,
        status="scheduled",
    )
    try:
        # Someone may add the same start between the check and this write (on PostgreSQL;
        # SQLite's write transactions queue): the unique constraint decides, as a clash.
        with db.session.begin_nested():
            db.session.add(session)
    except sa.exc.IntegrityError:
        _check_free(group.id, start, group.tz_name, None)
        raise
    return session


@version_checked
def reschedule_session(
    session: ReadingSession,
    day: date,
    at: time,
    duration_minutes: int,
    *,
    expected_version: int | None = None,
    fold: int | None = None,
) -> ReadingSession:
    """Move one occurrence to a new local date and time (in the session's own zone).

    The row, its id and its pattern slot (``occurrence_dt``) stay, so calendar feeds update the
    same event and regeneration does not recreate the old slot. A cancelled occurrence that is
    moved is on again. Refuses a delivered session and a clash with another session of the
    same group at the same start.
    """
    check_version(session, expected_version)
    if session.status == "delivered":
        raise SessionError("This session was delivered: it cannot be moved.", "date")
    _check_slot(day, duration_minutes)
    new_start = _start(day, at, session.tz_name, fold)
    if new_start == session.start_dt and duration_minutes == session.duration_minutes:
        raise SessionError("That is when the session already is: choose a new time.", "date")
    _check_free(session.group_id, new_start, session.tz_name, session.id)
    if new_start != session.start_dt:
        session.rescheduled_from_dt = session.start_dt
        session.start_dt = new_start
    session.duration_minutes = duration_minutes
    if session.status == "cancelled":
        session.status = "scheduled"
        session.cancellation_reason = None
    session.sequence += 1
    touch(session)
    _flush(session, expected_version)
    return session


@dataclass
class MaterialData:
    title: str
    author: str
    kind: str


def save_material(material: ReadingMaterial | None, data: MaterialData) -> ReadingMaterial:
    """Add a text to the catalogue (``material`` None) or correct one.

    A title and author are one text whatever their case, so a second entry for it is refused;
    a correction shows wherever the text was read (sessions, episodes, feeds, reports).
    """
    title = clean_text(data.title, MATERIAL_TITLE, "title", "The title")
    author = clean_text(data.author, MATERIAL_AUTHOR, "author", "The author")
    if not title:
        raise SessionError("Give the title.", "title")
    if not author:
        raise SessionError("Give the author (or “Anonymous”).", "author")
    if data.kind not in MATERIAL_KINDS:
        raise SessionError("Choose what kind of text it is.", "kind")
    clash = sa.select(ReadingMaterial.id).where(
        sa.func.lower(ReadingMaterial.title) == title.lower(),
        sa.func.lower(ReadingMaterial.author) == author.lower(),
    )
    if material is not None:
        clash = clash.where(ReadingMaterial.id != material.id)
    if db.session.scalar(clash) is not None:
        raise SessionError(
            f"“{title}” by {author} is already in the catalogue.", "title", conflict=True
        )
    if material is None:
        material = ReadingMaterial()
        db.session.add(material)
    material.title = title
    material.author = author
    material.kind = data.kind
    db.session.flush()
    return material


def previous_readings(
    group_id: int,
    material_ids: Sequence[int],
    *,
    exclude_session_id: int | None = None,
) -> dict[int, list[datetime]]:
    """When this group has already read each material: material id -> delivered start times
    (UTC, oldest first), other than ``exclude_session_id``."""
    if not material_ids:
        return {}
    query = (
        sa.select(session_material.c.material_id, ReadingSession.start_dt)
        .join(ReadingSession, ReadingSession.id == session_material.c.session_id)
        .where(
            ReadingSession.group_id == group_id,
            ReadingSession.status == "delivered",
            session_material.c.material_id.in_(list(material_ids)),
        )
        .order_by(ReadingSession.start_dt)
    )
    if exclude_session_id is not None:
        query = query.where(ReadingSession.id != exclude_session_id)
    found: dict[int, list[datetime]] = {}
    for material_id, start in db.session.execute(query):
        found.setdefault(material_id, []).append(start)
    return found


def find_material(title: str, author: str) -> ReadingMaterial | None:
    """The catalogue entry with this title and author, ignoring case and spaces."""
    title, author = (title or "").strip(), (author or "").strip()
    if not title or not author or "\x00" in title + author:
        return None
    return db.session.scalar(
        sa.select(ReadingMaterial).where(
            sa.func.lower(ReadingMaterial.title) == title.lower(),
            sa.func.lower(ReadingMaterial.author) == author.lower(),
        )
    )


def suggest_materials(prefix: str | None = None, limit: int = 200) -> list[ReadingMaterial]:
    """Catalogue suggestions: titles or authors starting with ``prefix`` (all when empty),
    ordered by title."""
    query = sa.select(ReadingMaterial).order_by(ReadingMaterial.title, ReadingMaterial.author)
    prefix = (prefix or "").strip().lower().replace("\x00", "")[:MATERIAL_TITLE]
    if prefix:
        pattern = escape_like(prefix) + "%"
        query = query.where(
            sa.or_(
                sa.func.lower(ReadingMaterial.title).like(pattern, escape="\\"),
                sa.func.lower(ReadingMaterial.author).like(pattern, escape="\\"),
            )
        )
    return list(db.session.scalars(query.limit(limit)))
