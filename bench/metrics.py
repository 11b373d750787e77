"""Benchmark: what counting, timing and logging each request costs, and how long a scrape takes.

Run: ``.venv/bin/python bench/metrics.py`` (SQLite in a temporary directory; set
``DATABASE_URL=postgresql+psycopg://…`` for PostgreSQL: point it at a scratch database, which
is migrated first).

prometheus-client runs in multiprocess mode (files in a temporary PROMETHEUS_MULTIPROC_DIR), as
under gunicorn, and lines are logged as JSON (to /dev/null).

1. ``GET /healthz`` through the test client with the request hooks on (metrics and the request
   log line), with the log line only, and with neither, alternating rounds in one process: the
   differences are their costs.
2. ``GET /metrics`` with the series of every endpoint of the app answered with two statuses (the
   worst case of a long-running worker), medians of several scrapes, with its size.
"""

from __future__ import annotations

import logging
import os
import statistics
import sys
import tempfile
import time
from typing import Any

ROUNDS = 7
REQUESTS_PER_ROUND = 300
SCRAPES = 30
TOKEN = "bench-metrics-token-0123456789"  # noqa: S105  (a made-up token for this run)


def _timed_requests(client: Any, count: int) -> float:
    start = time.perf_counter()
    for _ in range(count):
        client.get("/healthz")
    return (time.perf_counter() - start) * 1000 / count


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        # Before prometheus-client is first imported: it picks its mode then.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = os.path.join(tmp, "prometheus")
        os.mkdir(os.environ["PROMETHEUS_MULTIPROC_DIR"])
        from common import bench_app, machine, sqlite_app

        config = {"METRICS_TOKEN": TOKEN, "LOG_FORMAT": "json"}
        url = os.environ.get("DATABASE_URL")
        app = bench_app(url, tmp, migrate=True, **config) if url else sqlite_app(tmp, **config)
        for handler in logging.getLogger().handlers:
            if isinstance(handler, logging.StreamHandler):
                handler.setStream(open(os.devnull, "w"))  # noqa: SIM115
        logging.getLogger("readerapp").setLevel(logging.INFO)
        logging.getLogger("readerapp.request").disabled = False

        hooks = {
            "before": [
                f for f in app.before_request_funcs[None] if f.__name__ == "_request_started"
            ],
            "after": [
                f
                for f in app.after_request_funcs[None]
                if f.__name__ in {"_count_request", "_log_request"}
            ],
            "teardown": [
                f for f in app.teardown_request_funcs[None] if f.__name__ == "_request_finished"
            ],
        }
        lists = {
            "before": app.before_request_funcs[None],
            "after": app.after_request_funcs[None],
            "teardown": app.teardown_request_funcs[None],
        }
        assert all(hooks.values()), hooks

        def switch(wanted: bool, log_only: bool = False) -> None:
            for kind, functions in hooks.items():
                for function in functions:
                    on = wanted or (log_only and function.__name__ == "_log_request")
                    if on and function not in lists[kind]:
                        lists[kind].append(function)
                    if not on and function in lists[kind]:
                        lists[kind].remove(function)

        client = app.test_client()
        with app.app_context():
            _timed_requests(client, 50)  # warm-up
            on: list[float] = []
            log_only: list[float] = []
            off: list[float] = []
            for _ in range(ROUNDS):
                switch(True)
                on.append(_timed_requests(client, REQUESTS_PER_ROUND))
                switch(False, log_only=True)
                log_only.append(_timed_requests(client, REQUESTS_PER_ROUND))
                switch(False)
                off.append(_timed_requests(client, REQUESTS_PER_ROUND))
            switch(True)

            from readerapp.metrics import REQUEST_SECONDS, REQUESTS

            endpoints = sorted({rule.endpoint for rule in app.url_map.iter_rules()})
            for endpoint in endpoints:
                for status in ("200", "404"):
                    REQUESTS.labels(endpoint=endpoint, method="GET", status=status).inc()
                    REQUEST_SECONDS.labels(endpoint=endpoint, method="GET").observe(0.01)
            headers = {"Authorization": f"Bearer {TOKEN}"}
            size = len(client.get("/metrics", headers=headers).get_data())
            scrapes = []
            for _ in range(SCRAPES):
                start = time.perf_counter()
                assert client.get("/metrics", headers=headers).status_code == 200
                scrapes.append((time.perf_counter() - start) * 1000)

        database = "PostgreSQL" if url else "SQLite"
        print(f"machine: {machine()}, {database}, load average {os.getloadavg()[0]:.1f}")
        print(
            f"GET /healthz, metrics and log line: {statistics.median(on):.3f} ms, "
            f"log line only: {statistics.median(log_only):.3f} ms, "
            f"neither: {statistics.median(off):.3f} ms "
            f"(medians of {ROUNDS} rounds of {REQUESTS_PER_ROUND})"
        )
        print(
            f"GET /metrics, {len(endpoints)} endpoints x 2 statuses: median "
            f"{statistics.median(scrapes):.1f} ms, max {max(scrapes):.1f} ms, {size // 1024} KiB"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
