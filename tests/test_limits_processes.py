"""Failed-attempt limits under the real production server (``gunicorn -c
python:readerapp.gunicorn_conf wsgi:app``): four worker processes sharing Redis, and the
``make run`` default of one threaded worker with memory://. Sign-in refuses the 11th failed
attempt, the token endpoints the 31st, exactly, whether attempts come one after another or all
at once; valid tokens are answered from the limited address; several workers with memory://
refuse to start.

The limits do not depend on the database: these tests run once, in the SQLite pass
(``database_neutral``). They need Redis at TEST_REDIS_URL (default
redis://127.0.0.1:6379): skipped without it, except in CI (CI set), where that fails.
"""

from __future__ import annotations

import http.client
import os
import re
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pytest
from flask import Flask

from readerapp.api.tokens import create_token as create_api_token
from readerapp.extensions import db
from readerapp.feeds.operations import create_token as create_feed_token

from .factories import PASSWORD, Factory
from .web_processes import process_env

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")
START_SECONDS = 60  # only a hang takes this long
EMAIL = "leader@example.org"

pytestmark = pytest.mark.database_neutral


@dataclass
class Secrets:
    feed: str
    api: str


@pytest.fixture
def secrets(factory: Factory) -> Secrets:
    factory.user(email=EMAIL)
    _, feed = create_feed_token("group", factory.group())
    api = create_api_token(factory.user("manager")).secret
    db.session.commit()
    return Secrets(feed, api)


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of this run's own in Redis; its keys are deleted afterwards."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"Redis at {REDIS_URL} does not answer: {exc}")
        pytest.skip(f"Redis at {REDIS_URL} does not answer")
    prefix = f"readerapp-test-{uuid.uuid4().hex[:12]}"
    yield prefix
    keys = list(client.scan_iter(match=f"*{prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()


class Server:
    """gunicorn with the production configuration, on a port the kernel picks."""

    def __init__(self, app: Flask, log: Path, workers: int, settings: dict[str, str]) -> None:
        self.log = log
        env = process_env(app.config["SQLALCHEMY_DATABASE_URI"], **settings)
        env |= {"BIND": "127.0.0.1:0", "WEB_CONCURRENCY": str(workers)}
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [str(BIN / "gunicorn"), "-c", "python:readerapp.gunicorn_conf", "wsgi:app"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.workers = workers
        self.port = 0

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            text = self.output()
            listening = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", text)
            if listening and text.count("Booting worker") >= self.workers:
                self.port = int(listening.group(1))
                if self.request("GET", "/healthz")[0] in (200, 503):
                    return
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        raise AssertionError(f"gunicorn did not start:\n{self.output()}")

    def request(
        self, method: str, path: str, headers: dict[str, str] | None = None, body: str = ""
    ) -> tuple[int, dict[str, str], str]:
        # A connection per request, so consecutive requests land on any of the workers.
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=START_SECONDS)
        try:
            connection.request(method, path, body=body or None, headers=headers or {})
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read().decode()
        finally:
            connection.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


@pytest.fixture
def serve(app: Flask, tmp_path: Path) -> Iterator[Callable[..., Server]]:
    started: list[Server] = []

    def start(workers: int, **settings: str) -> Server:
        server = Server(app, tmp_path / f"gunicorn-{len(started)}.log", workers, settings)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


class Client:
    """One client address; the server trusts one proxy, so X-Forwarded-For names it."""

    def __init__(self, server: Server, address: str) -> None:
        self.server = server
        self.forwarded = {"X-Forwarded-For": address}
        status, headers, page = server.request("GET", "/sign-in", self.forwarded)
        assert status == 200
        self.cookie = headers["Set-Cookie"].split(";", 1)[0]
        found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        assert found, "no CSRF token on the sign-in page"
        self.csrf = found.group(1)

    def sign_in(self, password: str) -> int:
        body = urlencode({"csrf_token": self.csrf, "email": EMAIL, "password": password})
        headers = self.forwarded | {
            "Cookie": self.cookie,
            "Content-Type": "application/x-www-form-urlencoded",
        }
        return self.server.request("POST", "/sign-in", headers, body)[0]

    def feed(self, token: str) -> int:
        return self.server.request("GET", f"/feeds/{token}.ics", self.forwarded)[0]

    def api(self, token: str) -> int:
        headers = self.forwarded | {"Authorization": f"Bearer {token}"}
        return self.server.request("GET", "/api/v1/groups", headers)[0]

    def guess(self, n: int) -> int:
        """A wrong token: a feed address or an API token, by turns."""
        return self.feed(f"guess-{n}") if n % 2 else self.api(f"rdr_guess-{n}")


def together(count: int, attempt: Callable[[int], int]) -> Counter[int]:
    """``count`` attempts at once; how many got each status."""
    with ThreadPoolExecutor(max_workers=count) as pool:
        return Counter(pool.map(attempt, range(count)))


def check_limits(server: Server, secrets: Secrets, *, one_by_one: bool) -> None:
    wrong = "not the password"
    guesser = Client(server, "198.51.100.10")
    if one_by_one:
        signins = [guesser.sign_in(wrong) for _ in range(11)]
        assert signins == [401] * 10 + [429], signins
    else:
        assert together(20, lambda _: guesser.sign_in(wrong)) == {401: 10, 429: 10}
    # Once limited, even the right password waits; another address signs in.
    assert guesser.sign_in(PASSWORD) == 429
    assert Client(server, "198.51.100.11").sign_in(PASSWORD) == 302

    if one_by_one:
        guesses = [guesser.guess(n) for n in range(31)]
        assert all(status in (401, 404) for status in guesses[:30]), guesses
        assert guesses[30] == 429, guesses
    else:
        answered = together(40, guesser.guess)
        assert answered[429] == 10 and answered[401] + answered[404] == 30, answered
    assert guesser.guess(99) == 429
    # Valid tokens from the limited address are answered, all of them.
    valid = Counter(guesser.feed(secrets.feed) for _ in range(8))
    valid.update(guesser.api(secrets.api) for _ in range(8))
    assert valid == {200: 16}, valid
    assert guesser.guess(100) == 429


def test_four_workers_sharing_redis_hold_the_limits_exactly(
    serve: Callable[..., Server], secrets: Secrets, redis_prefix: str
) -> None:
    server = serve(
        4,
        RATELIMIT_STORAGE_URI=REDIS_URL,
        RATELIMIT_KEY_PREFIX=redis_prefix,
        TRUSTED_PROXIES="1",
    )
    server.wait_ready()
    check_limits(server, secrets, one_by_one=True)


def test_four_workers_sharing_redis_hold_the_limits_under_concurrent_attempts(
    serve: Callable[..., Server], secrets: Secrets, redis_prefix: str
) -> None:
    server = serve(
        4,
        RATELIMIT_STORAGE_URI=REDIS_URL,
        RATELIMIT_KEY_PREFIX=redis_prefix,
        TRUSTED_PROXIES="1",
    )
    server.wait_ready()
    check_limits(server, secrets, one_by_one=False)


@pytest.mark.parametrize("one_by_one", [True, False], ids=["one-by-one", "concurrent"])
def test_the_make_run_default_holds_the_limits_exactly(
    serve: Callable[..., Server], secrets: Secrets, one_by_one: bool
) -> None:
    """One worker with threads and memory://: the counters are that process's, kept exact
    however many threads update them at once."""
    server = serve(1, TRUSTED_PROXIES="1")
    server.wait_ready()
    assert "Using worker: gthread" in server.output()
    check_limits(server, secrets, one_by_one=one_by_one)


def test_several_workers_with_memory_storage_refuse_to_start(
    serve: Callable[..., Server],
) -> None:
    server = serve(2)
    assert server.process.wait(timeout=START_SECONDS) != 0
    assert "would each count rate limits alone" in server.output()
    assert "Booting worker" not in server.output()
