"""Helpers for the audit and privacy tests."""

from __future__ import annotations

import io
import json
import logging
import zipfile
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from readerapp.audit.models import AuditEvent
from readerapp.db import sqlite_read_only
from readerapp.extensions import db


@pytest.fixture
def deferred_reads() -> Iterator[None]:
    """The test's own reads begin deferred, so they never hold SQLite's write lock while a
    request (another connection) wants it. Tests commit their writes before requests."""
    token = sqlite_read_only.set(True)
    yield
    sqlite_read_only.reset(token)


def events(**where: object) -> list[AuditEvent]:
    query = sa.select(AuditEvent).order_by(AuditEvent.id)
    for key, value in where.items():
        query = query.where(getattr(AuditEvent, key) == value)
    return list(db.session.scalars(query))


def all_changes_text() -> str:
    """Every stored change, as one JSON text, to search for values that must never be kept."""
    rows = db.session.execute(sa.select(AuditEvent.changes, AuditEvent.actor_label)).all()
    return json.dumps([[r.changes, r.actor_label] for r in rows])


@pytest.fixture
def live_logs() -> Iterator[None]:
    """Loggers switched back on: running the migrations in-process (alembic's fileConfig)
    disables every logger that existed then, the application's own among them."""
    loggers = [
        logger
        for name, logger in logging.root.manager.loggerDict.items()
        if isinstance(logger, logging.Logger) and name.split(".")[0] in {"readerapp", "werkzeug"}
    ]
    was = [logger.disabled for logger in loggers]
    for logger in loggers:
        logger.disabled = False
    yield
    for logger, disabled in zip(loggers, was, strict=True):
        logger.disabled = disabled


def response_text(data: bytes) -> str:
    """A response body as text to search; zip containers (xlsx) searched member by member."""
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "\n".join(
                archive.read(name).decode("utf-8", "replace") for name in archive.namelist()
            )
    return data.decode("utf-8", "replace")
