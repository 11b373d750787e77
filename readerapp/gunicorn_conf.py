"""Gunicorn settings: the one production set-up, also used by ``make run``, the multi-process
tests and ``bench/load.py``.

    gunicorn -c python:readerapp.gunicorn_conf wsgi:app

Environment: ``BIND`` (default 127.0.0.1:8000), ``WEB_CONCURRENCY`` (worker processes, default 1),
``WEB_THREADS`` (threads per worker, default 8), ``PROMETHEUS_MULTIPROC_DIR`` (where the workers
keep their metrics for /metrics; default a fresh temporary folder, removed at exit). Several
workers need rate-limit counters they share (``READERAPP_RATELIMIT_STORAGE_URI=redis://…``): with
memory:// the start is refused. There is no access log on purpose: feed addresses carry their
secret token in the path.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from gunicorn.glogging import Logger

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "1"))
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", "8"))
# A request is cut off well after the database's own timeouts would have answered 503.
timeout = 30
graceful_timeout = 20
accesslog = None
# gunicorn's control socket lives at one path per user: several servers on one machine (a
# blue/green switch, the tests) would fight over it, and nothing here uses it.
control_socket_disable = True

# prometheus-client picks its multiprocess mode when first imported, so the folder must be in the
# environment before any worker loads the app. Our own folder is unique to this server, so two
# servers on one machine never mix (or empty) each other's metrics.
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
_own_metrics_dir: str | None = None
if not os.environ.get(MULTIPROC_ENV):
    _own_metrics_dir = tempfile.mkdtemp(prefix="readerapp-metrics-")
    os.environ[MULTIPROC_ENV] = _own_metrics_dir


class JsonAwareLogger(Logger):
    """Gunicorn's own lines (start, worker boots and exits) as JSON too when
    ``READERAPP_LOG_FORMAT=json``; each worker's app sets its lines from ``LOG_FORMAT``."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        if os.environ.get("READERAPP_LOG_FORMAT", "").strip() == "json":
            from readerapp.logs import JsonFormatter

            for handler in self.error_log.handlers:
                handler.setFormatter(JsonFormatter())


logger_class = JsonAwareLogger


def on_starting(server: Any) -> None:
    _refuse_memory_limits_with_several_workers(server)
    # Start from empty: files left by an earlier server would add its counts to ours.
    directory = Path(os.environ[MULTIPROC_ENV])
    directory.mkdir(parents=True, exist_ok=True)
    for leftover in directory.glob("*.db"):
        leftover.unlink()


def child_exit(server: Any, worker: Any) -> None:
    """A worker is gone (stopped, killed or timed out): drop its live gauges from /metrics.
    Its counters stay, so totals never go backwards."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server: Any) -> None:
    if _own_metrics_dir is not None:
        shutil.rmtree(_own_metrics_dir, ignore_errors=True)


def _refuse_memory_limits_with_several_workers(server: Any) -> None:
    """Refuse several worker processes with memory:// rate-limit storage: each worker would
    count alone, so every sign-in and token limit would silently multiply by the workers."""
    processes = server.cfg.workers  # after any --workers on the command line
    if processes <= 1:
        return
    from readerapp import config

    # The instance folder Flask gives create_app: instance/ beside the package.
    instance = Path(config.__file__).resolve().parent.parent / "instance"
    settings = config.load(instance, None)
    uri = settings["RATELIMIT_STORAGE_URI"]
    if uri.startswith("memory:") and settings.get("RATELIMIT_ENABLED", True):
        message = (
            f"readerapp: {processes} worker processes with RATELIMIT_STORAGE_URI={uri} would each "
            "count rate limits alone. Set READERAPP_RATELIMIT_STORAGE_URI=redis://HOST:6379 "
            "(shared by every worker), or run one worker (WEB_CONCURRENCY=1) with threads."
        )
        server.log.error(message)
        raise SystemExit(1)
