"""Failed-attempt limits in one process: a valid token is answered from an address limited for
guessing, 429s in each part's own style, client addresses behind trusted proxies (and forged
X-Forwarded-For ignored without them), and the settings that configure all this.

The same limits across real gunicorn workers, with Redis and with memory://, are in
tests/test_limits_processes.py."""

from __future__ import annotations

import itertools
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from readerapp import create_app
from readerapp.api.tokens import create_token as create_api_token
from readerapp.config import ConfigError, load
from readerapp.extensions import db
from readerapp.feeds.operations import create_token as create_feed_token
from readerapp.security import failure_limits

from .conftest import IsolatedClient
from .factories import PASSWORD, Factory

LIMIT = 3
# A fresh address per client: counters in the shared app outlive each test.
_addresses = (f"203.0.113.{n}" for n in itertools.count(100))


@pytest.fixture
def limited(app: Flask) -> Iterator[Flask]:
    app.config.update(RATELIMIT_ENABLED=True, TOKEN_RATE_LIMIT=f"{LIMIT} per minute")
    yield app
    app.config.update(RATELIMIT_ENABLED=False, TOKEN_RATE_LIMIT="30 per minute")


def client_at(app: Flask, address: str | None = None) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address or next(_addresses)
    return client


def secrets(factory: Factory) -> tuple[str, str]:
    """(a valid feed token, a valid API token)."""
    group = factory.group()
    _, feed = create_feed_token("group", group)
    api = create_api_token(factory.user("manager")).secret
    db.session.commit()
    return feed, api


def test_valid_tokens_are_answered_from_an_address_limited_for_guessing(
    limited: Flask, factory: Factory
) -> None:
    feed, api = secrets(factory)
    bearer = {"Authorization": f"Bearer {api}"}
    guesser = client_at(limited)
    assert [guesser.get(f"/feeds/guess{n}.ics").status_code for n in range(LIMIT)] == [404] * 3
    assert guesser.get("/feeds/guess.ics").status_code == 429
    assert guesser.get("/api/v1/groups", headers={"Authorization": "Bearer no"}).status_code == 429
    # The same address, with valid tokens: every one answered.
    for _ in range(4):
        assert guesser.get(f"/feeds/{feed}.ics").status_code == 200
        assert guesser.get("/api/v1/groups", headers=bearer).status_code == 200
    # ... and the guesser is still refused.
    assert guesser.get("/feeds/guess.ics").status_code == 429


def test_a_valid_token_asking_for_something_missing_is_not_a_failed_attempt(
    limited: Flask, factory: Factory
) -> None:
    _, api = secrets(factory)
    poller = client_at(limited)
    bearer = {"Authorization": f"Bearer {api}"}
    for _ in range(LIMIT + 2):
        assert poller.get("/api/v1/groups/999999", headers=bearer).status_code == 404
    assert poller.get("/feeds/guess.ics").status_code == 404


def test_a_refusal_speaks_each_parts_language(limited: Flask) -> None:
    guesser = client_at(limited)
    for n in range(LIMIT):
        guesser.get(f"/feeds/guess{n}.ics")
    feed = guesser.get("/feeds/guess.ics")
    assert feed.status_code == 429
    assert feed.content_type.startswith("text/plain")
    assert 0 < int(feed.headers["Retry-After"]) <= 60
    api = guesser.get("/api/v1/groups", headers={"Authorization": "Bearer no"})
    assert api.status_code == 429
    assert api.content_type == "application/problem+json"
    assert api.get_json()["status"] == 429
    assert "try again in" in api.get_json()["detail"]
    assert 0 < int(api.headers["Retry-After"]) <= 60
    assert api.headers["Content-Security-Policy"]


