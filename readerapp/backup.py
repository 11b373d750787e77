"""``flask --app wsgi backup OUTPUT`` and ``flask --app wsgi restore INPUT``.

- SQLite: the backup is a copy of the database file taken with SQLite's online backup API, so it
  is consistent even while the service is writing. Restore copies it back the same way.
- PostgreSQL: ``pg_dump -Fc`` (a consistent snapshot, compressed custom format); restore runs
  ``pg_restore`` in a single transaction. The password, if any, goes to the tools through the
  environment, never on a command line.

Restore refuses to overwrite a database that holds any rows unless ``--force`` is given; a
freshly migrated, empty database is fine.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import with_appcontext

from .db import FOREIGN_TABLES, sqlite_read_only
from .extensions import db

SQLITE_HEADER = b"SQLite format 3\x00"
PG_DUMP_HEADER = b"PGDMP"
BACKUP_PAGES_PER_STEP = 1024  # copy in steps so writers are not held off for the whole copy
# Backup and restore are commands an operator runs, not requests: they may wait longer than a
# request does (SQLITE_BUSY_TIMEOUT) for the writers in flight to finish. On PostgreSQL the
# request bound (DB_STATEMENT_TIMEOUT) never reaches pg_dump or pg_restore: they connect on
# their own and set statement_timeout = 0 for their sessions themselves.
MAINTENANCE_BUSY_TIMEOUT_MS = 60_000


class BackupError(RuntimeError):
    """The backup or restore cannot be done; the message says why."""


def init_app(app: Flask) -> None:
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)


def _url() -> sa.URL:
    return db.engine.url


def _sqlite_path(url: sa.URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(url.database)


def _pg_environment(url: sa.URL) -> dict[str, str]:
    """libpq settings for pg_dump/pg_restore, so no secret appears in the process list."""
    env = dict(os.environ)
    for key, value in (
        ("PGHOST", url.host),
        ("PGPORT", url.port),
        ("PGUSER", url.username),
        ("PGPASSWORD", url.password),
        ("PGDATABASE", url.database),
    ):
        if value is not None:
            env[key] = str(value)
    return env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed or not on PATH")
    return path


def _run(command: list[str], url: sa.URL) -> None:
    result = subprocess.run(  # noqa: S603  (fixed tool, arguments we built)
        command, env=_pg_environment(url), capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {result.stderr.strip()}")


def backup_database(output: Path) -> None:
    """Write a consistent copy of the app's database to ``output`` (overwritten if present)."""
    url = _url()
    output.parent.mkdir(parents=True, exist_ok=True)
    if url.get_backend_name() == "sqlite":
        source = sqlite3.connect(_sqlite_path(url))
        target_path = output.with_name(output.name + ".partial")
        target_path.unlink(missing_ok=True)
        target = sqlite3.connect(target_path)
        try:
            source.execute(f"PRAGMA busy_timeout = {MAINTENANCE_BUSY_TIMEOUT_MS}")
            source.backup(target, pages=BACKUP_PAGES_PER_STEP)
        finally:
            target.close()
            source.close()
        # A finished file only: a backup interrupted half-way never looks like a good one.
        target_path.replace(output)
    elif url.get_backend_name() == "postgresql":
        _run([_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(output)], url)
    else:
        raise BackupError(f"backups of {url.get_backend_name()} databases are not supported")


def database_has_rows() -> bool:
    """Whether any table the application knows holds a row (alembic's own table aside)."""
    token = sqlite_read_only.set(True)  # a look only: never wait for SQLite's write lock
    try:
        return _any_rows()
    finally:
        sqlite_read_only.reset(token)


def _any_rows() -> bool:
    existing = set(sa.inspect(db.engine).get_table_names())
    with db.engine.connect() as connection:
        for table in db.metadata.sorted_tables:
            if table.name not in existing or table.name in FOREIGN_TABLES:
                continue
            if connection.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first():
                return True
    return False


def restore_database(source: Path, force: bool = False) -> None:
    """Replace the app's database with the backup in ``source``."""
    if not source.is_file():
        raise BackupError(f"{source}: no such file")
    header = _head(source)
    url = _url()
    backend = url.get_backend_name()
    if backend == "sqlite" and not header.startswith(SQLITE_HEADER):
        raise BackupError(f"{source}: not a SQLite backup")
    if backend == "postgresql" and not header.startswith(PG_DUMP_HEADER):
        raise BackupError(f"{source}: not a pg_dump custom-format backup")
    if backend not in {"sqlite", "postgresql"}:
        raise BackupError(f"restoring {backend} databases is not supported")
    # Nothing of this process may hold the database while it is checked and replaced.
    db.session.remove()
    if not force and database_has_rows():
        raise BackupError(
            "the database is not empty; restoring would replace everything in it "
            "(use --force to do so)"
        )
    db.engine.dispose()
    if backend == "sqlite":
        backup = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        target = sqlite3.connect(_sqlite_path(url))
        try:
            if backup.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise BackupError(f"{source}: the backup is damaged")
            target.execute(f"PRAGMA busy_timeout = {MAINTENANCE_BUSY_TIMEOUT_MS}")
            backup.backup(target)
        finally:
            target.close()
            backup.close()
    else:
        _run(
            [
                _tool("pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                "--exit-on-error",
                "--dbname",
                str(url.database),
                str(source),
            ],
            url,
        )
    db.engine.dispose()


def _head(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(16)


@click.command("backup")
@click.argument("output", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(output: Path) -> None:
    """Take a consistent online backup of the database into OUTPUT."""
    try:
        backup_database(output)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Backup written to {output} ({output.stat().st_size:,} bytes).")


@click.command("restore")
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that already holds data.")
@with_appcontext
def restore_command(source: Path, force: bool) -> None:
    """Bring back the backup in SOURCE (refuses a non-empty database without --force)."""
    try:
        restore_database(source, force=force)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Restored from {source}.")
