"""Security headers on every route, HSTS only in production, templates the CSP will not break,
failed-token limits, and log lines scrubbed of secrets."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from flask import Flask

from readerapp import create_app
from readerapp.extensions import db
from readerapp.security import CONTENT_SECURITY_POLICY, scrub

from .audit_support import deferred_reads, live_logs  # noqa: F401
from .test_routes_every_role import ROUTES
from .world import build_world, sign_in_as

EXPECTED = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
TEMPLATE_ROOT = Path(__file__).resolve().parent.parent / "readerapp"


def _check(response, where: str) -> list[str]:
    problems = []
    for name, value in EXPECTED.items():
        if response.headers.get(name) != value:
            problems.append(f"{where}: {name} is {response.headers.get(name)!r}")
    if "Strict-Transport-Security" in response.headers:
        problems.append(f"{where}: HSTS outside production")
    return problems


def test_the_policy_allows_no_inline_script_and_no_framing() -> None:
    directives = dict(d.strip().split(" ", 1) for d in CONTENT_SECURITY_POLICY.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY


@pytest.mark.usefixtures("deferred_reads")
def test_headers_on_every_route(app: Flask) -> None:
    """Every route of the route tables (so every route in the URL map), as three roles."""
    world = build_world()
    problems = []
    for route in ROUTES:
        for role in ("anonymous", "admin", "partner"):
            client = app.test_client()
            sign_in_as(client, world.user_for(role))
            url = route.url(world)
            data = route.data(world)
            db.session.commit()
            if route.method == "GET":
                response = client.get(url)
            else:
                # No CSRF token: refused, and the refusal carries the headers too.
                response = client.open(url, method=route.method, data=data)
            problems += _check(response, f"{role} {route.method} {url}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    "url", ["/no-such-page", "/feeds/not-a-token.ics", "/api/v1/no-such-thing", "/static/none.css"]
)
def test_headers_on_error_responses(app: Flask, url: str) -> None:
    response = app.test_client().get(url)
    assert response.status_code in (401, 404)
    assert not _check(response, url)


@pytest.mark.usefixtures("deferred_reads")
def test_signed_in_pages_are_not_cached(app: Flask) -> None:
    world = build_world()
    client = app.test_client()
    sign_in_as(client, world.admin)
    db.session.commit()
    assert client.get("/account").headers["Cache-Control"] == "no-store"


def test_hsts_only_in_production(app_config: dict[str, object], tmp_path: Path) -> None:
    production = create_app(dict(app_config) | {"ENVIRONMENT": "production"}, str(tmp_path))
    with production.app_context():
        response = production.test_client().get("/healthz")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    development = create_app(dict(app_config) | {"ENVIRONMENT": "development"}, str(tmp_path))
    with development.app_context():
        response = development.test_client().get("/healthz")
    assert "Strict-Transport-Security" not in response.headers


def test_templates_have_nothing_the_policy_would_block() -> None:
    """Inline scripts, event-handler attributes and inline styles are refused by the CSP."""
    inline = re.compile(
        r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=|\sstyle\s*=|<style\b", re.IGNORECASE
    )
    offenders = []
    for path in TEMPLATE_ROOT.rglob("*.html"):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if inline.search(line):
                offenders.append(f"{path.relative_to(TEMPLATE_ROOT)}:{number}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


def test_failed_token_attempts_are_limited_per_address(app: Flask) -> None:
    app.config.update(RATELIMIT_ENABLED=True, TOKEN_RATE_LIMIT="3 per minute")
    try:
        guesser = app.test_client()
        guesser.environ_base["REMOTE_ADDR"] = "203.0.113.77"
        statuses = [guesser.get(f"/feeds/guess{n}.ics").status_code for n in range(4)]
        assert statuses == [404, 404, 404, 429]
        refused = guesser.get("/api/v1/groups", headers={"Authorization": "Bearer nope"})
        assert refused.status_code == 429
        someone_else = app.test_client()
        someone_else.environ_base["REMOTE_ADDR"] = "203.0.113.78"
        assert someone_else.get("/feeds/guess.ics").status_code == 404
        assert someone_else.get("/healthz").status_code in (200, 503)
    finally:
        app.config.update(RATELIMIT_ENABLED=False, TOKEN_RATE_LIMIT="30 per minute")


def test_scrub_removes_tokens_and_access_log_query_strings() -> None:
    line = '127.0.0.1 - - [29/Nov/2026] "GET /feeds/s3cr3t-T0ken_x.ics?x=1 HTTP/1.1" 200 -'
    assert "s3cr3t" not in scrub(line)
    assert "/feeds/[redacted]" in scrub(line)
    search = '10.0.0.1 - - "GET /participants?code=ZQF-7731 HTTP/1.1" 200 -'
    assert "ZQF" not in scrub(search, access_log=True)
    assert "/participants?[redacted] HTTP/1.1" in scrub(search, access_log=True)
    assert "abc.def" not in scrub("Authorization: Bearer abc.def")
    assert "hunter2" not in scrub("login with password=hunter2&x=1")
    assert scrub("nothing secret here") == "nothing secret here"


@pytest.mark.usefixtures("live_logs")
def test_log_records_are_scrubbed_whatever_the_logger(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    logging.getLogger("readerapp.feeds").warning("feed %s failed", "/feeds/abcdef123.ics")
    logging.getLogger("werkzeug").info('"GET /participants?code=ZQF HTTP/1.1" 200')
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "abcdef123" not in text and "ZQF" not in text
    assert "/feeds/[redacted]" in text
