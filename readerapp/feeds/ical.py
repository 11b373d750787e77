"""Feeds as bytes: which rows a scope shows, each event's VEVENT text, and the calendar around them.

Building an icalendar ``Event`` costs about a third of a millisecond, so each event's serialised
text is kept in ``feed_event_cache`` under a fingerprint of every value it shows and rebuilt only
when one of them changes; a feed is then one query and a join of cached strings. Everything here
reads rows as tuples (no ORM objects) and is a pure function of the rows, the settings and ``now``:
unchanged data gives byte-identical output, so ETags stay stable.

Nothing personal is ever selected: no participant, attendance or note column is read here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import sqlalchemy as sa
from flask import current_app
from icalendar import Calendar, Event, Timezone
from sqlalchemy.orm import aliased

# Every model class loaded: aliased() below configures the mappers at import.
from .. import models as _all_models  # noqa: F401
from ..access import partnered_group_ids
from ..extensions import db
from ..groups.models import ReadingGroup, group_coleader
from ..organisations.models import Organisation, Venue
from ..radio.models import Broadcast, Episode, Programme, episode_material
from ..sessions.models import ReadingMaterial, ReadingSession, session_material
from ..timeutil import to_local
from ..users.models import User
from .models import FeedEventCache, FeedToken

# Part of every fingerprint and feed state: changing how events are written (here, or by an
# icalendar upgrade) rebuilds them all, and no client keeps a 304 for bytes that changed.
FORMAT_VERSION = f"1/{icalendar.__version__}"
PRODID = "-//readerapp//Shared Reading feeds//EN"
# UIDs must never change, so they do not depend on the host a feed happens to be served from.
UID_DOMAIN = "readerapp"
CONTENT_TYPE = "text/calendar; charset=utf-8"


@dataclass(frozen=True)
class Window:
    """Which starts a feed shows, all computed from one ``now``."""

    lower: datetime  # FEED_WINDOW_BACK_DAYS back
    upper: datetime  # the scheduling horizon ahead
    cancelled_since: datetime  # cancelled items leave FEED_CANCELLED_KEEP_DAYS after their start
    today: date  # the service's local date: a partnership that ended before it shows nothing

    @property
    def years(self) -> tuple[int, int]:
        return self.lower.year, self.upper.year + 1


def feed_window(now: datetime) -> Window:
    config = current_app.config
    return Window(
        lower=now - timedelta(days=config["FEED_WINDOW_BACK_DAYS"]),
        upper=now + timedelta(days=config["SCHEDULE_HORIZON_DAYS"]),
        cancelled_since=now - timedelta(days=config["FEED_CANCELLED_KEEP_DAYS"]),
        today=to_local(now).date(),
    )


# --- what a scope shows ---------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """A token's target, read once per request: the filters and the calendar's name."""

    kind: str
    target_id: int
    name: str
    target_updated_at: datetime
    is_station: bool = False

    @property
    def shows_sessions(self) -> bool:
        return self.kind in {"organisation", "group", "leader"}

    @property
    def shows_broadcasts(self) -> bool:
        return self.kind == "station" or (self.kind == "organisation" and self.is_station)

    @property
    def calendar_name(self) -> str:
        if self.kind == "station":
            return f"{self.name}: Shared Reading broadcasts"
        if self.kind == "leader":
            return f"Shared Reading: {self.name}'s sessions"
        return f"Shared Reading: {self.name}"


def scope_of(token: FeedToken) -> Scope | None:
    """The token's target, or None when it no longer exists or may not have a feed."""
    if token.scope in {"organisation", "station"}:
        org = token.organisation
        if org is None or (token.scope == "station" and not org.is_station):
            return None
        return Scope(token.scope, org.id, org.name, org.updated_at, org.is_station)
    if token.scope == "group":
        group = token.group
        return None if group is None else Scope("group", group.id, group.name, group.updated_at)
    user = token.user
    if user is None or not user.active:
        return None
    return Scope("leader", user.id, user.first_name, user.updated_at)


