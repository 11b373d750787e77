"""The write path of logging a session (API PUT and the log form): one write transaction, taken
after the request's reads and checks (on SQLite, the database's one write lock is held for the
writes alone), nothing read back after the commit, and a change made by someone else between the
checks and the writes still refused."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy import event

from readerapp.db import begin_writing, sqlite_read_only
from readerapp.extensions import db
from readerapp.sessions.models import ReadingSession

from .api_helpers import ApiWorld, build_api_world, etag_of
from .world import sign_in_as

pytestmark = pytest.mark.usefixtures("reads_do_not_lock")


@pytest.fixture
def aw() -> ApiWorld:
    world = build_api_world()
    db.session.rollback()
    return world


class Trace:
    """Every statement the app's engine runs, and every commit, in order."""

    def __init__(self) -> None:
        self.events: list[str] = []

    def _statement(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.events.append(" ".join(statement.split()))

    def _commit(self, conn: Any) -> None:
        self.events.append("COMMIT")

    def __enter__(self) -> Trace:
        event.listen(db.engine, "before_cursor_execute", self._statement)
        event.listen(db.engine, "commit", self._commit)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(db.engine, "before_cursor_execute", self._statement)
        event.remove(db.engine, "commit", self._commit)

    def check_one_write_transaction(self, first_read: str) -> None:
        """The writes commit once and nothing runs after; on SQLite the write lock is taken
        once, after ``first_read`` and the other checks."""
        writes = [i for i, s in enumerate(self.events) if s.startswith(("UPDATE", "INSERT"))]
        commits = [i for i, s in enumerate(self.events) if s == "COMMIT"]
        assert writes and commits and commits[-1] > writes[-1], self.events
        assert commits[-1] == len(self.events) - 1, self.events[commits[-1] :]
        if db.engine.dialect.name == "sqlite":
            immediate = [i for i, s in enumerate(self.events) if s == "BEGIN IMMEDIATE"]
            read = next(i for i, s in enumerate(self.events) if first_read in s)
            assert len(immediate) == 1 and read < immediate[0] < writes[0], self.events


def _meanwhile(session_id: int) -> None:
    """Someone else changes the session, committed on a connection of its own."""
    with db.engine.begin() as conn:
        conn.execute(
            sa.update(ReadingSession)
            .where(ReadingSession.id == session_id)
            .values(version=ReadingSession.version + 1, notes="changed meanwhile")
        )


def _notes(session_id: int) -> str | None:
    db.session.rollback()
    return db.session.get(ReadingSession, session_id).notes


# --- API ---------------------------------------------------------------------------------------


def test_an_attendance_put_writes_in_one_transaction_after_its_checks(
    client: FlaskClient, aw: ApiWorld
) -> None:
    url = f"/api/v1/sessions/{aw.ids['due_session']}/attendance"
    headers = aw.headers("leader")
    etag = etag_of(client, url, headers)
    with Trace() as trace:
        response = client.put(
            url,
            headers={**headers, "If-Match": etag},
            json={"participants": 7, "notes": "ok", "confirm": True},
        )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["participants"] == 7
    assert response.headers["ETag"] == etag_of(client, url, headers)
    trace.check_one_write_transaction("api_token.token_hash")


def test_a_change_between_the_checks_and_the_writes_is_a_412(
    client: FlaskClient, aw: ApiWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    sid = aw.ids["due_session"]
    url = f"/api/v1/sessions/{sid}/attendance"
    headers = aw.headers("leader")
    etag = etag_of(client, url, headers)

    def late(*args: Any) -> None:
        _meanwhile(sid)
        begin_writing()

    monkeypatch.setattr("readerapp.api.sessions.begin_writing", late)
    response = client.put(
        url, headers={**headers, "If-Match": etag}, json={"participants": 7, "confirm": True}
    )
    assert response.status_code == 412, response.get_data(as_text=True)
    assert _notes(sid) == "changed meanwhile"


# --- The log form ------------------------------------------------------------------------------


def _form(client: FlaskClient, url: str, **values: str) -> dict[str, str]:
    html = client.get(url).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    version = re.search(r'name="version" type="hidden" value="(\d+)"', html)
    assert token and version, html[:500]
    return {
        "csrf_token": token.group(1),
        "version": version.group(1),
        "status": "delivered",
        "participants": "6",
        "first_time": "0",
        "staff_carers": "1",
        "volunteers": "0",
        "notes": "from the form",
        "leader_id": "0",
        **values,
    }


def test_the_log_form_writes_in_one_transaction_after_its_checks(
    client: FlaskClient, aw: ApiWorld
) -> None:
    sid = aw.ids["due_session"]
    url = f"/sessions/{sid}/log"
    sign_in_as(client, aw.world.leader)
    data = _form(client, url)
    with Trace() as trace:
        response = client.post(url, data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert response.headers["Location"].endswith(f"/sessions/{sid}")
    assert _notes(sid) == "from the form"
    trace.check_one_write_transaction("FROM reading_session")


def test_a_change_between_the_form_checks_and_the_writes_is_a_409(
    client: FlaskClient, aw: ApiWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    sid = aw.ids["due_session"]
    url = f"/sessions/{sid}/log"
    sign_in_as(client, aw.world.leader)
    data = _form(client, url)

    def late(*args: Any) -> None:
        _meanwhile(sid)
        begin_writing()

    monkeypatch.setattr("readerapp.logbook.views.begin_writing", late)
    response = client.post(url, data=data)
    assert response.status_code == 409, response.get_data(as_text=True)[:2000]
    assert _notes(sid) == "changed meanwhile"


def test_begin_writing_refuses_to_follow_a_change() -> None:
    token = sqlite_read_only.set(True)
    try:
        db.session.add(ReadingSession())
        with pytest.raises(RuntimeError):
            begin_writing()
    finally:
        db.session.rollback()
        sqlite_read_only.reset(token)


# --- SQLite: the writers of one process queue on a lock of their own -----------------------------


@pytest.fixture
def sqlite_only() -> None:
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the writer lock is SQLite's")


def _writing() -> Any:
    sqlite_read_only.set(False)
    return db.engine.connect()


@pytest.mark.usefixtures("sqlite_only")
def test_the_writer_lock_is_handed_on_whichever_way_a_write_transaction_ends() -> None:
    from readerapp.db import sqlite_writer_lock

    _sqlite_writer = sqlite_writer_lock(db.engine.url.database)
    assert _sqlite_writer is not None
    db.session.rollback()
    with _writing() as conn:
        conn.execute(sa.text("SELECT 1"))
        assert _sqlite_writer.locked()
        conn.commit()
        assert not _sqlite_writer.locked()
        conn.execute(sa.text("SELECT 1"))
        conn.rollback()
        assert not _sqlite_writer.locked()
        conn.execute(sa.text("SELECT 1"))
    # Closed with its transaction open: the pool's reset ends it.
    assert not _sqlite_writer.locked()
    sqlite_read_only.set(True)
    with db.engine.connect() as conn:
        conn.execute(sa.text("SELECT 1"))
        assert not _sqlite_writer.locked()  # reads never take it


@pytest.mark.usefixtures("sqlite_only")
def test_threads_writing_at_once_all_commit() -> None:
    """Answered, not hung: many threads of one process writing at once all get through."""
    import threading

    db.session.rollback()
    with db.engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE IF NOT EXISTS _writer_check (n INTEGER)"))
    errors: list[BaseException] = []
    engine = db.engine

    def write() -> None:
        sqlite_read_only.set(False)
        try:
            for _ in range(20):
                with engine.begin() as conn:
                    conn.execute(sa.text("INSERT INTO _writer_check VALUES (1)"))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=write) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    try:
        assert not errors and not any(t.is_alive() for t in threads)
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM _writer_check")).scalar() == 160
    finally:
        with db.engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE _writer_check"))
