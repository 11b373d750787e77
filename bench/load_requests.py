"""Benchmark: what each request of ``bench/load.py`` costs on its own, in process.

Run: ``.venv/bin/python bench/load_requests.py [--runs 300] [--profile api_put,form_get]``
(SQLite in a temporary directory; ``DATABASE_URL=postgresql+psycopg://…`` for PostgreSQL, in a
fresh database of its own that is dropped afterwards).

One leader with its API token and its sessions, as ``bench/load.py`` seeds them, in readerapp's
production settings. Through the test client, in turn: the API attendance GET and PUT
(If-Match), the log form GET and POST (CSRF), ``--runs`` times after a warm-up. For each: the
median and minimum milliseconds (wall clock, and CPU time of the thread, which other work on
the machine moves less) and the SQL statements it sends. ``--profile`` prints cProfile's
cumulative top for the requests named. Where ``bench/load.py`` says how many writes a second a
worker sustains, this says where a request's time goes.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from common import machine
from load import (
    CSRF_RE,
    USUAL_PARTICIPANTS,
    create_pg_database,
    drop_pg_database,
    log_form_data,
    seed,
)

REQUESTS = ("api_get", "api_put", "form_get", "form_post")


def measure(url: str, workdir: str, runs: int, profile: set[str]) -> None:
    from readerapp import create_app

    seat = seed(url, workdir, 1)[0]
    app = create_app(
        # Request log lines are left out: a thousand lines on the terminal would be measured too.
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "b" * 32,
            "ENVIRONMENT": "production",
            "LOG_LEVEL": "WARNING",
        },
        instance_path=workdir,
    )
    client = app.test_client()
    # Production cookies are Secure, and CSRF checks the Referer of an HTTPS request.
    base = "https://localhost"
    client.environ_base["HTTP_REFERER"] = f"{base}/"
    page = client.get("/sign-in", base_url=base).text
    signed_in = client.post(
        "/sign-in",
        base_url=base,
        data={
            "csrf_token": CSRF_RE.search(page).group(1),
            "email": seat.email,
            "password": "load bench password",
        },  # type: ignore[union-attr]
    )
    if signed_in.status_code not in (302, 303):
        raise RuntimeError(f"sign-in: {signed_in.status_code}")
    auth = {"Authorization": f"Bearer {seat.token}"}
    api_path = f"/api/v1/sessions/{seat.api_session}/attendance"
    form_path = f"/sessions/{seat.web_session}/log"
    state: dict[str, Any] = {"n": 0}

    def expect(response: Any, *statuses: int) -> Any:
        if response.status_code not in statuses:
            raise RuntimeError(
                f"{response.request.path}: {response.status_code} {response.text[:300]}"
            )
        return response

    def api_get() -> None:
        state["etag"] = expect(client.get(api_path, headers=auth, base_url=base), 200).headers[
            "ETag"
        ]

    def api_put() -> None:
        state["n"] += 1
        body = {"participants": 1 + state["n"] % USUAL_PARTICIPANTS, "notes": f"api {state['n']}"}
        headers = {**auth, "If-Match": state["etag"], "Content-Type": "application/json"}
        expect(client.put(api_path, data=json.dumps(body), headers=headers, base_url=base), 200)

    def form_get() -> None:
        state["page"] = expect(client.get(form_path, base_url=base), 200).text

    def form_post() -> None:
        state["n"] += 1
        data = log_form_data(
            state["page"], seat, 1 + state["n"] % USUAL_PARTICIPANTS, f"web {state['n']}"
        )
        expect(client.post(form_path, data=data, base_url=base), 302, 303)

    steps: dict[str, Callable[[], None]] = {
        "api_get": api_get,
        "api_put": api_put,
        "form_get": form_get,
        "form_post": form_post,
    }
    statements: dict[str, int] = {}
    counting: list[str] = []

    def count(*_: Any) -> None:
        if counting:
            statements[counting[0]] = statements.get(counting[0], 0) + 1

    with app.app_context():
        from readerapp.extensions import db

        sa.event.listen(db.engine, "before_cursor_execute", count)
    for _ in range(20):  # warm-up: caches, pools, compiled statements
        for step in steps.values():
            step()
    for name, step in steps.items():
        counting[:] = [name]
        step()
    counting.clear()

    wall: dict[str, list[float]] = {name: [] for name in steps}
    cpu: dict[str, list[float]] = {name: [] for name in steps}
    profiles = {name: cProfile.Profile() for name in profile}
    for _ in range(runs):
        for name, step in steps.items():
            profiler = profiles.get(name)
            started, started_cpu = time.perf_counter(), time.thread_time()
            if profiler is not None:
                profiler.enable()
            step()
            if profiler is not None:
                profiler.disable()
            cpu[name].append((time.thread_time() - started_cpu) * 1000)
            wall[name].append((time.perf_counter() - started) * 1000)
    for name in steps:
        median, fastest = statistics.median(wall[name]), min(wall[name])
        print(
            f"  {name:9} wall median {median:6.2f} ms (min {fastest:6.2f})"
            f" · cpu median {statistics.median(cpu[name]):6.2f} ms"
            f" · {statements[name]:2d} statements"
        )
    total = sum(statistics.median(wall[name]) for name in steps)
    print(f"  the four: {total:.1f} ms wall (medians)")
    for name, profiler in profiles.items():
        print(f"--- cProfile: {name}")
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--profile", default="", help="comma-separated: " + ", ".join(REQUESTS))
    args = parser.parse_args()
    profile = {name for name in args.profile.split(",") if name}
    if unknown := profile - set(REQUESTS):
        parser.error(f"--profile: unknown {', '.join(sorted(unknown))}")
    if not 1 <= args.runs <= 10_000:
        parser.error("--runs: 1 to 10000")
    print(
        f"readerapp per-request costs · {args.runs} runs · {machine()} · load average "
        + " ".join(f"{x:.2f}" for x in os.getloadavg()),
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="readerapp-requests-") as workdir:
        base = os.environ.get("DATABASE_URL")
        if base:
            url, name = create_pg_database(base)
            try:
                print("postgresql")
                measure(url, workdir, args.runs, profile)
            finally:
                drop_pg_database(base, name)
        else:
            print("sqlite")
            measure(f"sqlite:///{Path(workdir)}/requests.sqlite3", workdir, args.runs, profile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
