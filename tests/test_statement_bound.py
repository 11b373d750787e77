"""The request bound on one statement (DB_STATEMENT_TIMEOUT) holds for ordinary requests and is
lifted for exports and migrations alone, on PostgreSQL (SQLite has no such bound).

A statement is made long by another connection holding a lock on ``reading_session`` (the
server's ``statement_timeout`` counts the wait for a lock): longer than the bound and than the
client-side watchdog's limit, so both would have to stand aside for the export to finish.
"""

from __future__ import annotations

import csv
import io
import threading
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask

from readerapp import create_app
from readerapp.dbguard import WATCHDOG_GRACE_SECONDS, lift_statement_bound, restore_statement_bound
from readerapp.extensions import db

from . import exports_fixture
from .conftest import TEST_DATABASE_URL, IsolatedClient
from .exports_fixture import Fixture
from .world import sign_in_as

pytestmark = pytest.mark.skipif(
    not TEST_DATABASE_URL.startswith("postgresql"),
    reason="statement_timeout is PostgreSQL's; SQLite has no bound on a statement",
)

BOUND_SECONDS = 0.3
# Past the server's bound and the watchdog's limit (the bound plus its grace).
HOLD_SECONDS = BOUND_SECONDS + WATCHDOG_GRACE_SECONDS + 0.7


@pytest.fixture(scope="module")
def bounded_app(
    app: Flask, app_config: dict[str, object], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Flask]:
    """The test database (migrated by ``app``) under a tiny statement bound."""
    instance = tmp_path_factory.mktemp("bounded-instance")
    application = create_app(
        dict(app_config) | {"DB_STATEMENT_TIMEOUT": BOUND_SECONDS}, instance_path=str(instance)
    )
    application.test_client_class = IsolatedClient
    yield application
    with application.app_context():
        db.engine.dispose()


class LockHolder:
    """Holds ``reading_session`` locked from another connection for HOLD_SECONDS."""

    def __init__(self, url: str) -> None:
        self.engine = sa.create_engine(url)
        self.locked = threading.Event()
        self.thread = threading.Thread(target=self._hold, daemon=True)

    def _hold(self) -> None:
        with self.engine.connect() as conn:
            conn.exec_driver_sql("SET statement_timeout = 0")
            conn.exec_driver_sql("LOCK TABLE reading_session IN ACCESS EXCLUSIVE MODE")
            self.locked.set()
            time.sleep(HOLD_SECONDS)
            conn.rollback()

    def __enter__(self) -> LockHolder:
        self.thread.start()
        assert self.locked.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self.thread.join()
        self.engine.dispose()


@pytest.fixture
def fx() -> Fixture:
    return exports_fixture.build()


def test_export_outlasts_the_bound_that_cancels_an_ordinary_request(
    bounded_app: Flask, fx: Fixture, factory, database_url: str
) -> None:
    manager = factory.user("manager")
    db.session.commit()
    client = bounded_app.test_client()
    with bounded_app.app_context():
        sign_in_as(client, manager)
        db.session.rollback()

    query = {"date_from": "2026-01-01", "date_to": "2026-03-31", "format": "csv"}
    with LockHolder(database_url):
        started = time.monotonic()
        page = client.get(f"/groups/{fx.group1.id}")
        waited = time.monotonic() - started
    # The page's statement waited for the lock and was cancelled at the bound: 503, at once.
    assert page.status_code == 503
    assert waited < HOLD_SECONDS

    with LockHolder(database_url):
        started = time.monotonic()
        export = client.get("/exports/attendance", query_string=query)
        body = export.get_data()
        waited = time.monotonic() - started
    assert export.status_code == 200
    assert waited >= HOLD_SECONDS  # it really waited past both bounds
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert len(rows) == 1 + 8  # the header and every row of the fixture

    # The export's connection went back to the pool with the bound restored.
    with bounded_app.app_context():
        timeout = db.session.execute(sa.text("SHOW statement_timeout")).scalar_one()
        assert timeout == f"{int(BOUND_SECONDS * 1000)}ms"
        db.session.rollback()


def test_the_bound_is_lifted_for_one_transaction_and_the_watchdog_stands_aside(
    bounded_app: Flask,
) -> None:
    """What migrations (migrations/env.py) and exports do with their connection."""
    with bounded_app.app_context():
        engine = db.engine
        with engine.connect() as conn:
            with pytest.raises(sa.exc.OperationalError, match="statement timeout"):
                conn.exec_driver_sql(f"SELECT pg_sleep({HOLD_SECONDS})")
            conn.rollback()

            driver = conn.connection.driver_connection
            lift_statement_bound(engine, driver)
            try:
                # Through SQLAlchemy, so through the watchdog's guard, past its limit.
                conn.exec_driver_sql(f"SELECT pg_sleep({HOLD_SECONDS})")
            finally:
                restore_statement_bound(engine, driver)
            conn.commit()

            # The next transaction on the same connection is bounded again.
            with pytest.raises(sa.exc.OperationalError, match="statement timeout"):
                conn.exec_driver_sql(f"SELECT pg_sleep({HOLD_SECONDS})")
            conn.rollback()


def test_bench_generate_loads_without_the_bound(
    bounded_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The synthetic bulk load is one long transaction of a command: a statement in it may
    outlast the bound (here a sleep stands in for a COPY of millions of rows)."""
    from readerapp.exports import synthetic

    def slow_generate(scale: int, seed: int) -> synthetic.Generated:
        db.session.execute(sa.text(f"SELECT pg_sleep({HOLD_SECONDS})"))
        return synthetic.Generated()

    monkeypatch.setattr(synthetic, "generate", slow_generate)
    with bounded_app.app_context():  # the command runs in the app context it finds
        result = bounded_app.test_cli_runner().invoke(args=["bench", "generate", "--scale", "1"])
    assert result.exit_code == 0, result.output
    assert "Generated 0 groups" in result.output
