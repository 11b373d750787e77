"""Declarative base, column types and mixins shared by every domain's models."""

from __future__ import annotations

import contextvars
import sqlite3
import threading
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.pool import Pool

from .timeutil import utcnow

# Named constraints from the first migration on: SQLite batch migrations cannot drop unnamed ones.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(sa.types.TypeDecorator):
    """Stores aware datetimes as UTC and returns them aware in UTC on every database.

    SQLite has no zone-aware type, so the value is stored as naive UTC there; PostgreSQL keeps a
    timestamptz. A naive value is refused rather than guessed.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None:
            raise ValueError("naive datetime: store aware datetimes only")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False
    )


def touch_on_change(collection: Any) -> None:
    """Move the owner's ``updated_at`` whenever ``collection`` (a many-to-many) gains or loses
    a member: only the association table changes, and feeds and ETags watch ``updated_at``."""

    def touch(target: Any, value: Any, initiator: Any) -> None:
        target.updated_at = utcnow()

    event.listen(collection, "append", touch)
    event.listen(collection, "remove", touch)


def escape_like(text: str) -> str:
    """``text`` to be matched literally inside a LIKE pattern whose escape character is ``\\``."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def contains_text(text: str, *columns: Any) -> sa.ColumnElement[bool]:
    """Any of ``columns`` contains ``text``, ignoring case, with %, _ and \\ taken literally."""
    pattern = f"%{escape_like(text)}%"
    return sa.or_(*(column.ilike(pattern, escape="\\") for column in columns))


def enum_check(column: str, values: tuple[str, ...], name: str) -> sa.CheckConstraint:
    """A CHECK constraint listing a column's allowed values (portable, unlike native enums)."""
    allowed = ", ".join(f"'{v}'" for v in values)
    return sa.CheckConstraint(f"{column} IN ({allowed})", name=name)


def enum_column(values: tuple[str, ...], **kwargs: Any) -> Any:
    length = max(len(v) for v in values)
    return mapped_column(sa.String(length), nullable=kwargs.pop("nullable", False), **kwargs)


# --- SQLite: concurrency settings on every connection -------------------------------------------

# Read-only requests begin deferred transactions so they never hold the write lock; everything
# else begins IMMEDIATE, so concurrent writers queue on the busy timeout instead of failing with
# "database is locked" when two deferred transactions both try to upgrade to writing.
sqlite_read_only: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "sqlite_read_only", default=False
)


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection: Any, connection_record: Any) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # Take over transaction control so the "begin" hook below decides how each one starts.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    # The busy timeout is sqlite3's ``timeout`` (the SQLITE_BUSY_TIMEOUT setting, connect_args).
    # WAL persists in the file; asking again needs a lock that a busy database may not grant.
    if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
        cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    # The same bound for the threads of this process queueing for the writer lock (below).
    busy_ms = cursor.execute("PRAGMA busy_timeout").fetchone()[0]
    connection_record.info[_BUSY_TIMEOUT_S] = busy_ms / 1000 if busy_ms else 5.0
    cursor.close()


# SQLite's busy handler waits for the write lock by sleeping, up to 100 ms at a time: with many
# writers the lock often sits free while they sleep, and an unlucky one waits for seconds. The
# threads of one process (a web worker's) therefore queue for it on a lock of their own, one per
# database file, handed on as soon as the write transaction ends; between processes the busy
# timeout still applies.
_sqlite_writers: dict[str, threading.Lock] = {}
_sqlite_writers_guard = threading.Lock()
_HOLDS_WRITER = "readerapp_sqlite_writer"
_BUSY_TIMEOUT_S = "readerapp_busy_timeout_s"


def sqlite_writer_lock(database: str | None) -> threading.Lock | None:
    """The lock the writers of this process take for the SQLite file ``database`` (None for an
    in-memory database, which every connection has to itself)."""
    if not database or database == ":memory:" or "mode=memory" in database:
        return None
    with _sqlite_writers_guard:
        return _sqlite_writers.setdefault(database, threading.Lock())


