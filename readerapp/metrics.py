"""``GET /metrics``: Prometheus metrics, closed to the public.

- Requests: counts by Flask endpoint name, method and status, latency by endpoint and method —
  never the path, as feed paths carry secret tokens. Requests in progress, and each web worker's
  start time. (Latency without the status: a histogram is 14 series per label set, and every
  scrape under gunicorn reads and merges them all; see BENCHMARKS.md.)
- Database errors, counted by kind (the SQLAlchemy exception's class) on every engine.
- From the database, at scrape time (one short query each, so every worker and every scrape
  agrees): outbox queue length and the age of its oldest queued message, the scheduler's
  heartbeat age, how long ago each fixed scheduler job last ran, and how far each is behind its
  next due run. The scheduler writes those last runs into ``scheduler_heartbeat`` as rows named
  ``job:<id>``, since it may run elsewhere; the due times are APScheduler's own job store.
  When the database cannot be read the scrape still answers, with ``readerapp_database_up 0``.

Under gunicorn every worker has its own counters: prometheus-client's multiprocess mode keeps
them in files under ``PROMETHEUS_MULTIPROC_DIR`` (set up by ``readerapp/gunicorn_conf.py``) and a
scrape of any worker adds them all up. Without that variable (``flask run``, tests) the process's
own registry is served.

Access: ``METRICS_TOKEN`` (``Authorization: Bearer …``) and/or ``METRICS_ALLOWED_ADDRESSES``.
With neither set, or from an address not allowed, the answer is 404, as for any unknown page; a
missing or wrong token from an allowed address is 401, and counts towards the token rate limit.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import time
from collections.abc import Iterable, Iterator
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Flask, Response, abort, current_app, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from .extensions import csrf, db
from .logs import endpoint_name, method_name, request_duration
from .security import token_rate_limit

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Rows of scheduler_heartbeat: the active scheduler's beat, and one per fixed job's last run.
ACTIVE_BEAT = "active"
JOB_RUN_PREFIX = "job:"
# APScheduler's job store: its table appears when a scheduler first starts.
JOB_STORE = sa.table("apscheduler_jobs", sa.column("id"), sa.column("next_run_time"))
# A scrape must answer quickly even when PostgreSQL is slow.
SCRAPE_STATEMENT_TIMEOUT_MS = 2000

REQUESTS = Counter(
    "readerapp_http_requests",
    "HTTP requests answered, by Flask endpoint name, method and status.",
    ["endpoint", "method", "status"],
)
REQUEST_SECONDS = Histogram(
    "readerapp_http_request_duration_seconds",
    "Time to answer an HTTP request (until the response starts), by endpoint and method.",
    ["endpoint", "method"],
    # Up to gunicorn's 30-second timeout.
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
IN_PROGRESS = Gauge(
    "readerapp_http_requests_in_progress",
    "HTTP requests being answered now.",
    multiprocess_mode="livesum",
)
WORKER_STARTED = Gauge(
    "readerapp_web_worker_start_time_seconds",
    "When each running web worker started (Unix time); under gunicorn labelled by pid.",
    multiprocess_mode="liveall",
)
DATABASE_ERRORS = Counter(
    "readerapp_database_errors",
    "Errors raised by the database driver, by kind (SQLAlchemy's exception class).",
    ["kind"],
)


@sa.event.listens_for(sa.Engine, "handle_error")
def _count_database_error(context: sa.engine.ExceptionContext) -> None:
    error = context.sqlalchemy_exception or context.original_exception
    DATABASE_ERRORS.labels(kind=type(error).__name__).inc()


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


# --- the database's gauges, read at scrape time ----------------------------------------------


class DatabaseCollector(Collector):
    """Gauges read from the database at scrape time; a failure becomes ``database_up 0``."""

    def __init__(
        self, engine: sa.Engine, heartbeat_stale_after: float, jobs: frozenset[str] = frozenset()
    ) -> None:
        self.engine = engine
        self.heartbeat_stale_after = heartbeat_stale_after
        self.jobs = jobs  # the fixed jobs whose lag behind their due time is reported

    def describe(self) -> Iterable[Any]:
        return []  # nothing to check at registration: the names are fixed

    def read(self) -> tuple[int, float | None, list[tuple[str, float]], dict[str, float]]:
        from .notifications.models import OutboxMessage, SchedulerHeartbeat

        with self.engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql(f"SET LOCAL statement_timeout = {SCRAPE_STATEMENT_TIMEOUT_MS}")
            now = time.time()
            queued, oldest = conn.execute(
                sa.select(sa.func.count(), sa.func.min(OutboxMessage.created_at)).where(
                    OutboxMessage.status == "queued"
                )
            ).one()
            beats = conn.execute(
                sa.select(SchedulerHeartbeat.name, SchedulerHeartbeat.beat_at).where(
                    sa.or_(
                        SchedulerHeartbeat.name == ACTIVE_BEAT,
                        SchedulerHeartbeat.name.startswith(JOB_RUN_PREFIX, autoescape=True),
                    )
                )
            ).all()
            due = self._due_times(conn)
        oldest_age = max(0.0, now - oldest.timestamp()) if oldest is not None else None
        ages = [(name, max(0.0, now - beat_at.timestamp())) for name, beat_at in beats]
        overdue = {job: max(0.0, now - at) for job, at in due.items()}
        return int(queued), oldest_age, ages, overdue

    def _due_times(self, conn: sa.Connection) -> dict[str, float]:
        """Each fixed job's next due time (Unix time) from APScheduler's job store, if any."""
        if not self.jobs or not _job_store_exists(conn):
            return {}
        rows = conn.execute(
            sa.select(JOB_STORE.c.id, JOB_STORE.c.next_run_time).where(
                JOB_STORE.c.id.in_(sorted(self.jobs)), JOB_STORE.c.next_run_time.is_not(None)
            )
        ).all()
        return {job: float(at) for job, at in rows}

    def collect(self) -> Iterator[Any]:
        up = GaugeMetricFamily(
            "readerapp_database_up", "1 if this scrape could read the database, else 0."
        )
        try:
            queued, oldest_age, ages, overdue = self.read()
        except Exception:  # any failure to read is reported, never raised: the scrape answers
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield GaugeMetricFamily(
            "readerapp_outbox_queued_messages", "Messages waiting to be sent.", value=queued
        )
        yield GaugeMetricFamily(
            "readerapp_outbox_oldest_queued_age_seconds",
            "Age of the oldest message waiting to be sent (0 when none waits).",
            value=oldest_age or 0.0,
        )
        beat_age = dict(ages).get(ACTIVE_BEAT)
        yield GaugeMetricFamily(
            "readerapp_scheduler_up",
            "1 if the active scheduler's heartbeat is recent, else 0.",
            value=int(beat_age is not None and beat_age <= self.heartbeat_stale_after),
        )
        if beat_age is not None:
            yield GaugeMetricFamily(
                "readerapp_scheduler_heartbeat_age_seconds",
                "Seconds since the active scheduler's last heartbeat.",
                value=beat_age,
            )
        jobs = GaugeMetricFamily(
            "readerapp_scheduler_job_last_run_age_seconds",
            "Seconds since each scheduler job last finished a run without error.",
            labels=["job"],
        )
        for name, age in sorted(ages):
            if name.startswith(JOB_RUN_PREFIX):
                jobs.add_metric([name.removeprefix(JOB_RUN_PREFIX)], age)
        yield jobs
        lag = GaugeMetricFamily(
            "readerapp_scheduler_job_lag_seconds",
            "Seconds each scheduler job is past its due time without having run (0 when on time).",
            labels=["job"],
        )
        for job, seconds in sorted(overdue.items()):
            lag.add_metric([job], seconds)
        yield lag


_job_store_seen: set[str] = set()


def _job_store_exists(conn: sa.Connection) -> bool:
    """Whether APScheduler's table exists (remembered once seen: it is never dropped)."""
    key = conn.engine.url.render_as_string(hide_password=True)
    if key not in _job_store_seen and sa.inspect(conn).has_table(JOB_STORE.name):
        _job_store_seen.add(key)
    return key in _job_store_seen


