"""Gunicorn settings: the one production set-up, also used by ``make run``, the multi-process
tests and ``bench/load.py``.

    gunicorn -c python:readerapp.gunicorn_conf wsgi:app

Environment: ``BIND`` (default 127.0.0.1:8000), ``WEB_CONCURRENCY`` (worker processes, default 1),
``WEB_THREADS`` (threads per worker, default 8). There is no access log on purpose: feed addresses
carry their secret token in the path.
"""

from __future__ import annotations

import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "1"))
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", "8"))
# A request is cut off well after the database's own timeouts would have answered 503.
timeout = 30
graceful_timeout = 20
accesslog = None