@event.listens_for(Engine, "begin")
def _sqlite_on_begin(conn: sa.Connection) -> None:
    if conn.dialect.name != "sqlite":
        return
    if sqlite_read_only.get():
        conn.exec_driver_sql("BEGIN")
        return
    writer = sqlite_writer_lock(conn.engine.url.database)
    if writer is not None:
        if not writer.acquire(timeout=conn.connection.info.get(_BUSY_TIMEOUT_S, 5.0)):
            raise sa.exc.OperationalError(
                "BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked")
            )
        conn.info[_HOLDS_WRITER] = writer
    try:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    except BaseException:
        _release_writer(conn.info)
        raise


def _release_writer(info: dict[Any, Any]) -> None:
    writer = info.pop(_HOLDS_WRITER, None)
    if writer is not None:
        writer.release()


# The transaction ends: by commit or rollback, or by the pool resetting, closing or discarding
# the connection. (The next writer may reach SQLite just before the COMMIT lands; its busy
# handler's first wait is a millisecond.)
@event.listens_for(Engine, "commit")
@event.listens_for(Engine, "rollback")
def _sqlite_on_end(conn: sa.Connection) -> None:
    if conn.dialect.name != "sqlite":
        return
    # Not ``conn.info``: it raises while a failed transaction waits for this very rollback. An
    # invalidated connection has none, and the pool's "invalidate" hook below releases it.
    pooled = conn._dbapi_connection
    if pooled is not None:
        _release_writer(pooled.info)


@event.listens_for(Pool, "reset")
def _sqlite_on_reset(dbapi_connection: Any, record: Any, reset_state: Any) -> None:
    _release_writer(record.info)


@event.listens_for(Pool, "close")
@event.listens_for(Pool, "invalidate")
def _sqlite_on_close(dbapi_connection: Any, record: Any, *args: Any) -> None:
    if record is not None:
        _release_writer(record.info)


# SQLite has one write lock for the whole database, and a write request holding it from its
# first statement makes every other writer wait for its sign-in check, form validation and
# permission reads too. A view marked ``reads_first`` starts as a read (deferred); once its
# checks are done it calls ``begin_writing()``, which ends the read transaction so the writes
# begin IMMEDIATE. Rows read before stay loaded; the UPDATEs check the version that was read
# (and the operations the version the client saw), so a change made in between is refused.

_READS_FIRST_MARK = "_readerapp_reads_first"


def reads_first(view: Any) -> Any:
    """Mark a write view (a function, or a MethodView's method) that reads and checks before
    it calls ``begin_writing()``."""
    setattr(view, _READS_FIRST_MARK, True)
    return view


def view_reads_first(view: Any, method: str) -> bool:
    """Whether the view registered for a request (a MethodView's too) was marked."""
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        view = getattr(view_class, method.lower(), None)
    return bool(getattr(view, _READS_FIRST_MARK, False))


def begin_writing() -> None:
    """End the request's read phase: what follows begins as a write (IMMEDIATE on SQLite).

    Nothing may be changed before this call; PostgreSQL needs no second transaction."""
    if not sqlite_read_only.get():
        return
    from .extensions import db

    session = db.session()
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("begin_writing() after a change: that change would be written deferred")
    if session.in_transaction() and session.get_bind().dialect.name == "sqlite":
        # What was read stays loaded (nothing was changed, so nothing is lost): reading it all
        # again under the lock would hold the lock longer. A change made meanwhile is caught by
        # the version-checked UPDATE (StaleDataError), as on PostgreSQL.
        expire, session.expire_on_commit = session.expire_on_commit, False
        try:
            session.commit()
        finally:
            session.expire_on_commit = expire
    sqlite_read_only.set(False)


# Tables that other libraries own in the app's database (APScheduler's job store); migrations and
# the models-match-migrations check leave them alone.
FOREIGN_TABLES = frozenset({"apscheduler_jobs"})


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    return not (type_ == "table" and name in FOREIGN_TABLES)


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Write UTCDateTime columns into migrations as plain timezone-aware DateTimes."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False