# Statements are built once per scope kind with bound parameters, so each request only binds
# values and SQLAlchemy reuses the compiled SQL: building them anew costs more than running them.
TARGET = sa.bindparam("target_id")
LOWER = sa.bindparam("lower")
UPPER = sa.bindparam("upper")
CANCELLED_SINCE = sa.bindparam("cancelled_since")
TODAY = sa.bindparam("today")


def _params(scope: Scope, window: Window) -> dict[str, Any]:
    params = {
        "target_id": scope.target_id,
        "lower": window.lower,
        "upper": window.upper,
        "cancelled_since": window.cancelled_since,
    }
    if scope.kind == "organisation":
        params["today"] = window.today
    return params


def _session_condition(kind: str) -> sa.ColumnElement[bool]:
    S = ReadingSession
    if kind == "organisation":
        # Every group the organisation partners in any role, as its partner viewers see them:
        # while the partnership lasts.
        return S.group_id.in_(partnered_group_ids(TARGET, TODAY))
    if kind == "group":
        return S.group_id == TARGET
    led = sa.select(ReadingGroup.id).where(ReadingGroup.lead_leader_id == TARGET)
    coled = sa.select(group_coleader.c.group_id).where(group_coleader.c.user_id == TARGET)
    return sa.or_(S.group_id.in_(led), S.group_id.in_(coled), S.leader_id == TARGET)


def _in_window(start: Any, status: Any) -> sa.ColumnElement[bool]:
    return sa.and_(
        start >= LOWER,
        start <= UPPER,
        sa.or_(status != "cancelled", start >= CANCELLED_SINCE),
    )


def _session_where(kind: str) -> list[sa.ColumnElement[bool]]:
    S = ReadingSession
    return [_session_condition(kind), _in_window(S.start_dt, S.status)]


def _broadcast_where() -> list[sa.ColumnElement[bool]]:
    B = Broadcast
    return [B.station_id == TARGET, _in_window(B.air_dt, B.status)]


Leader = aliased(User, name="session_leader")
Station = aliased(Organisation, name="station")


def _session_joins(query: sa.Select) -> sa.Select:
    S = ReadingSession
    return (
        query.join(ReadingGroup, ReadingGroup.id == S.group_id)
        .join(Venue, Venue.id == ReadingGroup.venue_id)
        .join(Organisation, Organisation.id == Venue.organisation_id)
        .outerjoin(Leader, Leader.id == sa.func.coalesce(S.leader_id, ReadingGroup.lead_leader_id))
    )


def _broadcast_joins(query: sa.Select) -> sa.Select:
    B = Broadcast
    return (
        query.join(Episode, Episode.id == B.episode_id)
        .join(Programme, Programme.id == Episode.programme_id)
        .join(Station, Station.id == B.station_id)
    )


# --- the feed's state: cheap aggregates that change whenever the bytes could ------------------


def _text(values: Sequence[Any]) -> str:
    # str() of every value (datetimes print in full, to the microsecond): map() keeps this in C,
    # and it runs for every event of every feed build.
    return "\x1f".join(map(str, values))


@lru_cache(maxsize=16)
def _state_statement(kind: str, sessions: bool, broadcasts: bool) -> sa.Select:
    """All the aggregates in one statement (one round trip): each in its own subquery."""
    parts = [statement.subquery() for statement in _state_statements(kind, sessions, broadcasts)]
    joined: sa.FromClause = parts[0]
    for part in parts[1:]:
        joined = sa.join(joined, part, sa.true())
    return sa.select(*(column for part in parts for column in part.c)).select_from(joined)


