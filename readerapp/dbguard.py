"""Bounded waits on the database: engine options from the settings, a client-side statement
watchdog for PostgreSQL, and the test that tells "the database is unavailable" from a bug.

A PostgreSQL server that is down refuses connections (``connect_timeout`` bounds the wait); one
that is overloaded cancels long statements itself (``statement_timeout``). A server that is
frozen does neither, and the kernel keeps acknowledging TCP, so a statement on an open connection
would wait forever: the watchdog shuts down the socket of a connection whose round trip has run
past its limit, psycopg raises OperationalError and SQLAlchemy invalidates the connection.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable
from functools import wraps
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

# Seconds a client-side bound waits beyond the server's own statement_timeout, so a live server
# always answers first (with QueryCanceled) and the watchdog only ever cuts off a frozen one.
WATCHDOG_GRACE_SECONDS = 1.0
WATCHDOG_TICK_SECONDS = 0.2

# SQLSTATE classes that mean "the server cannot serve this now", not "this request is wrong":
# 08 connection exception, 40 transaction rollback (a deadlock or a serialization failure: the
# server rolled the request back and the same request would succeed a moment later), 53
# insufficient resources, 57 operator intervention (57014 is a cancelled statement:
# statement_timeout), 58 system error.
UNAVAILABLE_SQLSTATE_CLASSES = frozenset({"08", "40", "53", "57", "58"})
SQLITE_UNAVAILABLE_MESSAGES = ("database is locked", "database is busy", "unable to open")


def engine_options(config: dict[str, Any]) -> dict[str, Any]:
    """SQLALCHEMY_ENGINE_OPTIONS for the configured database: bounded connect, checkout,
    statement and lock waits. Options given in the configuration win over these."""
    uri = str(config["SQLALCHEMY_DATABASE_URI"])
    backend = sa.make_url(uri).get_backend_name()
    # A pooled connection to a server may have died with the server: test it on checkout, so
    # the first request after a restart is answered. A SQLite file cannot go away like that.
    options: dict[str, Any] = {
        "pool_pre_ping": backend != "sqlite",
        "pool_timeout": config["DB_POOL_TIMEOUT"],
    }
    connect_args: dict[str, Any] = {}
    if backend == "postgresql":
        connect_args["connect_timeout"] = config["DB_CONNECT_TIMEOUT"]
        statement_ms = int(config["DB_STATEMENT_TIMEOUT"] * 1000)
        connect_args["options"] = f"-c statement_timeout={statement_ms}"
    elif backend == "sqlite":
        # sqlite3's own timeout is SQLite's busy timeout: how long to wait for another writer.
        connect_args["timeout"] = config["SQLITE_BUSY_TIMEOUT"]
    given = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    connect_args.update(given.pop("connect_args", {}) or {})
    options.update(given)
    if connect_args:
        options["connect_args"] = connect_args
    if sa.make_url(uri).database in (None, "", ":memory:") and backend == "sqlite":
        options.pop("pool_timeout", None)  # in-memory SQLite uses a pool without one
    return options


class Watchdog:
    """Shuts down the socket of any PostgreSQL round trip that outlives its limit.

    One per process: its thread is started lazily, and again in a forked child, since threads
    do not survive a fork.
    """

    def __init__(self, limit_seconds: float) -> None:
        self.limit = limit_seconds
        self._lock = threading.Lock()
        self._running: dict[int, tuple[float, int]] = {}  # token -> (deadline, socket fd)
        self._next = 0
        self._pid: int | None = None
        # Driver connections whose statements run unbounded (an export, a migration): the
        # watchdog leaves their round trips alone until they are handed back.
        self._exempt: weakref.WeakSet[Any] = weakref.WeakSet()
        self.cut_off = 0  # how many round trips it has ended, for logs and tests

    def _ensure_thread(self) -> None:
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid == os.getpid():
                return
            self._running.clear()
            thread = threading.Thread(target=self._run, name="db-watchdog", daemon=True)
            thread.start()
            self._pid = os.getpid()

    def start(self, fd: int, limit: float | None = None) -> int:
        self._ensure_thread()
        with self._lock:
            self._next += 1
            deadline = time.monotonic() + (self.limit if limit is None else limit)
            self._running[self._next] = (deadline, fd)
            return self._next

    def stop(self, token: int) -> None:
        with self._lock:
            self._running.pop(token, None)

    def _run(self) -> None:
        while True:
            time.sleep(WATCHDOG_TICK_SECONDS)
            now = time.monotonic()
            with self._lock:
                overdue = [t for t, (deadline, _) in self._running.items() if deadline <= now]
                for token in overdue:
                    _, fd = self._running.pop(token)
                    _shut_down(fd)
                    self.cut_off += 1

    def guard(
        self,
        fd_of: Callable[..., int | None],
        method: Callable[..., Any],
        limit: float | None = None,
    ) -> Any:
        """``method`` (a dialect round trip) run under this watchdog, cut off after ``limit``
        seconds (the watchdog's own limit if None)."""

        @wraps(method)
        def guarded(target: Any, *args: Any, **kwargs: Any) -> Any:
            if self._exempt and _driver_connection(target) in self._exempt:
                return method(target, *args, **kwargs)
            fd = fd_of(target)
            if fd is None or fd < 0:
                return method(target, *args, **kwargs)
            token = self.start(fd, limit)
            try:
                return method(target, *args, **kwargs)
            finally:
                self.stop(token)

        return guarded

    def exempt(self, driver_connection: Any) -> None:
        with self._lock:
            self._exempt.add(driver_connection)

    def unexempt(self, driver_connection: Any) -> None:
        with self._lock:
            self._exempt.discard(driver_connection)


def _driver_connection(target: Any) -> Any:
    """The driver connection behind a round trip's target: a cursor, a driver connection, or
    the pool's wrapper around one (which SQLAlchemy hands to commit and rollback)."""
    pooled = getattr(target, "driver_connection", None)
    if pooled is not None:
        return pooled
    return getattr(target, "connection", target)


def _shut_down(fd: int) -> None:
    try:
        # A duplicate descriptor: shutting it down ends the connection for its owner too, and
        # closing it leaves the owner's descriptor for the owner to close.
        sock = socket.socket(fileno=os.dup(fd))
    except OSError:
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    finally:
        sock.close()


def _connection_fd(dbapi_connection: Any) -> int | None:
    pgconn = getattr(dbapi_connection, "pgconn", None)
    try:
        return pgconn.socket if pgconn is not None else None
    except Exception:  # a closed connection has no socket; nothing to watch
        return None


def _cursor_fd(cursor: Any) -> int | None:
    return _connection_fd(getattr(cursor, "connection", None))


def install_watchdog(
    engine: sa.Engine, statement_timeout: float, ping_timeout: float
) -> Watchdog | None:
    """Bound every round trip SQLAlchemy makes on ``engine`` (statements, the pool's ping,
    commit and rollback) on the client side. PostgreSQL only: SQLite has no network to hang.

    The pool's ping is cut off sooner (``ping_timeout``): a live server answers it at once, and
    a request that finds its pooled connection dead still has to connect afresh.
    """
    if engine.dialect.name != "postgresql" or statement_timeout <= 0:
        return None
    watchdog = Watchdog(statement_timeout + WATCHDOG_GRACE_SECONDS)
    _watchdogs[engine] = watchdog
    dialect = engine.dialect
    # The dialect's methods are the one place every round trip passes through, the pool's
    # pre-ping and reset-on-return included, which have no events of their own.
    dialect.do_ping = watchdog.guard(_connection_fd, dialect.do_ping, ping_timeout)  # type: ignore[method-assign]
    for name in ("do_commit", "do_rollback"):
        setattr(dialect, name, watchdog.guard(_connection_fd, getattr(dialect, name)))
    for name in ("do_execute", "do_execute_no_params", "do_executemany"):
        setattr(dialect, name, watchdog.guard(_cursor_fd, getattr(dialect, name)))
    return watchdog


_watchdogs: weakref.WeakKeyDictionary[sa.Engine, Watchdog] = weakref.WeakKeyDictionary()


def lift_statement_bound(engine: sa.Engine, driver_connection: Any) -> None:
    """Let the statements of ``driver_connection``'s current transaction run as long as they
    need: exports, backups and migrations, never an ordinary request.

    On PostgreSQL the server's ``statement_timeout`` is set to 0 with ``SET LOCAL``, so it
    comes back by itself when the transaction ends (the pool rolls back every connection it is
    given back), and the watchdog stands aside for this connection until ``restore_statement_
    bound``. Call it first in the transaction; psycopg begins one with this very statement.
    SQLite has no statement bound: nothing to do.
    """
    if engine.dialect.name != "postgresql":
        return
    with driver_connection.cursor() as cursor:
        cursor.execute("SET LOCAL statement_timeout = 0")
    watchdog = _watchdogs.get(engine)
    if watchdog is not None:
        watchdog.exempt(driver_connection)


def restore_statement_bound(engine: sa.Engine, driver_connection: Any) -> None:
    """The watchdog watches ``driver_connection`` again (call before it goes back to the pool;
    the server's bound returns with the rollback)."""
    watchdog = _watchdogs.get(engine)
    if watchdog is not None:
        watchdog.unexempt(driver_connection)


def is_unavailable(error: BaseException) -> bool:
    """The database cannot serve us now (down, frozen, overloaded, locked), as opposed to a
    mistake in the request or in the code, which stays a 500."""
    if isinstance(error, sa_exc.TimeoutError):  # no pooled connection came free in time
        return True
    if not isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError):
        return False
    if error.connection_invalidated:
        return True
    orig = error.orig
    if isinstance(orig, sqlite3.OperationalError):
        return str(orig).lower().startswith(SQLITE_UNAVAILABLE_MESSAGES)
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a requirement
        return False
    if isinstance(orig, psycopg.InterfaceError):
        return True
    if isinstance(orig, psycopg.OperationalError):
        sqlstate = getattr(orig, "sqlstate", None)
        # No SQLSTATE: the client itself failed (cannot connect, connection lost).
        return sqlstate is None or sqlstate[:2] in UNAVAILABLE_SQLSTATE_CLASSES
    return False