def fixed_job_ids(app: Flask) -> frozenset[str]:
    from .scheduler.runner import fixed_jobs

    return frozenset(spec["id"] for spec in fixed_jobs(app))


def render(engine: sa.Engine, jobs: frozenset[str] = frozenset()) -> bytes:
    from .health import HEARTBEAT_STALE_AFTER

    directory = multiprocess_dir()
    if directory:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=directory)
    else:
        registry = REGISTRY
    from_database = CollectorRegistry(auto_describe=False)
    from_database.register(DatabaseCollector(engine, HEARTBEAT_STALE_AFTER.total_seconds(), jobs))
    return generate_latest(registry) + generate_latest(from_database)


# --- access ---------------------------------------------------------------------------------


def _address_allowed(allowed: tuple[str, ...]) -> bool:
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(entry, strict=False) for entry in allowed)


def _token_matches(token: str) -> bool:
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
@token_rate_limit
def metrics() -> Response:
    token: str = current_app.config["METRICS_TOKEN"]
    allowed: tuple[str, ...] = current_app.config["METRICS_ALLOWED_ADDRESSES"]
    if not token and not allowed:
        abort(404)
    if allowed and not _address_allowed(allowed):
        abort(404)
    if token and not _token_matches(token):
        response = Response("401 Unauthorized\n", status=401, content_type="text/plain")
        response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    jobs = current_app.extensions["readerapp.metrics.jobs"]
    response = Response(render(db.engine, jobs), content_type=CONTENT_TYPE_LATEST)
    response.headers["Cache-Control"] = "no-store"
    return response


# --- wiring -----------------------------------------------------------------------------------


def init_app(app: Flask) -> None:
    """Count every request (register early: after-request hooks run last-registered first, so
    this one sees the final status) and serve /metrics."""
    WORKER_STARTED.set_to_current_time()
    app.extensions["readerapp.metrics.jobs"] = fixed_job_ids(app)
    csrf.exempt(metrics)
    app.register_blueprint(bp)

    @app.before_request
    def _request_started() -> None:
        IN_PROGRESS.inc()
        request.environ["readerapp.in_progress"] = True

    @app.after_request
    def _count_request(response: Response) -> Response:
        endpoint, method = endpoint_name(), method_name()
        REQUESTS.labels(endpoint=endpoint, method=method, status=str(response.status_code)).inc()
        REQUEST_SECONDS.labels(endpoint=endpoint, method=method).observe(request_duration())
        return response

    @app.teardown_request
    def _request_finished(_: BaseException | None) -> None:
        if request.environ.pop("readerapp.in_progress", False):
            IN_PROGRESS.dec()
