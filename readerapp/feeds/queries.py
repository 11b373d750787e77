"""Which rows a feed shows, read as tuples, and the cheap digest that says whether they changed.

Statements are built once per scope kind with bound parameters. Nothing personal is ever
selected: no participant, attendance or note column is read here. Turning the rows into
iCalendar text is ``ical.py``'s job.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import aliased

from ..access import own_address_lasts, partnered_group_ids

# aliased() below configures the mappers at import: every class a loaded model names must be
# loaded too, and ReadingSession.attendance names Attendance.
from ..attendance import models as _attendance_models  # noqa: F401
from ..extensions import db
from ..groups.models import ReadingGroup, group_coleader
from ..organisations.models import Organisation, Venue
from ..radio.models import Broadcast, Episode, Programme, episode_material
from ..sessions.models import ReadingMaterial, ReadingSession, session_material
from ..timeutil import to_local
from ..users.models import User
from .ical import FORMAT_VERSION, FeedRows, joined_text
from .models import FeedEventCache, FeedToken
from .scopes import FeedScope, rule_for


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
        return rule_for(self.kind).holds_sessions

    @property
    def shows_broadcasts(self) -> bool:
        return rule_for(self.kind).shows_broadcasts(self.is_station)

    @property
    def calendar_name(self) -> str:
        if self.kind == "station":
            return f"{self.name}: Shared Reading broadcasts"
        if self.kind == "leader":
            return f"Shared Reading: {self.name}'s sessions"
        return f"Shared Reading: {self.name}"


def scope_of(token: FeedToken) -> Scope | None:
    """The token's target, or None when it no longer exists or may not have a feed."""
    rule = rule_for(token.scope)
    target = {
        "organisation_id": token.organisation,
        "group_id": token.group,
        "user_id": token.user,
    }[rule.target_column]
    if target is None:
        return None
    if not own_address_lasts(token):
        return None
    if isinstance(target, User):
        # A leader's feed lasts while their account does.
        if not target.active:
            return None
        return Scope(token.scope, target.id, target.first_name, target.updated_at)
    if rule.refuse(target):  # e.g. a station that is no longer one
        return None
    is_station = isinstance(target, Organisation) and target.is_station
    return Scope(token.scope, target.id, target.name, target.updated_at, is_station)


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
    if scope.kind == FeedScope.ORGANISATION:
        params["today"] = window.today
    return params


def _partnered_sessions() -> sa.ColumnElement[bool]:
    # Every group the organisation partners in any role, as its partner viewers see them: while
    # the partnership lasts.
    return ReadingSession.group_id.in_(partnered_group_ids(TARGET, TODAY))


def _group_sessions() -> sa.ColumnElement[bool]:
    return ReadingSession.group_id == TARGET


def _leader_sessions() -> sa.ColumnElement[bool]:
    S = ReadingSession
    led = sa.select(ReadingGroup.id).where(ReadingGroup.lead_leader_id == TARGET)
    coled = sa.select(group_coleader.c.group_id).where(group_coleader.c.user_id == TARGET)
    return sa.or_(S.group_id.in_(led), S.group_id.in_(coled), S.leader_id == TARGET)


# Which sessions each scope that holds sessions shows.
SESSIONS_OF = {
    FeedScope.ORGANISATION: _partnered_sessions,
    FeedScope.GROUP: _group_sessions,
    FeedScope.LEADER: _leader_sessions,
}
assert set(SESSIONS_OF) == {s for s in FeedScope if rule_for(s).holds_sessions}


def _session_condition(kind: str) -> sa.ColumnElement[bool]:
    return SESSIONS_OF[FeedScope(kind)]()


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
    return hashlib.sha256(joined_text(parts).encode()).hexdigest()


# --- the rows ------------------------------------------------------------------------------


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


@lru_cache(maxsize=16)
def _row_statements(kind: str) -> dict[str, sa.Select]:
    S, B, C = ReadingSession, Broadcast, FeedEventCache
    statements: dict[str, sa.Select] = {}
    if rule_for(kind).holds_sessions:
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
                    ReadingGroup.room.label("group_room"),
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
    if rule_for(kind).holds_broadcasts is not False:
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


def feed_rows(scope: Scope, window: Window) -> FeedRows:
    """Every event row the scope shows (with its cached text) and the texts each one read."""
    statements = _row_statements(scope.kind)
    params = _params(scope, window)
    # Core execution: plain tuples, without the ORM's result machinery.
    connection = db.session.connection()
    rows = FeedRows()
    if scope.shows_sessions:
        rows.sessions = connection.execute(statements["sessions"], params).all()
        rows.session_materials = _materials_by(
            connection.execute(statements["session_materials"], params)
        )
    if scope.shows_broadcasts:
        rows.broadcasts = connection.execute(statements["broadcasts"], params).all()
        rows.broadcast_materials = _materials_by(
            connection.execute(statements["broadcast_materials"], params)
        )
    return rows