def _state_statements(kind: str, sessions: bool, broadcasts: bool) -> list[sa.Select]:
    f = sa.func
    S, B = ReadingSession, Broadcast
    statements: list[sa.Select] = []
    if sessions:
        # Sessions are summed per (group, substitute leader) first, so the joins that pick up
        # edits to groups, venues, organisations and leaders run over a few dozen rows rather
        # than once per event.
        per_group = (
            sa.select(
                S.group_id,
                S.leader_id,
                f.count(S.id).label("events"),
                f.sum(S.id).label("id_sum"),
                f.max(S.updated_at).label("changed"),
            )
            .where(*_session_where(kind))
            .group_by(S.group_id, S.leader_id)
            .subquery("per_group")
        )
        statements.append(
            sa.select(
                f.sum(per_group.c.events),
                f.sum(per_group.c.id_sum),
                f.max(per_group.c.changed),
                f.max(ReadingGroup.updated_at),
                f.max(Venue.updated_at),
                f.max(Organisation.updated_at),
                f.max(Leader.updated_at),
            )
            .select_from(per_group)
            .join(ReadingGroup, ReadingGroup.id == per_group.c.group_id)
            .join(Venue, Venue.id == ReadingGroup.venue_id)
            .join(Organisation, Organisation.id == Venue.organisation_id)
            .outerjoin(
                Leader,
                Leader.id == f.coalesce(per_group.c.leader_id, ReadingGroup.lead_leader_id),
            )
        )
    if broadcasts:
        statements.append(
            _broadcast_joins(
                sa.select(
                    f.count(B.id),
                    f.sum(B.id),
                    f.max(B.updated_at),
                    f.max(Episode.updated_at),
                    f.max(Programme.updated_at),
                    f.max(Station.updated_at),
                )
            ).where(*_broadcast_where())
        )
    # Which materials a session or episode uses is watched through its updated_at (moved on
    # every change of the set, see touch_on_change); an edit to any material's title or author
    # moves this, so every feed revalidates once after one.
    statements.append(sa.select(f.max(ReadingMaterial.updated_at)))
    return statements


def feed_state(scope: Scope, window: Window) -> str:
    """A digest that changes whenever anything the feed shows may have changed.

    Counts and id sums catch rows entering, leaving (deleted, or out of the window) and moving;
    the newest ``updated_at`` of every table an event reads catches edits. It costs a couple of
    aggregate queries, far less than building the feed, so revalidations answer quickly.
    """
    config = current_app.config
    parts: list[Any] = [
        FORMAT_VERSION,
        scope.kind,
        scope.target_id,
        scope.name,
        scope.target_updated_at,
        scope.is_station,
        *window.years,
        config["FEED_WINDOW_BACK_DAYS"],
        config["SCHEDULE_HORIZON_DAYS"],
        config["FEED_CANCELLED_KEEP_DAYS"],
    ]
    statement = _state_statement(scope.kind, scope.shows_sessions, scope.shows_broadcasts)
    parts.extend(db.session.execute(statement, _params(scope, window)).one())
    return hashlib.sha256(_text(parts).encode()).hexdigest()


# --- events ---------------------------------------------------------------------------------


def _fingerprint(values: Sequence[Any]) -> str:
    return hashlib.blake2b(
        (FORMAT_VERSION + "|" + _text(values)).encode(), digest_size=16
    ).hexdigest()


