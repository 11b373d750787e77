"""Configuration, health check, CLI and demo data."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from readerapp import create_app
from readerapp.config import ConfigError
from readerapp.demo import seed
from readerapp.extensions import db
from readerapp.models import (
    Attendance,
    Broadcast,
    Organisation,
    ReadingGroup,
    ReadingSession,
    User,
)

# --- configuration ---


def _make(tmp_path: Path, env: dict[str, str] | None = None, **overrides: object) -> Flask:
    import os

    saved = dict(os.environ)
    try:
        for key in list(os.environ):
            if key.startswith("READERAPP_") or key in {"DATABASE_URL", "SECRET_KEY"}:
                del os.environ[key]
        os.environ.update(env or {})
        return create_app(overrides or None, instance_path=str(tmp_path))
    finally:
        os.environ.clear()
        os.environ.update(saved)


def test_defaults_use_sqlite_in_instance_and_london(tmp_path: Path) -> None:
    app = _make(tmp_path)
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'readerapp.sqlite3'}"
    assert app.config["TIMEZONE"] == "Europe/London"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_secret_key_is_generated_once_into_instance(tmp_path: Path) -> None:
    first = _make(tmp_path).config["SECRET_KEY"]
    second = _make(tmp_path).config["SECRET_KEY"]
    assert first == second and len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_instance_file_then_environment_override_defaults(tmp_path: Path) -> None:
    (tmp_path / "config.py").write_text("TIMEZONE = 'Europe/Dublin'\nMAIL_HOST = 'mail.local'\n")
    app = _make(tmp_path)
    assert app.config["TIMEZONE"] == "Europe/Dublin"
    app = _make(tmp_path, {"READERAPP_TIMEZONE": "Europe/Paris"})
    assert app.config["TIMEZONE"] == "Europe/Paris"
    assert app.config["MAIL_HOST"] == "mail.local"


def test_database_url_switches_to_postgresql_with_psycopg(tmp_path: Path) -> None:
    app = _make(tmp_path, {"DATABASE_URL": "postgresql://u@db.internal/readerapp"})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db.internal/readerapp"


@pytest.mark.parametrize(
    ("env", "instance_file", "message"),
    [
        ({"READERAPP_TIMEZONE": "Mars/Olympus"}, None, "unknown time zone"),
        # Files in the zone database that follow the host's clock or are not places.
        ({"READERAPP_TIMEZONE": "localtime"}, None, "unknown time zone"),
        ({"READERAPP_TIMEZONE": "posixrules"}, None, "unknown time zone"),
        ({}, "TIMEZONE = 'Factory'\n", "unknown time zone"),
        ({"READERAPP_COLOUR": "blue"}, None, "unknown setting 'COLOUR'"),
        ({"READERAPP_MAIL_PORT": "twenty-five"}, None, "READERAPP_MAIL_PORT"),
        ({"DATABASE_URL": "mysql://x/y"}, None, "unsupported database"),
        ({}, "TIMEZON = 'Europe/London'\n", "unknown setting 'TIMEZON'"),
        ({}, "this is not python\n", "cannot be read"),
    ],
)
def test_bad_settings_stop_the_start_with_a_clear_message(
    tmp_path: Path, env: dict[str, str], instance_file: str | None, message: str
) -> None:
    if instance_file:
        (tmp_path / "config.py").write_text(instance_file)
    with pytest.raises(ConfigError, match=message):
        _make(tmp_path, env)


# --- health ---


def test_healthz_ok(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["status"] == "ok"
    assert response.json["database"] == "ok"


def test_healthz_unavailable_without_a_stack_trace(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-dir" / "db.sqlite3"
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{missing}"},
        instance_path=str(tmp_path),
    )
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "unavailable"
    assert "Traceback" not in response.get_data(as_text=True)


def test_healthz_unavailable_when_postgres_cannot_be_reached(tmp_path: Path) -> None:
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none",
            "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"connect_timeout": 2}},
        },
        instance_path=str(tmp_path),
    )
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json == {"status": "unavailable", "database": "unavailable"}


# --- demo data and CLI ---

COUNTED = [Organisation, User, ReadingGroup, ReadingSession, Attendance, Broadcast]


def _counts() -> dict[str, int]:
    return {
        m.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(m)) for m in COUNTED
    }


def _fingerprint() -> list[tuple]:
    rows = db.session.execute(
        sa.select(
            ReadingSession.id,
            ReadingSession.status,
            ReadingSession.start_dt,
            ReadingSession.version,
            ReadingSession.updated_at,
        ).order_by(ReadingSession.id)
    ).all()
    return [tuple(r) for r in rows]


def test_seed_demo_is_realistic_and_idempotent() -> None:
    now = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
    summary = seed(now=now)
    db.session.commit()
    counts = _counts()
    fingerprint = _fingerprint()
    kinds = set(db.session.scalars(sa.select(Organisation.kind)))
    assert {"nhs_trust", "prison", "library", "radio_station"} <= kinds
    assert counts["ReadingGroup"] >= 8
    assert {u[1] for u in summary.created_users} == {
        "admin",
        "manager",
        "reader_leader",
        "partner_viewer",
    }
    rules = set(db.session.scalars(sa.select(ReadingGroup.rrule)))
    assert any("INTERVAL=2" in r for r in rules)  # fortnightly as well as weekly
    statuses = set(db.session.scalars(sa.select(ReadingSession.status)))
    assert statuses == {"scheduled", "delivered", "cancelled"}
    first = db.session.scalar(sa.select(sa.func.min(ReadingSession.start_dt)))
    assert (now - first).days >= 360
    assert counts["Attendance"] > 300
    assert (
        db.session.scalar(sa.select(sa.func.count()).where(Broadcast.repeat_of_id.is_not(None))) > 0
    )

    seed(now=now)
    db.session.commit()
    assert _counts() == counts
    assert _fingerprint() == fingerprint


def test_seed_demo_command_prints_the_logins(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "admin@example.org" in result.output
    assert "password" in result.output


def test_create_user_reads_the_password_from_stdin(app: Flask) -> None:
    org = Organisation(name="Ward Trust", kind="nhs_trust")
    db.session.add(org)
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "create-user",
            "Viewer@Trust.example",
            "--role",
            "partner_viewer",
            "--organisation",
            "Ward Trust",
            "--name",
            "Val Viewer",
        ],
        input="a-long-password\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User).where(User.email == "viewer@trust.example"))
    assert user is not None and user.check_password("a-long-password")
    assert user.organisation_id == org.id


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["create-user", "x@example.org", "--role", "partner_viewer"], "must belong"),
        (["create-user", "not-an-email", "--role", "manager"], "not a valid email"),
        (
            ["create-user", "y@example.org", "--role", "manager", "--organisation", "Nope"],
            "no organisation",
        ),
    ],
)
def test_create_user_refuses_bad_input(app: Flask, args: list[str], message: str) -> None:
    result = app.test_cli_runner().invoke(args=args, input="a-long-password\n")
    assert result.exit_code != 0
    assert message in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_create_user_refuses_a_short_password(app: Flask) -> None:
    result = app.test_cli_runner().invoke(
        args=["create-user", "z@example.org", "--role", "manager"], input="short\n"
    )
    assert result.exit_code != 0 and "at least" in result.output


# --- concurrency ---


def test_sixteen_threads_writing_at_once_all_succeed(app: Flask) -> None:
    """Reads followed by writes in each transaction: the pattern that fails on SQLite when two
    deferred transactions both upgrade to writing. None may fail; no write may be lost."""
    counter = Organisation(name="Counter", kind="other", prisons_reached=0)
    db.session.add(counter)
    db.session.flush()
    counter_id = counter.id
    db.session.commit()
    db.session.close()  # an idle open transaction here would hold SQLite's write lock
    errors: list[BaseException] = []
    writes_per_thread = 10

    def worker(n: int) -> None:
        try:
            with app.app_context():
                for i in range(writes_per_thread):
                    existing = db.session.scalar(
                        sa.select(sa.func.count()).select_from(Organisation)
                    )
                    db.session.add(
                        Organisation(name=f"Thread {n} write {i} after {existing}", kind="other")
                    )
                    db.session.execute(
                        sa.update(Organisation)
                        .where(Organisation.id == counter_id)
                        .values(prisons_reached=Organisation.prisons_reached + 1)
                    )
                    db.session.commit()
                db.session.remove()
        except BaseException as exc:  # collected and reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, sorted({repr(e)[:300] for e in errors})
    db.session.expire_all()
    assert db.session.get(Organisation, counter_id).prisons_reached == 16 * writes_per_thread
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Organisation))
    assert total == 1 + 16 * writes_per_thread


def test_sixteen_threads_writing_through_the_web_app_all_succeed(app: Flask) -> None:
    """Sixteen signed-in clients cancel sessions at once through the real views (each request a
    write transaction plus its audit entries): every request succeeds and every write lands."""
    from datetime import timedelta

    from readerapp.timeutil import utcnow

    from .factories import Factory
    from .world import sign_in_as

    factory = Factory()
    manager = factory.user("manager")
    group = factory.group()
    start = utcnow().replace(second=0, microsecond=0) + timedelta(days=3)
    sessions = [factory.session(group, start_dt=start + timedelta(hours=n)) for n in range(16 * 4)]
    ids = [s.id for s in sessions]
    manager_id = manager.id
    db.session.commit()
    app.config["WTF_CSRF_ENABLED"] = False  # CSRF is tested elsewhere; this is about locking
    statuses: list[int] = []
    errors: list[BaseException] = []

    def worker(chunk: list[int]) -> None:
        try:
            client = app.test_client()
            with app.app_context():
                sign_in_as(client, db.session.get(User, manager_id))
                db.session.remove()
            for session_id in chunk:
                response = client.post(
                    f"/sessions/{session_id}/cancel", data={"version": "1", "reason": "Ward closed"}
                )
                statuses.append(response.status_code)
        except BaseException as exc:  # collected and reported below
            errors.append(exc)

    try:
        threads = [threading.Thread(target=worker, args=(ids[n::16],)) for n in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        app.config["WTF_CSRF_ENABLED"] = True
    assert not errors, errors
    assert statuses == [302] * len(ids)
    db.session.expire_all()
    cancelled = db.session.scalar(
        sa.select(sa.func.count()).where(
            ReadingSession.id.in_(ids), ReadingSession.status == "cancelled"
        )
    )
    assert cancelled == len(ids)


def test_a_listed_domain_that_cannot_be_imported_stops_the_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import readerapp

    monkeypatch.setattr(readerapp, "DOMAINS", (*readerapp.DOMAINS, "outcomes_missing"))
    with pytest.raises(ModuleNotFoundError, match=r"readerapp\.outcomes_missing"):
        _make(tmp_path)
