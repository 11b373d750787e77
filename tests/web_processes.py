"""Real processes for tests and benchmarks: gunicorn serving the app (the production
configuration, readerapp/gunicorn_conf.py), a private PostgreSQL cluster, and a small
cookie-keeping HTTP client that signs in through the real form."""

from __future__ import annotations

import contextlib
import glob
import http.cookiejar
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import pyotp

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PG_BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
TWO_FACTOR_SET_UP = "/sign-in/set-up-two-factor"
TOTP_SECRET = re.compile(r'id="totp-secret">([A-Z2-7]+)<')


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def process_env(database_url: str, **settings: str) -> dict[str, str]:
    """The environment of a readerapp process a test starts: this process's own minus any
    READERAPP_ setting, the test's database, no mail server, and ``settings`` (by name, without
    the READERAPP_ prefix)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("READERAPP_")}
    env.update(
        DATABASE_URL=database_url,
        SECRET_KEY="test-secret-key",
        READERAPP_ENVIRONMENT="testing",
        READERAPP_MAIL_HOST="",
    )
    env.update({f"READERAPP_{name}": value for name, value in settings.items()})
    return env


def _shared_limits() -> dict[str, str]:
    return {
        "RATELIMIT_STORAGE_URI": os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379"),
        "RATELIMIT_KEY_PREFIX": f"readerapp-test-{uuid.uuid4().hex[:12]}",
    }


def shared_limits_env() -> dict[str, str]:
    """As in production, several workers share their limit counters in Redis (gunicorn refuses
    several workers counting alone), here under a key prefix of this server's own."""
    return {f"READERAPP_{name}": value for name, value in _shared_limits().items()}


class Gunicorn:
    """``gunicorn -c python:readerapp.gunicorn_conf wsgi:app`` on a free port."""

    def __init__(self, database_url: str, log: Path, workers: int = 4, **settings: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        # development: session cookies without the Secure flag, since this is plain HTTP
        env = process_env(
            database_url,
            ENVIRONMENT="development",
            SIGNIN_RATE_LIMIT="1000 per minute",
            **{**_shared_limits(), **settings},
        )
        env.update(BIND=f"127.0.0.1:{self.port}", WEB_CONCURRENCY=str(workers))
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [str(BIN / "gunicorn"), "-c", "python:readerapp.gunicorn_conf", "wsgi:app"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def wait_until_serving(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"gunicorn exited:\n{self.log.read_text(errors='replace')}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        raise AssertionError("gunicorn did not start listening")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


@dataclass
class Answer:
    status: int
    text: str
    headers: dict[str, str]
    seconds: float


class Browser:
    """One person's browser: keeps cookies, never follows redirects (the 302 is the answer)."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    def __init__(self, base: str, timeout: float = 60) -> None:
        self.base = base
        self.timeout = timeout
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), self._NoRedirect()
        )

    def request(
        self,
        path: str,
        data: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        # Always http://127.0.0.1:<port>: the server this test started.
        request = urllib.request.Request(self.base + path, data=body, headers=headers or {})  # noqa: S310
        started = time.monotonic()
        try:
            with self.opener.open(request, timeout=self.timeout) as response:
                status, raw, found = response.status, response.read(), dict(response.headers)
        except urllib.error.HTTPError as error:
            status, raw, found = error.code, error.read(), dict(error.headers)
        return Answer(status, raw.decode(errors="replace"), found, time.monotonic() - started)

    def csrf_token(self, path: str) -> tuple[str, str]:
        """The form's CSRF token, and the page."""
        page = self.request(path)
        found = CSRF.search(page.text)
        assert page.status == 200 and found, f"{path}: {page.status} {page.text[:300]}"
        return found.group(1), page.text

    def sign_in(self, email: str, password: str) -> None:
        token, _ = self.csrf_token("/sign-in")
        answer = self.request(
            "/sign-in", {"csrf_token": token, "email": email, "password": password}
        )
        assert answer.status == 302, f"sign-in: {answer.status} {answer.text[:300]}"
        if answer.headers.get("Location", "").endswith(TWO_FACTOR_SET_UP):
            # Staff set up two-factor sign-in at their first sign-in, as a person would.
            token, page = self.csrf_token(TWO_FACTOR_SET_UP)
            secret = TOTP_SECRET.search(page)
            assert secret, page[:300]
            code = pyotp.TOTP(secret.group(1)).now()
            done = self.request(TWO_FACTOR_SET_UP, {"csrf_token": token, "code": code})
            assert done.status == 200, f"two-factor set-up: {done.status} {done.text[:300]}"


class Cluster:
    """initdb + pg_ctl as the ``postgres`` user, in a temporary directory, on a free port."""

    def __init__(self) -> None:
        self.bin = Path(PG_BIN[-1]).parent
        self.user = "postgres" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
        self.dir = Path(tempfile.mkdtemp(prefix="readerapp-pg-"))
        if os.geteuid() == 0:
            account = pwd.getpwnam(self.user)
            os.chown(self.dir, account.pw_uid, account.pw_gid)
        self.data = self.dir / "data"
        self.port = free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/readerapp"
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bin / tool), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", self.user, "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} -c fsync=off "
            "-c max_connections=60"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.dir / "log"),
            "-w",
            "start",
        )

    def create_database(self) -> None:
        import psycopg

        dsn = f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres"
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("CREATE DATABASE readerapp")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def pids(self) -> list[int]:
        """The postmaster and every process it started (its backends and helpers)."""
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        children = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == postmaster:
                    children.append(int(entry.name))
        return [postmaster, *children]

    def signal_all(self, signum: int) -> None:
        for pid in self.pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)

    def remove(self) -> None:
        try:
            self.signal_all(signal.SIGCONT)
            self.stop()
        except (OSError, subprocess.SubprocessError, ValueError):
            pass
        shutil.rmtree(self.dir, ignore_errors=True)