def _stamp(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(microsecond=0)


def _first_name(display_name: str | None) -> str:
    words = (display_name or "").split()
    return words[0] if words else ""


def _event(
    *,
    uid: str,
    updated_at: datetime,
    start: datetime,
    minutes: int,
    tz_name: str,
    summary: str,
    location: str,
    description: str,
    cancelled: bool,
    sequence: int,
) -> str:
    tz = ZoneInfo(tz_name)
    event = Event()
    # UID and DTSTAMP always given: icalendar would otherwise invent a random UID and "now".
    event.add("uid", uid)
    event.add("dtstamp", _stamp(updated_at))
    event.add("last-modified", _stamp(updated_at))
    event.add("dtstart", start.astimezone(tz))
    event.add("dtend", (start + timedelta(minutes=minutes)).astimezone(tz))
    event.add("summary", f"Cancelled: {summary}" if cancelled else summary)
    if location:
        event.add("location", location)
    event.add("description", description)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("sequence", sequence)
    event.add("transp", "TRANSPARENT" if cancelled else "OPAQUE")
    return event.to_ical().decode()


def session_event(row: Any, materials: Sequence[str]) -> str:
    cancelled = row.status == "cancelled"
    location = row.venue_name
    if row.share_location_detail and row.venue_unit:
        location = f"{row.venue_unit}, {row.venue_name}"
    lines = [f"Group: {row.group_name}"]
    leader = _first_name(row.leader_name)
    if leader:
        lines.append(f"Reader leader: {leader}")
    if materials:
        lines.append("Read: " + "; ".join(materials))
    if cancelled:
        lines.insert(0, f"Cancelled: {row.cancellation_reason or 'no reason given'}")
    return _event(
        uid=f"session-{row.id}@{UID_DOMAIN}",
        updated_at=as_utc_datetime(row.updated_at),
        start=as_utc_datetime(row.start_dt),
        minutes=row.duration_minutes,
        tz_name=row.tz_name,
        summary=f"Shared Reading: {row.group_name}",
        location=location,
        description="\n".join(lines),
        cancelled=cancelled,
        sequence=row.sequence,
    )


def broadcast_event(row: Any, materials: Sequence[str]) -> str:
    cancelled = row.status == "cancelled"
    lines = [f"{row.programme_title}, episode {row.episode_number}: {row.episode_title}"]
    if materials:
        lines.append("Read: " + "; ".join(materials))
    if cancelled:
        lines.insert(0, f"Cancelled: {row.cancellation_reason or 'no reason given'}")
    return _event(
        uid=f"broadcast-{row.id}@{UID_DOMAIN}",
        updated_at=as_utc_datetime(row.updated_at),
        start=as_utc_datetime(row.air_dt),
        minutes=row.duration_minutes,
        tz_name=row.tz_name,
        summary=f"{row.programme_title}: {row.episode_title}",
        location=row.station_name,
        description="\n".join(lines),
        cancelled=cancelled,
        sequence=row.sequence,
    )


# --- the calendar ---------------------------------------------------------------------------


@dataclass
class BuiltFeed:
    body: bytes
    etag: str  # quoted, strong
    newest: datetime | None  # the newest updated_at among the events
    # (kind, row_id, fingerprint, body) for events whose cached text was missing or stale
    misses: list[tuple[str, int, str, str]] = field(default_factory=list)


@lru_cache(maxsize=64)
def vtimezone(tz_name: str, first_year: int, last_year: int) -> str:
    """The zone's rules over the years the feed covers (Outlook shifts by an hour without it)."""
    component = Timezone.from_tzid(
        tz_name, first_date=date(first_year, 1, 1), last_date=date(last_year, 12, 31)
    )
    return component.to_ical().decode()


@lru_cache(maxsize=256)
def calendar_head(name: str) -> str:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("name", name)
    cal.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    # Written as text: icalendar would render a timedelta here as "1:00:00".
    cal.add("x-published-ttl", "PT1H")
    text = cal.to_ical().decode()
    return text.removesuffix("END:VCALENDAR\r\n")


def _materials_by(rows: Iterable[Any]) -> dict[int, list[str]]:
    result: dict[int, list[str]] = {}
    for owner_id, title, author in rows:
        result.setdefault(owner_id, []).append(f"{title} ({author})")
    return result


def _raw(column: Any) -> Any:
    """A datetime column as the driver returns it, skipping per-value conversion.

    SQLite gives its stored text (naive UTC, fixed width, so it sorts as time does);
    PostgreSQL gives an aware datetime. Only the events that are rebuilt need real datetimes.
    """
    return sa.type_coerce(column, sa.String).label(column.key)


def as_utc_datetime(value: datetime | str) -> datetime:
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


@lru_cache(maxsize=16)
def _row_statements(kind: str) -> dict[str, sa.Select]:
    S, B, C = ReadingSession, Broadcast, FeedEventCache
    statements: dict[str, sa.Select] = {}
    if kind != "station":
        where = _session_where(kind)
        statements["sessions"] = (
            _session_joins(
                sa.select(
                    S.id,
                    _raw(S.start_dt),
                    S.tz_name,
                    S.duration_minutes,
                    S.status,
                    S.cancellation_reason,
                    S.sequence,
                    _raw(S.updated_at),
                    ReadingGroup.name.label("group_name"),
                    Venue.name.label("venue_name"),
                    Venue.unit.label("venue_unit"),
                    Organisation.share_location_detail,
                    Leader.display_name.label("leader_name"),
                    C.fingerprint,
                    C.body,
                )
            )
            .outerjoin(C, sa.and_(C.kind == "session", C.row_id == S.id))
            .where(*where)
        )
        statements["session_materials"] = (
            sa.select(session_material.c.session_id, ReadingMaterial.title, ReadingMaterial.author)
            .select_from(session_material)
            .join(ReadingMaterial, ReadingMaterial.id == session_material.c.material_id)
            .join(S, S.id == session_material.c.session_id)
            .where(S.status == "delivered", *where)
            .order_by(session_material.c.session_id, ReadingMaterial.title, ReadingMaterial.author)
        )
    if kind in {"organisation", "station"}:
        where = _broadcast_where()
        statements["broadcasts"] = (
            _broadcast_joins(
                sa.select(
                    B.id,
                    _raw(B.air_dt),
                    B.tz_name,
                    B.duration_minutes,
                    B.status,
                    B.cancellation_reason,
                    B.sequence,
                    _raw(B.updated_at),
                    B.episode_id,
                    Episode.number.label("episode_number"),
                    Episode.title.label("episode_title"),
                    Programme.title.label("programme_title"),
                    Station.name.label("station_name"),
                    C.fingerprint,
                    C.body,
                )
            )
            .outerjoin(C, sa.and_(C.kind == "broadcast", C.row_id == B.id))
            .where(*where)
        )
        statements["broadcast_materials"] = (
            sa.select(episode_material.c.episode_id, ReadingMaterial.title, ReadingMaterial.author)
            .select_from(episode_material)
            .join(ReadingMaterial, ReadingMaterial.id == episode_material.c.material_id)
            .where(episode_material.c.episode_id.in_(sa.select(B.episode_id).where(*where)))
            .order_by(episode_material.c.episode_id, ReadingMaterial.title, ReadingMaterial.author)
        )
    return statements


def build_feed(scope: Scope, window: Window) -> BuiltFeed:
    """The feed's bytes, reusing cached event texts; misses are reported for the caller to store."""
    statements = _row_statements(scope.kind)
    params = _params(scope, window)
    items: list[tuple[datetime, int, str]] = []  # (start, tie-break, text)
    misses: list[tuple[str, int, str, str]] = []
    zones: set[str] = set()
    newest: Any = None  # raw, as the driver returns it (see _raw)

    # Core execution: plain tuples, without the ORM's result machinery.
    connection = db.session.connection()
    if scope.shows_sessions:
        rows = connection.execute(statements["sessions"], params).all()
        materials = _materials_by(connection.execute(statements["session_materials"], params))
        for row in rows:
            values = row[:13]
            session_id, start, status, updated = row[0], row[1], row[4], row[7]
            # Materials are shown once the session is delivered, never before.
            shown = materials.get(session_id, ()) if status == "delivered" else ()
            fp = _fingerprint((*values, *shown))
            text = row[14]
            if row[13] != fp or text is None:
                text = session_event(row, shown)
                misses.append(("session", session_id, fp, text))
            items.append((start, session_id * 2, text))
            zones.add(row[2])
            if newest is None or updated > newest:
                newest = updated

    if scope.shows_broadcasts:
        rows = connection.execute(statements["broadcasts"], params).all()
        materials = _materials_by(connection.execute(statements["broadcast_materials"], params))
        for row in rows:
            values = row[:13]
            broadcast_id, start, updated = row[0], row[1], row[7]
            # A broadcast plays a finished recording: what it reads is known in advance.
            shown = materials.get(row[8], ())
            fp = _fingerprint((*values, *shown))
            text = row[14]
            if row[13] != fp or text is None:
                text = broadcast_event(row, shown)
                misses.append(("broadcast", broadcast_id, fp, text))
            items.append((start, broadcast_id * 2 + 1, text))
            zones.add(row[2])
            if newest is None or updated > newest:
                newest = updated

    items.sort(key=lambda item: (item[0], item[1]))
    first_year, last_year = window.years
    parts = [calendar_head(scope.calendar_name)]
    parts.extend(vtimezone(name, first_year, last_year) for name in sorted(zones))
    parts.extend(text for _, _, text in items)
    parts.append("END:VCALENDAR\r\n")
    body = "".join(parts).encode()
    etag = '"' + hashlib.sha256(body).hexdigest() + '"'
    return BuiltFeed(
        body=body,
        etag=etag,
        newest=None if newest is None else as_utc_datetime(newest),
        misses=misses,
    )
