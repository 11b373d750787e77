"""Test fixtures: a real database (SQLite, or PostgreSQL from TEST_DATABASE_URL) built by the
migrations once per run, emptied after every test."""

from __future__ import annotations

import contextvars
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask, has_app_context
from flask.testing import FlaskClient

from readerapp import create_app
from readerapp.db import sqlite_read_only
from readerapp.extensions import db

from .factories import Factory

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")


def create_postgres_database(url: str, template: str | None = None) -> tuple[str, str]:
    """A new database beside the one in ``url``, empty or a copy of the database named
    ``template`` (which nobody may be connected to); returns (its url, its name)."""
    base = sa.make_url(url)
    name = f"readerapp_test_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    copied = f' TEMPLATE "{template}"' if template else ""
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"{copied}')
    engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False), name


def drop_postgres_database(url: str, name: str) -> None:
    engine = sa.create_engine(sa.make_url(url), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    engine.dispose()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The suite runs twice in CI, on SQLite and on PostgreSQL: a test that proves nothing
    about the database (``database_neutral``) runs in the SQLite run only."""
    if not TEST_DATABASE_URL.startswith("postgresql"):
        return
    once = pytest.mark.skip(reason="database-neutral: runs once, in the SQLite run")
    for item in items:
        if item.get_closest_marker("database_neutral") is not None:
            item.add_marker(once)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if TEST_DATABASE_URL.startswith("postgresql"):
        url, name = create_postgres_database(TEST_DATABASE_URL)
        yield url
        drop_postgres_database(TEST_DATABASE_URL, name)
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def app_config(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "ENVIRONMENT": "testing",
        "RATELIMIT_ENABLED": False,
    }


class IsolatedClient(FlaskClient):
    """Runs each request in a fresh context, as a real server does.

    Tests hold an app context of their own; without this, requests would share its ``g`` (the
    signed-in user) and its database session with the test and with each other.
    """

    def open(self, *args: object, **kwargs: object):  # type: ignore[override]
        # What the test has written must be visible to the request; and on SQLite an open
        # transaction in the test's session would hold the write lock the request needs.
        if has_app_context() and db.session().in_transaction():
            db.session.commit()
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture(scope="session")
def app(app_config: dict[str, object], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    instance = tmp_path_factory.mktemp("instance")
    application = create_app(dict(app_config), instance_path=str(instance))
    application.test_client_class = IsolatedClient
    with application.app_context():
        from flask_migrate import upgrade

        upgrade(revision="heads")
    yield application
    with application.app_context():
        db.engine.dispose()


def _empty_all_tables() -> None:
    tables = list(reversed(db.metadata.sorted_tables))
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        db.session.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        # Self-references (a repeat and its first airing) only balance out at commit.
        db.session.execute(sa.text("PRAGMA defer_foreign_keys = ON"))
        for table in tables:
            db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture(autouse=True)
def _app_context(app: Flask) -> Iterator[None]:
    """Every test runs in an app context and leaves the database empty behind it."""
    token = sqlite_read_only.set(False)
    with app.app_context():
        yield
        db.session.rollback()
        _empty_all_tables()
        db.session.remove()
    sqlite_read_only.reset(token)


@pytest.fixture
def reads_do_not_lock() -> Iterator[None]:
    """For tests of requests that write: on SQLite the test's own reads would otherwise open
    write transactions and lock out the requests under test. Such tests end their transaction
    (rollback) before checking results."""
    token = sqlite_read_only.set(True)
    yield
    sqlite_read_only.reset(token)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def factory() -> Factory:
    return Factory()


@pytest.fixture
def artifacts_dir() -> Path:
    path = Path(__file__).resolve().parent.parent / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path
