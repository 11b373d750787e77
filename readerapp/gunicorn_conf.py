"""Gunicorn settings: the one production set-up, also used by ``make run``, the multi-process
tests and ``bench/load.py``.

    gunicorn -c python:readerapp.gunicorn_conf wsgi:app

Environment: ``BIND`` (default 127.0.0.1:8000), ``WEB_CONCURRENCY`` (worker processes, default 1),
``WEB_THREADS`` (threads per worker, default 8). Several workers need rate-limit counters they
share (``READERAPP_RATELIMIT_STORAGE_URI=redis://…``): with memory:// the start is refused. There
is no access log on purpose: feed addresses carry their secret token in the path.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "1"))
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", "8"))
# A request is cut off well after the database's own timeouts would have answered 503.
timeout = 30
graceful_timeout = 20
accesslog = None


def on_starting(server: Any) -> None:
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
