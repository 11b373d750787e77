"""A version clash is the conflict answer wherever it surfaces, and a database that cannot serve
is a 503, on SQLite and PostgreSQL alike.

The clash is made real: just before the request's first flush writes the session, the same
transaction moves the session's version on, exactly as a concurrent writer's committed UPDATE
would look, so the ORM's ``UPDATE … WHERE version = :seen`` matches no row.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from readerapp import create_app
from readerapp.dbguard import is_unavailable
from readerapp.extensions import db
from readerapp.sessions.models import ReadingSession

from .api_helpers import ApiWorld, build_api_world, etag_of, is_problem
from .world import World, build_world, client_for

pytestmark = pytest.mark.usefixtures("reads_do_not_lock")


@pytest.fixture
def clash() -> Iterator[list[int]]:
    """Arm with a session id: the next flush that writes that session finds it moved on.
    The list fills with the id once the clash has been made."""
    armed: list[int] = []
    fired: list[int] = []

    def move_on(session: Session, flush_context: Any, instances: Any) -> None:
        if not armed or fired:
            return
        if not any(isinstance(o, ReadingSession) and o.id == armed[0] for o in session.dirty):
            return
        table = ReadingSession.__table__
        session.connection().execute(
            sa.update(table).where(table.c.id == armed[0]).values(version=table.c.version + 1)
        )
        fired.append(armed[0])

    event.listen(Session, "before_flush", move_on)
    yield armed
    event.remove(Session, "before_flush", move_on)
    assert fired, "the clash was never made: the test did not exercise a stale write"


def _form(client: FlaskClient, url: str) -> tuple[str, str]:
    html = client.get(url).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    version = re.search(r'name="version" type="hidden" value="(\d+)"', html)
    assert token and version, html[:500]
    return token.group(1), version.group(1)


def _version(session_id: int) -> int:
    db.session.rollback()
    version = db.session.get(ReadingSession, session_id).version
    db.session.rollback()
    return version


def test_log_form_stale_write_in_an_autoflush_is_the_conflict_page(
    app: Flask, clash: list[int]
) -> None:
    world: World = build_world()
    session_id, leader = world.due_session.id, world.leader
    client = client_for(app, leader)
    url = f"/sessions/{session_id}/log"
    token, version = _form(client, url)
    clash.append(session_id)
    response = client.post(
        url,
        data={
            "csrf_token": token,
            "version": version,
            "status": "delivered",
            "participants": "7",
            "confirm": "y",  # more than the group's usual 6, knowingly
            "first_time": "1",
            "staff_carers": "0",
            "volunteers": "0",
            "materials-0-title": "The Dead",
            "materials-0-author": "James Joyce",
            "materials-0-kind": "short_story",
            "notes": "Words worth keeping",
            "leader_id": "0",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 409, html[:2000]
    assert "Someone else changed this session" in html
    assert "Words worth keeping" in html and 'value="7"' in html
    # Nothing of the refused save was written; the page offers the version now stored.
    db.session.rollback()
    stored = db.session.get(ReadingSession, session_id)
    assert stored.status == "scheduled" and stored.notes != "Words worth keeping"
    assert f'name="version" type="hidden" value="{stored.version}"' in html


def test_cancel_form_stale_write_is_the_conflict_page(app: Flask, clash: list[int]) -> None:
    world: World = build_world()
    session_id, manager = world.future_session.id, world.manager
    client = client_for(app, manager)
    url = f"/sessions/{session_id}/cancel"
    token, version = _form(client, url)
    clash.append(session_id)
    response = client.post(
        url, data={"csrf_token": token, "version": version, "reason": "Ward closed"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 409, html[:2000]
    assert "Ward closed" in html
    db.session.rollback()
    assert db.session.get(ReadingSession, session_id).status == "scheduled"


def test_api_stale_write_in_an_autoflush_is_412(client: FlaskClient, clash: list[int]) -> None:
    aw: ApiWorld = build_api_world()
    session_id = aw.ids["due_session"]
    url = f"/api/v1/sessions/{session_id}/attendance"
    headers = aw.headers("leader")
    etag = etag_of(client, url, headers)
    before = _version(session_id)
    clash.append(session_id)
    response = client.put(
        url,
        headers={**headers, "If-Match": etag},
        json={"participants": 4, "notes": "Four today"},
    )
    assert response.status_code == 412 and is_problem(response), response.get_data(as_text=True)
    assert _version(session_id) == before  # the clash's own change was rolled back with ours


# --- The last resort and the 503 answer, through the app's own handlers --------------------------


@pytest.fixture
def raising_app(app_config: dict[str, object], tmp_path: Path) -> Flask:
    """An app of its own whose routes raise what a request can meet from its database."""
    application = create_app(dict(app_config), instance_path=str(tmp_path))
    raised: dict[str, BaseException] = {
        "stale": StaleDataError("UPDATE statement on table expected to update 1 row(s)"),
        "down": sa_exc.OperationalError(
            "SELECT 1", {}, psycopg.OperationalError("connection failed: Connection refused")
        ),
        "cancelled": sa_exc.OperationalError(
            "SELECT 1", {}, psycopg.errors.QueryCanceled("canceling statement due to timeout")
        ),
        "pool": sa_exc.TimeoutError("QueuePool limit of size 5 overflow 10 reached"),
        "locked": sa_exc.OperationalError(
            "BEGIN", {}, sqlite3.OperationalError("database is locked")
        ),
        "bug": sa_exc.OperationalError(
            "SELECT x", {}, sqlite3.OperationalError("no such column: x")
        ),
    }

    def raise_it(kind: str) -> None:
        raise raised[kind]

    for prefix in ("", "/api/v1/x", "/feeds/x"):
        application.add_url_rule(
            f"{prefix}/raise/<kind>", f"raise{prefix.replace('/', '_')}", raise_it
        )
    return application


@pytest.mark.parametrize("kind", ["down", "cancelled", "pool", "locked"])
def test_an_unavailable_database_is_503_with_retry_after(raising_app: Flask, kind: str) -> None:
    client = raising_app.test_client()
    page = client.get(f"/raise/{kind}")
    html = page.get_data(as_text=True)
    assert page.status_code == 503 and page.headers["Retry-After"] == "10"
    assert "Service unavailable" in html and "please wait" in html.lower()
    assert '<link rel="stylesheet"' in html and "Traceback" not in html
    api = client.get(f"/api/v1/x/raise/{kind}")
    assert api.status_code == 503 and is_problem(api) and api.headers["Retry-After"] == "10"
    feed = client.get(f"/feeds/x/raise/{kind}")
    assert feed.status_code == 503 and feed.headers["Retry-After"] == "10"
    assert feed.content_type.startswith("text/plain")


def test_a_mistake_in_a_statement_stays_a_500(raising_app: Flask) -> None:
    response = raising_app.test_client().get("/raise/bug")
    assert response.status_code == 500 and "Retry-After" not in response.headers


def test_a_stale_write_anywhere_else_is_still_a_conflict(raising_app: Flask) -> None:
    client = raising_app.test_client()
    page = client.get("/raise/stale")
    assert page.status_code == 409 and "Someone else changed this" in page.get_data(as_text=True)
    api = client.get("/api/v1/x/raise/stale")
    assert api.status_code == 412 and is_problem(api)


def test_unavailable_is_told_from_a_mistake() -> None:
    refused = psycopg.OperationalError("connection failed")
    assert is_unavailable(sa_exc.OperationalError("s", {}, refused))
    assert is_unavailable(sa_exc.InterfaceError("s", {}, psycopg.InterfaceError("closed")))
    syntax = psycopg.errors.SyntaxError("syntax error")
    assert not is_unavailable(sa_exc.ProgrammingError("s", {}, syntax))
    # Rolled back by the server to break a deadlock or a serialization clash: the same request
    # succeeds when sent again, so it is "retry later", not a bug.
    deadlock = psycopg.errors.DeadlockDetected("deadlock detected")
    assert is_unavailable(sa_exc.OperationalError("s", {}, deadlock))
    serialization = psycopg.errors.SerializationFailure("could not serialize access")
    assert is_unavailable(sa_exc.OperationalError("s", {}, serialization))
    unique = psycopg.errors.UniqueViolation("duplicate key")
    assert not is_unavailable(sa_exc.IntegrityError("s", {}, unique))
    assert not is_unavailable(ValueError("nothing to do with the database"))


def test_a_real_deadlock_is_told_as_retry_later(app: Flask) -> None:
    """Two writers taking the same two rows in opposite orders: PostgreSQL rolls one back,
    and what reaches the app through SQLAlchemy is recognised as "try again"."""
    import threading

    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("SQLite has one writer at a time: it cannot deadlock")
        engine = db.engine
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE deadlock_probe (id int PRIMARY KEY, n int)")
            conn.exec_driver_sql("INSERT INTO deadlock_probe VALUES (1, 0), (2, 0)")
        both_hold_one = threading.Barrier(2)
        bump = sa.text("UPDATE deadlock_probe SET n = n + 1 WHERE id = :id")
        errors: list[BaseException] = []

        def writer(first: int, second: int) -> None:
            try:
                with engine.begin() as conn:
                    conn.execute(bump, {"id": first})
                    both_hold_one.wait(timeout=10)
                    conn.execute(bump, {"id": second})
            except sa_exc.DBAPIError as error:
                errors.append(error)

        threads = [threading.Thread(target=writer, args=pair) for pair in ((1, 2), (2, 1))]
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=30)
        finally:
            with engine.begin() as conn:
                conn.exec_driver_sql("DROP TABLE deadlock_probe")
    assert len(errors) == 1
    assert getattr(errors[0].orig, "sqlstate", None) == "40P01"
    assert is_unavailable(errors[0])
