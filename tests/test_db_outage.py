"""A private PostgreSQL cluster, started by the test, under real gunicorn: stopped, the site
answers 503 (a friendly page, problem+json with Retry-After, /healthz); frozen, it answers 503
within the bound and /healthz within 2 seconds; back, the same processes answer 200 again.

These tests bring their own database, so they run once: in the SQLite run of the suite (the
PostgreSQL run, with TEST_DATABASE_URL set, skips them).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from readerapp import create_app
from readerapp.api.tokens import create_token
from readerapp.extensions import db

from .factories import PASSWORD, Factory
from .web_processes import PG_BIN, Answer, Browser, Cluster, Gunicorn

# The defaults promise every request an answer within 10 seconds, whatever the database does.
REQUEST_BOUND_SECONDS = 10.0
HEALTHZ_BOUND_SECONDS = 2.0

pytestmark = [
    pytest.mark.skipif(
        bool(os.environ.get("TEST_DATABASE_URL")),
        reason="brings its own PostgreSQL cluster: runs once, in the run without TEST_DATABASE_URL",
    ),
    pytest.mark.skipif(not PG_BIN, reason="PostgreSQL server binaries (initdb, pg_ctl) not found"),
]


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    pg = Cluster()
    try:
        pg.start()
        pg.create_database()
        yield pg
    finally:
        pg.remove()


def _prepare(url: str, tmp_path: Path) -> tuple[str, str]:
    """Migrate the private database and add a manager: (their email, their API token)."""
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": url},
        instance_path=str(tmp_path),
    )
    with app.app_context():
        from flask_migrate import upgrade

        upgrade(revision="heads")
        manager = Factory().user("manager")
        email, token = manager.email, create_token(manager).secret
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return email, token


@pytest.fixture
def site(cluster: Cluster, tmp_path: Path) -> Iterator[tuple[Gunicorn, Browser, str]]:
    email, token = _prepare(cluster.url, tmp_path)
    server = Gunicorn(cluster.url, tmp_path / "gunicorn.log", workers=2)
    try:
        server.wait_until_serving()
        browser = Browser(server.base, timeout=60)
        browser.sign_in(email, PASSWORD)
        yield server, browser, token
    finally:
        server.stop()


def _all_serving(browser: Browser, token: str) -> bool:
    return (
        browser.request("/sessions").status == 200
        and browser.request("/api/v1/sessions", headers={"Authorization": f"Bearer {token}"}).status
        == 200
        and browser.request("/healthz").status == 200
    )


def _wait_serving(browser: Browser, token: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _all_serving(browser, token):
            return
        time.sleep(0.5)
    raise AssertionError("the site did not recover after the database came back")


def _assert_unavailable(browser: Browser, token: str, bound: float) -> list[float]:
    """Page, API and health check all say 503 properly, each within ``bound`` seconds."""
    page = browser.request("/sessions")
    assert page.status == 503, page.text[:500]
    assert "Service unavailable" in page.text and "try again" in page.text
    assert '<link rel="stylesheet"' in page.text and int(page.headers["Retry-After"]) > 0
    api = browser.request("/api/v1/sessions", headers={"Authorization": f"Bearer {token}"})
    assert api.status == 503 and api.headers["Content-Type"] == "application/problem+json"
    assert int(api.headers["Retry-After"]) > 0
    health = browser.request("/healthz")
    assert health.status == 503 and '"unavailable"' in health.text
    assert health.seconds < HEALTHZ_BOUND_SECONDS, f"/healthz took {health.seconds:.1f}s"
    for answer in (page, api):
        assert answer.seconds < bound, f"took {answer.seconds:.1f}s"
    return [page.seconds, api.seconds, health.seconds]


def test_stopped_database_answers_503_and_the_same_processes_recover(
    site: tuple[Gunicorn, Browser, str], cluster: Cluster
) -> None:
    server, browser, token = site
    assert _all_serving(browser, token)
    cluster.stop()
    _assert_unavailable(browser, token, REQUEST_BOUND_SECONDS)
    cluster.start()
    _wait_serving(browser, token)
    assert server.process.poll() is None
    assert "Traceback" not in server.log.read_text(errors="replace")


def test_frozen_database_answers_503_within_the_bound_and_recovers(
    site: tuple[Gunicorn, Browser, str], cluster: Cluster
) -> None:
    server, browser, token = site
    # Warm every worker's pool, so the freeze catches open connections, not only new ones.
    for _ in range(6):
        assert _all_serving(browser, token)
    cluster.signal_all(signal.SIGSTOP)
    try:
        timings = _assert_unavailable(browser, token, REQUEST_BOUND_SECONDS)
        # Several at once, as real traffic would be: none waits past the bound.
        answers: list[Answer] = []
        threads = [
            threading.Thread(target=lambda: answers.append(browser.request("/sessions")))
            for _ in range(6)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert [a.status for a in answers] == [503] * 6
        assert max(a.seconds for a in answers) < REQUEST_BOUND_SECONDS
        health = browser.request("/healthz")
        assert health.status == 503 and health.seconds < HEALTHZ_BOUND_SECONDS
    finally:
        cluster.signal_all(signal.SIGCONT)
    page_s, api_s, health_s = timings
    slowest = max(a.seconds for a in answers)
    print(
        f"frozen: page {page_s:.2f}s, api {api_s:.2f}s, healthz {health_s:.2f}s; "
        f"concurrent pages max {slowest:.2f}s"
    )
    _wait_serving(browser, token)
    assert server.process.poll() is None
