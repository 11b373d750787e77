#!/usr/bin/env python3
"""How fast the site answers while its PostgreSQL is serving, stopped and frozen.

    .venv/bin/python bench/db_outage.py [--requests N] [--workers W]

Starts a private PostgreSQL cluster (initdb/pg_ctl as the ``postgres`` user, a free port) and
gunicorn with the production configuration and default settings, signs in, then for each state
sends N requests of each kind one at a time — a page (/sessions), an API list
(/api/v1/sessions) and /healthz — and prints the statuses seen with the median and the slowest
time of each. "frozen" is the postmaster and all its processes stopped with SIGSTOP.
"""

from __future__ import annotations

import argparse
import signal
import statistics
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import bench_app
from tests.web_processes import PG_BIN, Browser, Cluster, Gunicorn

PASSWORD = "bench password 1"  # noqa: S105 (a throwaway account in a throwaway cluster)


def _user(url: str, instance: str) -> tuple[str, str]:
    from readerapp.api.tokens import create_token
    from readerapp.extensions import db
    from readerapp.users.models import User

    app = bench_app(url, instance, migrate=True)
    with app.app_context():
        user = User(email="bench@example.org", display_name="Bench", role="manager")
        user.set_password(PASSWORD)
        db.session.add(user)
        db.session.flush()
        token = create_token(user).secret
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return "bench@example.org", token


def _measure(browser: Browser, token: str, n: int) -> dict[str, tuple[Counter[int], float, float]]:
    kinds = {
        "page": ("/sessions", {}),
        "api": ("/api/v1/sessions", {"Authorization": f"Bearer {token}"}),
        "healthz": ("/healthz", {}),
    }
    found = {}
    for kind, (path, headers) in kinds.items():
        answers = [browser.request(path, headers=headers) for _ in range(n)]
        seconds = [a.seconds for a in answers]
        found[kind] = (Counter(a.status for a in answers), statistics.median(seconds), max(seconds))
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if not PG_BIN:
        sys.exit("PostgreSQL server binaries (initdb, pg_ctl) not found")
    cluster = Cluster()
    server = None
    try:
        cluster.start()
        cluster.create_database()
        with tempfile.TemporaryDirectory() as tmp:
            email, token = _user(cluster.url, tmp)
            server = Gunicorn(cluster.url, Path(tmp) / "gunicorn.log", workers=args.workers)
            server.wait_until_serving()
            browser = Browser(server.base, timeout=120)
            browser.sign_in(email, PASSWORD)
            print(f"{'state':<9} {'kind':<8} {'statuses':<14} {'median_s':>8} {'max_s':>7}")
            for state in ("serving", "stopped", "restarted", "frozen", "resumed"):
                if state == "stopped":
                    cluster.stop()
                elif state == "restarted":
                    cluster.start()
                elif state == "frozen":
                    cluster.signal_all(signal.SIGSTOP)
                elif state == "resumed":
                    cluster.signal_all(signal.SIGCONT)
                for kind, (statuses, median, slowest) in _measure(
                    browser, token, args.requests
                ).items():
                    seen = ",".join(f"{s}×{c}" for s, c in sorted(statuses.items()))
                    print(f"{state:<9} {kind:<8} {seen:<14} {median:>8.2f} {slowest:>7.2f}")
    finally:
        if server is not None:
            server.stop()
        cluster.remove()


if __name__ == "__main__":
    main()