def sixteen_threads_count_five_each(address: str) -> list[bool]:
    limits = failure_limits()
    allowed: list[bool] = []
    start = threading.Barrier(16)

    def attempts() -> None:
        start.wait()
        for _ in range(5):
            allowed.append(limits.count("TOKEN_RATE_LIMIT", "token", address))

    threads = [threading.Thread(target=attempts) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return allowed


def test_memory_counts_stay_exact_under_many_threads(limited: Flask) -> None:
    """limits' own memory storage loses increments when threads switch often (and can raise
    from its expiry timer); the process-wide lock keeps every count."""
    limits = failure_limits()
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for trial in range(40):
            address = next(_addresses)
            allowed = sixteen_threads_count_five_each(address)
            assert allowed.count(True) == LIMIT, f"trial {trial}: {allowed.count(True)}"
            assert limits.storage.get(limits.key("token", address)) == 80, f"trial {trial}"
    finally:
        sys.setswitchinterval(previous)


def proxied_app(app_config: dict[str, object], tmp_path: Path, proxies: int) -> Flask:
    application = create_app(
        dict(app_config)
        | {
            "RATELIMIT_ENABLED": True,
            "TOKEN_RATE_LIMIT": f"{LIMIT} per minute",
            "SIGNIN_RATE_LIMIT": f"{LIMIT} per minute",
            "WTF_CSRF_ENABLED": False,
            "TRUSTED_PROXIES": proxies,
        },
        instance_path=str(tmp_path),
    )
    application.test_client_class = IsolatedClient
    return application


def test_two_clients_behind_one_trusted_proxy_are_counted_apart(
    app_config: dict[str, object], tmp_path: Path, factory: Factory
) -> None:
    factory.user(email="lee@example.org")
    db.session.commit()
    behind = proxied_app(app_config, tmp_path, proxies=1)
    proxy = client_at(behind, "10.0.0.2")
    first = {"X-Forwarded-For": "198.51.100.1", "X-Forwarded-Proto": "https"}
    second = {"X-Forwarded-For": "198.51.100.2", "X-Forwarded-Proto": "https"}
    # What the client wrote into X-Forwarded-For itself, before the proxy's entry, is not read.
    statuses = [
        proxy.get(
            f"/feeds/g{n}.ics", headers=first | {"X-Forwarded-For": f"192.0.2.{n}, 198.51.100.1"}
        ).status_code
        for n in range(4)
    ]
    assert statuses == [404, 404, 404, 429]
    assert proxy.get("/feeds/g.ics", headers=second).status_code == 404
    # Sign-in too: the first client's failures do not lock the second out.
    bad = {"email": "lee@example.org", "password": "wrong"}
    right = {"email": "lee@example.org", "password": PASSWORD}
    signins = [proxy.post("/sign-in", data=bad, headers=first).status_code for _ in range(4)]
    assert signins == [401, 401, 401, 429]
    assert proxy.post("/sign-in", data=right, headers=second).status_code == 302


def test_the_scheme_comes_from_the_trusted_proxy(
    app_config: dict[str, object], tmp_path: Path
) -> None:
    behind = proxied_app(app_config, tmp_path, proxies=1)
    seen: list[tuple[str, str | None]] = []

    @behind.get("/_scheme")
    def _scheme() -> str:
        from flask import request

        seen.append((request.scheme, request.remote_addr))
        return ""

    client_at(behind, "10.0.0.2").get(
        "/_scheme", headers={"X-Forwarded-For": "198.51.100.9", "X-Forwarded-Proto": "https"}
    )
    assert seen == [("https", "198.51.100.9")]


def test_without_trusted_proxies_a_forged_x_forwarded_for_is_ignored(
    app_config: dict[str, object], tmp_path: Path
) -> None:
    direct = proxied_app(app_config, tmp_path, proxies=0)
    guesser = client_at(direct, "192.0.2.50")
    statuses = [
        guesser.get(f"/feeds/g{n}.ics", headers={"X-Forwarded-For": f"198.51.100.{n}"}).status_code
        for n in range(5)
    ]
    assert statuses == [404, 404, 404, 429, 429]


def test_without_its_storage_the_site_answers_unlimited(
    app_config: dict[str, object], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Redis down: attempts are answered as if no limit applied, and a warning says so."""
    unreachable = create_app(
        dict(app_config)
        | {
            "RATELIMIT_ENABLED": True,
            "TOKEN_RATE_LIMIT": "1 per minute",
            "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:1",
        },
        instance_path=str(tmp_path),
    )
    unreachable.test_client_class = IsolatedClient
    guesser = client_at(unreachable)
    assert [guesser.get(f"/feeds/g{n}.ics").status_code for n in range(3)] == [404] * 3
    assert "rate-limit storage unavailable" in caplog.text


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"READERAPP_TRUSTED_PROXIES": "-1"}, "TRUSTED_PROXIES"),
        ({"READERAPP_TRUSTED_PROXIES": "one"}, "READERAPP_TRUSTED_PROXIES"),
        ({"READERAPP_RATELIMIT_STORAGE_URI": "memcached://127.0.0.1"}, "RATELIMIT_STORAGE_URI"),
        ({"READERAPP_SIGNIN_RATE_LIMIT": "ten a minute"}, "SIGNIN_RATE_LIMIT"),
        ({"READERAPP_TOKEN_RATE_LIMIT": ""}, "TOKEN_RATE_LIMIT"),
    ],
)
def test_a_wrong_limit_or_proxy_setting_stops_the_start(
    tmp_path: Path, environ: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        load(tmp_path, {"SECRET_KEY": "x"}, environ)


def test_the_limit_settings_defaults(tmp_path: Path) -> None:
    config = load(tmp_path, {"SECRET_KEY": "x"}, {})
    assert config["TRUSTED_PROXIES"] == 0
    assert config["RATELIMIT_STORAGE_URI"] == "memory://"
    redis = load(tmp_path, {"SECRET_KEY": "x"}, {"READERAPP_RATELIMIT_STORAGE_URI": "redis://h"})
    # A frozen Redis answers within seconds rather than holding the request.
    assert redis["RATELIMIT_STORAGE_OPTIONS"]["socket_timeout"] > 0
