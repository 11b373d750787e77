"""Helpers shared by the group, organisation and user-administration tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from readerapp.db import sqlite_read_only
from readerapp.extensions import db


@pytest.fixture
def deferred_reads() -> Iterator[None]:
    """The test's own reads begin deferred, so they never hold SQLite's write lock while a
    request (a separate connection) wants it. Tests commit their own writes before requests."""
    token = sqlite_read_only.set(True)
    yield
    sqlite_read_only.reset(token)


@pytest.fixture
def no_csrf(app: Flask) -> Iterator[None]:
    app.config["WTF_CSRF_ENABLED"] = False
    yield
    app.config["WTF_CSRF_ENABLED"] = True


def fresh() -> None:
    """End the test's transaction so it sees what requests wrote (and holds no lock)."""
    db.session.rollback()
    db.session.expire_all()


def released(url: str) -> str:
    """Return ``url`` after ending the test's own transaction.

    For POST entries of the route table: reading the world (the signed-in user, ids) opens a
    transaction in the test's session that, on SQLite, holds the write lock the request needs.
    """
    db.session.commit()
    return url
