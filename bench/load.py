"""Benchmark: sessions logged by many clients at once, under the production gunicorn.

Run: ``.venv/bin/python bench/load.py [--clients 16] [--seconds 10] [--rounds 2]`` (SQLite in a
fresh temporary database file); with ``DATABASE_URL=postgresql+psycopg://…`` also on
PostgreSQL, in a fresh database of its own that is dropped afterwards.

Two servers run side by side, each as production runs it,
``gunicorn -c python:readerapp.gunicorn_conf APP`` (``WEB_CONCURRENCY``, ``WEB_THREADS`` from the
environment, as in production), bound to a free loopback port:

- readerapp (``wsgi:app``), in its production settings: rate limits on, as configured by
  default. Each client signs in once (a successful sign-in is not counted by the sign-in limit)
  and has one API token and two sessions of its own group to log, and alternates: the API (GET
  the attendance, PUT it with its ETag as If-Match) and the web form (GET the log form for its
  CSRF token and version, POST it, expect the redirect to the session's page).
- the anchor (``bench/load_anchor.py``): a minimal Flask + SQLAlchemy app that only reads a
  session's version and writes the same two version-checked UPDATEs, one session per client.

Rounds alternate anchor and readerapp (``--seconds`` each) so both see the same machine. A
"write" is one read-then-write cycle; its latency is that of the write request. "errors" are
answers other than 2xx (and the form's redirect) except an expected 412/409, or failed
connections; "lost" counts sessions whose final row does not hold the last acknowledged write.
The last line is ``load: ratio=… p99_ms=… errors=… lost=…``: the worst database's ratio of
readerapp's writes per second to the anchor's, the worst p99 of readerapp's writes, and the sums.
"""

from __future__ import annotations

import argparse
import html
import http.client
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from common import ROOT, bench_app, insert_groups, machine

MAX_CLIENTS = 64
MAX_SECONDS = 120
MAX_ROUNDS = 5
START_TIMEOUT_S = 60
REQUEST_TIMEOUT_S = 60
PASSWORD = "load bench password"  # noqa: S105  (a throwaway account in a throwaway database)
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
HIDDEN_INPUT_RE = re.compile(r'<input [^>]*type="hidden"[^>]*>')
ATTRIBUTE_RE = re.compile(r'(name|value)="([^"]*)"')
# Headcounts within any group's usual range, never 0: a count the log form would ask about
# ("is that right?") is not what a leader sends twice a minute.
USUAL_PARTICIPANTS = 6


# --- the database ----------------------------------------------------------------------------


@dataclass
class Seat:
    """What one client owns: a leader account, its API token and three sessions."""

    email: str
    user_id: int
    token: str
    api_session: int
    web_session: int
    anchor_session: int


def seed(url: str, workdir: str, clients: int) -> list[Seat]:
    """Migrate the database and give each client a leader, a group and three past sessions."""
    from readerapp.api.tokens import create_token
    from readerapp.extensions import db
    from readerapp.models import Attendance, ReadingGroup, ReadingSession
    from tests.factories import Factory

    app = bench_app(url, workdir, migrate=True)
    with app.app_context():
        f = Factory()
        host = f.organisation(name="Load host")
        leaders = [
            f.user("reader_leader", email=f"load{i}@example.org", password=PASSWORD)
            for i in range(clients)
        ]
        group_ids = insert_groups([host], clients, lead_leader_id=lambda i: leaders[i].id)
        # Each group's usual most, as a manager sets it: the counts sent stay within it, so no
        # write is held back with "is that right?".
        db.session.execute(
            sa.update(ReadingGroup)
            .where(ReadingGroup.id.in_(group_ids))
            .values(expected_max=2 * USUAL_PARTICIPANTS)
        )
        start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(days=7)
        seats = []
        for i, (leader, gid) in enumerate(zip(leaders, group_ids, strict=True)):
            sessions = [
                ReadingSession(
                    group_id=gid,
                    start_dt=start - timedelta(days=k),
                    tz_name="Europe/London",
                    duration_minutes=90,
                    status="scheduled",
                    leader_id=leader.id,
                )
                for k in range(3)
            ]
            db.session.add_all(sessions)
            db.session.flush()
            # The anchor only updates: its attendance row exists from the start.
            db.session.add(Attendance(session_id=sessions[2].id, participants=0))
            seats.append(
                Seat(
                    email=leader.email,
                    user_id=leader.id,
                    token=create_token(leader, f"load {i}").secret,
                    api_session=sessions[0].id,
                    web_session=sessions[1].id,
                    anchor_session=sessions[2].id,
                )
            )
        db.session.commit()
        db.engine.dispose()
    return seats


