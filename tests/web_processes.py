"""Real gunicorn serving the app (the production configuration, readerapp/gunicorn_conf.py) and
a small cookie-keeping HTTP client that signs in through the real form."""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Gunicorn:
    """``gunicorn -c python:readerapp.gunicorn_conf wsgi:app`` on a free port."""

    def __init__(self, database_url: str, log: Path, workers: int = 4, **settings: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("READERAPP_")}
        env.update(
            DATABASE_URL=database_url,
            SECRET_KEY="test-secret-key",
            BIND=f"127.0.0.1:{self.port}",
            WEB_CONCURRENCY=str(workers),
            # development: session cookies without the Secure flag, since this is plain HTTP
            READERAPP_ENVIRONMENT="development",
            READERAPP_MAIL_HOST="",
            READERAPP_SIGNIN_RATE_LIMIT="1000 per minute",
            **{f"READERAPP_{k}": v for k, v in settings.items()},
        )
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
