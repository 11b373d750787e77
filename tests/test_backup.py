"""A backup taken while the service runs restores into a fresh database with every row, on
whichever database the tests run (SQLite, or PostgreSQL with pg_dump/pg_restore)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from readerapp import create_app
from readerapp.attendance.models import Participant
from readerapp.extensions import db

from .conftest import TEST_DATABASE_URL, create_postgres_database, drop_postgres_database
from .world import SECRET_NAME, build_world


def _counts() -> dict[str, int]:
    return {
        table.name: db.session.scalar(sa.select(sa.func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    }


@pytest.fixture
def empty_database_url(tmp_path: Path) -> Iterator[str]:
    """A brand-new database of the kind the tests run on: no tables, no rows."""
    if TEST_DATABASE_URL.startswith("postgresql"):
        url, name = create_postgres_database(TEST_DATABASE_URL)
        yield url
        drop_postgres_database(TEST_DATABASE_URL, name)
    else:
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"


@pytest.fixture
def restored_app(
    app_config: dict[str, object], empty_database_url: str, tmp_path: Path
) -> Iterator[Flask]:
    other = create_app(
        dict(app_config) | {"SQLALCHEMY_DATABASE_URI": empty_database_url},
        instance_path=str(tmp_path / "instance"),
    )
    yield other
    with other.app_context():
        db.engine.dispose()


def test_backup_and_restore_round_trip(app: Flask, restored_app: Flask, tmp_path: Path) -> None:
    world = build_world()
    db.session.commit()
    original = _counts()
    assert original["participant_attendance"] == 1 and original["audit_event"] > 0
    backup = tmp_path / "nightly.backup"

    taken = app.test_cli_runner().invoke(args=["backup", str(backup)])
    assert taken.exit_code == 0, taken.output
    assert backup.stat().st_size > 0
    participant_id = world.participant.id
    db.session.commit()  # this test's session holds nothing while the other app works

    runner = restored_app.test_cli_runner()
    # Commands run in the current app context: enter the restored app's.
    with restored_app.app_context():
        restored = runner.invoke(args=["restore", str(backup)])
        assert restored.exit_code == 0, restored.output
        assert _counts() == original
        person = db.session.get(Participant, participant_id)
        assert person.display_name == SECRET_NAME
        # The restored database is a working one: its schema is at the migrations' heads.
        assert db.session.scalar(sa.text("SELECT count(*) FROM alembic_version")) >= 1

        again = runner.invoke(args=["restore", str(backup)])
        assert again.exit_code != 0 and "not empty" in again.output
        forced = runner.invoke(args=["restore", "--force", str(backup)])
        assert forced.exit_code == 0, forced.output
        assert _counts() == original


def test_restore_refuses_a_database_with_data(app: Flask, tmp_path: Path) -> None:
    build_world()
    db.session.commit()
    backup = tmp_path / "b.backup"
    assert app.test_cli_runner().invoke(args=["backup", str(backup)]).exit_code == 0
    refused = app.test_cli_runner().invoke(args=["restore", str(backup)])
    assert refused.exit_code != 0 and "--force" in refused.output


def test_restore_refuses_what_is_not_a_backup(restored_app: Flask, tmp_path: Path) -> None:
    junk = tmp_path / "junk.backup"
    junk.write_bytes(b"this is not a database")
    runner = restored_app.test_cli_runner()
    with restored_app.app_context():
        result = runner.invoke(args=["restore", str(junk)])
        missing = runner.invoke(args=["restore", str(tmp_path / "absent.backup")])
    assert result.exit_code != 0 and "not a" in result.output
    assert missing.exit_code != 0 and "no such file" in missing.output