def final_rows(url: str) -> dict[int, tuple[int | None, str | None]]:
    """Session id -> (participants, notes) as the database holds them at the end."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT s.id, a.participants, s.notes FROM reading_session s "
                    "LEFT JOIN attendance a ON a.session_id = s.id"
                )
            )
            return {row[0]: (row[1], row[2]) for row in rows}
    finally:
        engine.dispose()


def create_pg_database(base_url: str) -> tuple[str, str]:
    """A fresh database next to ``base_url``'s: (its URL, its name)."""
    from readerapp.config import database_uri

    url = sa.make_url(database_uri(base_url, Path(".")))
    name = f"readerapp_load_{os.getpid()}_{secrets.token_hex(3)}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False), name


def drop_pg_database(base_url: str, name: str) -> None:
    from readerapp.config import database_uri

    url = sa.make_url(database_uri(base_url, Path(".")))
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


# --- the servers -----------------------------------------------------------------------------


class Server:
    """One gunicorn, started as production starts it, on a free loopback port."""

    def __init__(self, app: str, url: str, workdir: str, label: str) -> None:
        self.label = label
        self.log_path = Path(workdir) / f"{label}.log"
        env = {
            **os.environ,
            "BIND": "127.0.0.1:0",  # the kernel picks a free port; gunicorn logs which
            "DATABASE_URL": url,
            "SECRET_KEY": secrets.token_hex(16),
            "READERAPP_ENVIRONMENT": "production",
            "PYTHONPATH": str(ROOT),
        }
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        self.process = subprocess.Popen(
            [gunicorn, "-c", "python:readerapp.gunicorn_conf", app],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=self.log_path.open("w"),
            start_new_session=True,
        )
        self.port = 0

    def wait_ready(self, probe: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.label} exited:\n{self.log_path.read_text()[-2000:]}")
            if not self.port:
                found = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", self.log())
                self.port = int(found.group(1)) if found else 0
            if self.port:
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                    conn.request("GET", probe)
                    if conn.getresponse().status < 500:
                        conn.close()
                        return
                except OSError:
                    pass
            time.sleep(0.2)
        raise RuntimeError(
            f"{self.label} did not answer within {START_TIMEOUT_S} s:\n{self.log()[-2000:]}"
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)  # our own process group only
                self.process.wait()


# --- the clients -----------------------------------------------------------------------------


class HttpError(Exception):
    pass


