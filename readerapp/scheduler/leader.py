"""Only one scheduler process is active at a time; any other waits as a hot standby.

- PostgreSQL: ``pg_try_advisory_lock`` on a dedicated connection held for the process's
  lifetime. The server frees the lock the moment that connection ends — including when the
  process is killed — and a standby polling ``pg_try_advisory_lock`` takes over.
- SQLite (one machine): an exclusive ``fcntl.flock`` on a lock file beside the database file
  (``<database>.scheduler-lock``). The kernel frees it when the process dies, however it dies.
  Beside the database rather than in instance/, so two processes with different instance
  folders but the same database still exclude each other.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from pathlib import Path
from typing import Protocol

import sqlalchemy as sa

log = logging.getLogger("readerapp.scheduler")

# A fixed, arbitrary 63-bit key for pg_try_advisory_lock ("readerap" as bytes).
ADVISORY_LOCK_KEY = int.from_bytes(b"readerap", "big") & 0x7FFF_FFFF_FFFF_FFFF


class Leadership(Protocol):
    description: str

    def try_acquire(self) -> bool: ...

    def still_held(self) -> bool: ...

    def release(self) -> None: ...


class PostgresAdvisoryLock:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.connection: sa.Connection | None = None
        self.description = f"PostgreSQL advisory lock {ADVISORY_LOCK_KEY}"

    def try_acquire(self) -> bool:
        if self.connection is None:
            self.connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            got = self.connection.execute(
                sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
            ).scalar()
        except sa.exc.DBAPIError:
            self._drop_connection()
            return False
        return bool(got)

    def still_held(self) -> bool:
        """The lock lives as long as the connection; check the connection and the lock."""
        if self.connection is None:
            return False
        try:
            held = self.connection.execute(
                sa.text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                    "AND pid = pg_backend_pid() AND granted "
                    "AND ((classid::bigint << 32) | objid::bigint) = :key"
                ),
                {"key": ADVISORY_LOCK_KEY},
            ).scalar()
        except sa.exc.DBAPIError:
            self._drop_connection()
            return False
        return bool(held)

    def release(self) -> None:
        if self.connection is None:
            return
        with contextlib.suppress(sa.exc.DBAPIError):
            self.connection.execute(
                sa.text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY}
            )
        self._drop_connection()

    def _drop_connection(self) -> None:
        if self.connection is not None:
            try:
                self.connection.invalidate()
                self.connection.close()
            except sa.exc.DBAPIError:
                pass
        self.connection = None


class FileLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None
        self.description = f"lock file {path}"

    def try_acquire(self) -> bool:
        if self.fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        os.ftruncate(self.fd, 0)
        os.write(self.fd, f"{os.getpid()}\n".encode())
        return True

    def still_held(self) -> bool:
        return self.fd is not None

    def release(self) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


def leadership_for(engine: sa.Engine, instance_path: str) -> Leadership:
    if engine.dialect.name == "postgresql":
        return PostgresAdvisoryLock(engine)
    database = engine.url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        return FileLock(Path(f"{database}.scheduler-lock"))
    return FileLock(Path(instance_path) / "scheduler.lock")