class Client:
    """One person's connection: keep-alive, cookies kept by hand (the session cookie is Secure
    in production, and a TLS proxy in front would pass it on)."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_S)
        self.cookies: dict[str, str] = {}

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, http.client.HTTPMessage, bytes, float]:
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        start = time.perf_counter()
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as exc:
            self.conn.close()
            raise HttpError(f"{method} {path}: {type(exc).__name__}: {exc}") from exc
        elapsed = (time.perf_counter() - start) * 1000
        for cookie in response.msg.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, response.msg, data, elapsed

    def close(self) -> None:
        self.conn.close()


@dataclass
class Tally:
    writes: int = 0
    conflicts: int = 0
    errors: list[str] = field(default_factory=list)
    write_ms: dict[str, list[float]] = field(default_factory=dict)
    # session id -> (participants, notes) of its last acknowledged write
    acked: dict[int, tuple[int, str]] = field(default_factory=dict)

    def merge(self, other: Tally) -> None:
        self.writes += other.writes
        self.conflicts += other.conflicts
        self.errors += other.errors
        for kind, samples in other.write_ms.items():
            self.write_ms.setdefault(kind, []).extend(samples)
        self.acked.update(other.acked)


def hidden_inputs(page: str) -> dict[str, str]:
    """The hidden inputs of a page (CSRF token, version, form token), as a browser sends them."""
    fields = {}
    for tag in HIDDEN_INPUT_RE.findall(page):
        attributes = dict(ATTRIBUTE_RE.findall(tag))
        if "name" in attributes:
            fields[attributes["name"]] = html.unescape(attributes.get("value", ""))
    return fields


def log_form_data(page: str, seat: Seat, participants: int, notes: str) -> dict[str, Any] | None:
    """What a leader sends from the log form: delivered, headcounts and a note, no register or
    texts; None when the page has no CSRF token or version."""
    form: dict[str, Any] = hidden_inputs(page)
    if "csrf_token" not in form or "version" not in form:
        return None
    form |= {
        "status": "delivered",
        "cancellation_reason": "",
        "participants": participants,
        "first_time": 0,
        "staff_carers": 1,
        "volunteers": 0,
        "new_codes": "",
        "notes": notes,
        "leader_id": seat.user_id,
    }
    for row in range(3):
        form |= {
            f"materials-{row}-title": "",
            f"materials-{row}-author": "",
            f"materials-{row}-kind": "short_story",
        }
    return form


class Worker:
    """A client's loop against one server; ``counter`` makes every write's values unique."""

    def __init__(self, seat: Seat, index: int, port: int, anchor: bool) -> None:
        self.seat, self.index, self.anchor = seat, index, anchor
        self.http = Client(port)
        self.counter = 0

    def _values(self, kind: str) -> tuple[int, str]:
        self.counter += 1
        return 1 + self.counter % USUAL_PARTICIPANTS, f"{kind} {self.index}.{self.counter}"

    def _check(self, tally: Tally, status: int, what: str, ok: tuple[int, ...]) -> bool:
        if status in ok:
            return True
        if status in (409, 412):
            tally.conflicts += 1
        else:
            tally.errors.append(f"{what}: {status}")
        return False

    def sign_in(self) -> None:
        status, _, page, _ = self.http.request("GET", "/sign-in")
        token = CSRF_RE.search(page.decode())
        if status != 200 or token is None:
            raise RuntimeError(f"sign-in page: {status}")
        form = {"csrf_token": token.group(1), "email": self.seat.email, "password": PASSWORD}
        status, _, _, _ = self.http.request(
            "POST",
            "/sign-in",
            urllib.parse.urlencode(form).encode(),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        if status not in (302, 303):
            raise RuntimeError(f"sign-in: {status}")

    def api_write(self, tally: Tally) -> None:
        sid = self.seat.api_session
        path = f"/api/v1/sessions/{sid}/attendance"
        auth = {"Authorization": f"Bearer {self.seat.token}"}
        status, headers, _, _ = self.http.request("GET", path, headers=auth)
        if not self._check(tally, status, "API GET", (200,)):
            return
        participants, notes = self._values("api")
        # Counts run past the groups' usual most: confirmed, as a leader would.
        body = json.dumps({"participants": participants, "notes": notes, "confirm": True}).encode()
        status, _, _, ms = self.http.request(
            "PUT",
            path,
            body,
            {**auth, "If-Match": headers["ETag"], "Content-Type": "application/json"},
        )
        if self._check(tally, status, "API PUT", (200,)):
            tally.writes += 1
            tally.write_ms.setdefault("api", []).append(ms)
            tally.acked[sid] = (participants, notes)

    def web_write(self, tally: Tally) -> None:
        sid = self.seat.web_session
        path = f"/sessions/{sid}/log"
        status, _, page, _ = self.http.request("GET", path)
        if not self._check(tally, status, "form GET", (200,)):
            return
        participants, notes = self._values("web")
        form = log_form_data(page.decode(), self.seat, participants, notes)
        if form is None:
            tally.errors.append("form GET: no CSRF token or version in the page")
            return
        status, _, _, ms = self.http.request(
            "POST",
            path,
            urllib.parse.urlencode(form).encode(),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        # Success is the redirect to the session's page (a 400 would be the form again).
        if self._check(tally, status, "form POST", (302, 303)):
            tally.writes += 1
            tally.write_ms.setdefault("web", []).append(ms)
            tally.acked[sid] = (participants, notes)

    def anchor_write(self, tally: Tally) -> None:
        sid = self.seat.anchor_session
        path = f"/sessions/{sid}"
        status, headers, _, _ = self.http.request("GET", path)
        if not self._check(tally, status, "anchor GET", (200,)):
            return
        participants, notes = self._values("anchor")
        # Counts run past the groups' usual most: confirmed, as a leader would.
        body = json.dumps({"participants": participants, "notes": notes, "confirm": True}).encode()
        status, _, _, ms = self.http.request(
            "PUT", path, body, {"If-Match": headers["ETag"], "Content-Type": "application/json"}
        )
        if self._check(tally, status, "anchor PUT", (200,)):
            tally.writes += 1
            tally.write_ms.setdefault("anchor", []).append(ms)
            tally.acked[sid] = (participants, notes)

    def one(self, tally: Tally) -> None:
        try:
            if self.anchor:
                self.anchor_write(tally)
            elif self.counter % 2 == 0:
                self.api_write(tally)
            else:
                self.web_write(tally)
        except HttpError as exc:
            tally.errors.append(str(exc))


def run_round(workers: list[Worker], seconds: float) -> tuple[Tally, float]:
    """Every worker writes for ``seconds`` from the same start: the tally and the time taken."""
    tallies = [Tally() for _ in workers]
    barrier = threading.Barrier(len(workers) + 1)
    bounds: dict[str, float] = {}

    def loop(worker: Worker, tally: Tally) -> None:
        # A connection left idle since the last round may have been closed by the server's
        # keep-alive timeout: start on a fresh one (it opens on the first request).
        worker.http.close()
        barrier.wait()
        while time.perf_counter() < bounds["end"]:
            worker.one(tally)

    threads = [
        threading.Thread(target=loop, args=pair, daemon=True)
        for pair in zip(workers, tallies, strict=True)
    ]
    for thread in threads:
        thread.start()
    bounds["start"] = time.perf_counter()
    bounds["end"] = bounds["start"] + seconds
    barrier.wait()
    for thread in threads:
        thread.join(timeout=seconds + REQUEST_TIMEOUT_S + 10)
    elapsed = time.perf_counter() - bounds["start"]
    total = Tally()
    for tally in tallies:
        total.merge(tally)
    return total, elapsed


def p(samples: list[float], q: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass
class Result:
    database: str
    anchor_rate: float
    rate: float
    p99: float
    errors: int
    lost: int
    line: str


def measure(database: str, url: str, workdir: str, args: argparse.Namespace) -> Result:
    seats = seed(url, workdir, args.clients)
    servers = [
        Server("wsgi:app", url, workdir, "readerapp"),
        Server("bench.load_anchor:app", url, workdir, "anchor"),
    ]
    try:
        servers[0].wait_ready("/sign-in")
        servers[1].wait_ready(f"/sessions/{seats[0].anchor_session}")
        app_workers = [Worker(s, i, servers[0].port, False) for i, s in enumerate(seats)]
        anchor_workers = [Worker(s, i, servers[1].port, True) for i, s in enumerate(seats)]
        for worker in app_workers:
            worker.sign_in()
        # Warm-up, not counted: every worker process imports and connects once.
        for workers in (app_workers, anchor_workers):
            run_round(workers, 1.0)
        app, anchor = Tally(), Tally()
        app_s = anchor_s = 0.0
        for _ in range(args.rounds):
            tally, elapsed = run_round(anchor_workers, args.seconds)
            anchor.merge(tally)
            anchor_s += elapsed
            tally, elapsed = run_round(app_workers, args.seconds)
            app.merge(tally)
            app_s += elapsed
        for worker in app_workers + anchor_workers:
            worker.http.close()
    finally:
        for server in servers:
            server.stop()
    rows = final_rows(url)
    lost = sum(1 for sid, values in (app.acked | anchor.acked).items() if rows.get(sid) != values)
    anchor_lost = sum(1 for sid, values in anchor.acked.items() if rows.get(sid) != values)
    all_ms = [ms for kind in ("api", "web") for ms in app.write_ms.get(kind, [])]
    rate, anchor_rate = app.writes / app_s, anchor.writes / anchor_s
    parts = [
        f"{database:10}",
        f"anchor {anchor_rate:6.1f} writes/s p50 {p(anchor.write_ms.get('anchor', []), 0.5):5.1f}"
        f" p99 {p(anchor.write_ms.get('anchor', []), 0.99):6.1f} ms",
        f"readerapp {rate:6.1f} writes/s p50 {p(all_ms, 0.5):5.1f} p99 {p(all_ms, 0.99):6.1f} ms",
        "("
        + ", ".join(
            f"{kind} {len(app.write_ms.get(kind, [])) / app_s:.1f}/s"
            f" p99 {p(app.write_ms.get(kind, []), 0.99):.1f} ms"
            for kind in ("api", "web")
        )
        + ")",
        f"ratio {rate / anchor_rate:.3f}",
        f"conflicts {app.conflicts + anchor.conflicts}",
        f"errors {len(app.errors)} (anchor {len(anchor.errors)})",
        f"lost {lost} (anchor {anchor_lost})",
    ]
    for message in sorted(set(app.errors + anchor.errors))[:10]:
        print(f"  error: {message}", file=sys.stderr)
    return Result(
        database=database,
        anchor_rate=anchor_rate,
        rate=rate,
        p99=p(all_ms, 0.99),
        errors=len(app.errors) + len(anchor.errors),
        lost=lost,
        line=" · ".join(parts),
    )


def gunicorn_settings() -> str:
    import readerapp.gunicorn_conf as conf

    return f"gunicorn {conf.worker_class} workers={conf.workers} threads={conf.threads}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if not 1 <= args.clients <= MAX_CLIENTS:
        parser.error(f"--clients: 1 to {MAX_CLIENTS}")
    if not 0 < args.seconds <= MAX_SECONDS:
        parser.error(f"--seconds: at most {MAX_SECONDS}")
    if not 1 <= args.rounds <= MAX_ROUNDS:
        parser.error(f"--rounds: 1 to {MAX_ROUNDS}")

    # Stopped from outside: still stop the servers and drop the database (the finally blocks).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"readerapp load bench · {args.clients} clients · {args.rounds} × {args.seconds:g} s "
        f"each · {gunicorn_settings()} · {machine()} · load average {load}",
        flush=True,
    )
    results = []
    with tempfile.TemporaryDirectory(prefix="readerapp-load-") as workdir:
        sqlite_dir = Path(workdir, "sqlite")
        sqlite_dir.mkdir()
        url = f"sqlite:///{sqlite_dir}/load.sqlite3"
        results.append(measure("sqlite", url, str(sqlite_dir), args))
        print(results[-1].line, flush=True)
        base = os.environ.get("DATABASE_URL")
        if base:
            pg_dir = Path(workdir, "postgresql")
            pg_dir.mkdir()
            url, name = create_pg_database(base)
            try:
                results.append(measure("postgresql", url, str(pg_dir), args))
            finally:
                drop_pg_database(base, name)
            print(results[-1].line, flush=True)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average at the end {load}")
    ratio = min(r.rate / r.anchor_rate for r in results)
    p99 = max(r.p99 for r in results)
    errors = sum(r.errors for r in results)
    lost = sum(r.lost for r in results)
    print(f"load: ratio={ratio:.2f} p99_ms={p99:.0f} errors={errors} lost={lost}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
