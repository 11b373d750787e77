"""/metrics and the log lines: who may scrape, what the gauges read from the database, and, with
a real gunicorn of two workers, that every worker's requests are counted in one scrape, a killed
worker's live gauges go, and the JSON log lines carry the request id and no secret."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families

from readerapp.config import ConfigError, load
from readerapp.extensions import db
from readerapp.feeds.operations import create_token
from readerapp.metrics import DatabaseCollector
from readerapp.models import OutboxMessage, SchedulerHeartbeat
from readerapp.scheduler.housekeeping import record_job_run
from readerapp.timeutil import utcnow

from .web_processes import process_env, shared_limits_env
from .world import SECRET_CODE, build_world

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TOKEN = "metrics-token-for-the-tests-0123"
DEADLINE_SECONDS = 40  # only a hang reaches it


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def labelled(samples: Samples, name: str) -> list[dict[str, str]]:
    return [dict(labels) for (n, labels) in samples if n == name]


@pytest.fixture
def open_with_token(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "METRICS_TOKEN", TOKEN)


def scrape(app: Flask) -> Samples:
    response = app.test_client().get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=")
    return parse(response.get_data(as_text=True))


# --- access ---------------------------------------------------------------------------------


def test_closed_by_default(app: Flask) -> None:
    assert app.config["METRICS_TOKEN"] == ""
    assert app.config["METRICS_ALLOWED_ADDRESSES"] == ()
    response = app.test_client().get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 404


@pytest.mark.usefixtures("open_with_token")
def test_the_token_is_required(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": TOKEN}).status_code == 401
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


def test_only_allowed_addresses(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "METRICS_ALLOWED_ADDRESSES", ("10.0.0.0/8", "192.0.2.7"))
    client = app.test_client()
    assert client.get("/metrics").status_code == 404  # from 127.0.0.1
    for allowed in ("10.20.30.40", "192.0.2.7"):
        response = client.get("/metrics", environ_base={"REMOTE_ADDR": allowed})
        assert response.status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "192.0.2.8"}).status_code == 404
    # Both set: both apply.
    monkeypatch.setitem(app.config, "METRICS_TOKEN", TOKEN)
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.1.1"}).status_code == 401
    response = client.get(
        "/metrics",
        environ_base={"REMOTE_ADDR": "10.1.1.1"},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert response.status_code == 200
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 404  # the right token from the wrong address


@pytest.mark.parametrize(
    ("setting", "raw", "message"),
    [
        ("METRICS_ALLOWED_ADDRESSES", "10.0.0.0/8, not-an-address", "not-an-address"),
        ("METRICS_TOKEN", "short", "at least 16"),
    ],
)
def test_settings_are_checked(tmp_path: Path, setting: str, raw: str, message: str) -> None:
    environ = {"SECRET_KEY": "k", f"READERAPP_{setting}": raw}
    with pytest.raises(ConfigError, match=message):
        load(tmp_path, None, environ)


def test_addresses_from_the_environment(tmp_path: Path) -> None:
    environ = {"SECRET_KEY": "k", "READERAPP_METRICS_ALLOWED_ADDRESSES": "10.0.0.0/8, ::1"}
    assert load(tmp_path, None, environ)["METRICS_ALLOWED_ADDRESSES"] == ("10.0.0.0/8", "::1")


# --- what it reports ------------------------------------------------------------------------


@pytest.mark.usefixtures("open_with_token")
def test_requests_are_counted_by_endpoint_never_by_path(app: Flask) -> None:
    world = build_world()
    _, raw = create_token("organisation", world.host)
    db.session.commit()
    before = scrape(app)
    client = app.test_client()
    assert client.get(f"/feeds/{raw}.ics").status_code == 200
    assert client.get(f"/no-such-page/{SECRET_CODE}?q={SECRET_CODE}").status_code == 404
    text = app.test_client().get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text
    after = parse(text)
    assert raw not in text and SECRET_CODE not in text
    feed = [
        labels
        for labels in labelled(after, "readerapp_http_requests_total")
        # Other tests in this process count their own feeds.* pages: only the feed itself here.
        if labels["endpoint"] == "feeds.feed"
        and labels["method"] == "GET"
        and labels["status"] == "200"
    ]
    assert len(feed) == 1
    key = ("readerapp_http_requests_total", frozenset(feed[0].items()))
    assert after[key] == before.get(key, 0) + 1
    unmatched = {"endpoint": "unmatched", "method": "GET", "status": "404"}
    assert (
        value(after, "readerapp_http_requests_total", **unmatched)
        == (value(before, "readerapp_http_requests_total", **unmatched) or 0) + 1
    )
    assert value(
        after, "readerapp_http_request_duration_seconds_count", endpoint="unmatched", method="GET"
    )


@pytest.mark.usefixtures("open_with_token")
def test_outbox_and_scheduler_gauges_read_the_database(app: Flask) -> None:
    samples = scrape(app)
    assert value(samples, "readerapp_database_up") == 1
    assert value(samples, "readerapp_outbox_queued_messages") == 0
    assert value(samples, "readerapp_outbox_oldest_queued_age_seconds") == 0
    assert value(samples, "readerapp_scheduler_up") == 0
    assert value(samples, "readerapp_scheduler_heartbeat_age_seconds") is None

    now = utcnow()
    for n, (status, age) in enumerate([("queued", 600), ("queued", 60), ("sent", 6000)]):
        db.session.add(
            OutboxMessage(
                dedupe_key=f"metrics-{n}",
                kind="test",
                recipient="someone@example.org",
                subject="s",
                body="b",
                status=status,
                created_at=now - timedelta(seconds=age),
                updated_at=now,
            )
        )
    db.session.add(
        SchedulerHeartbeat(name="active", beat_at=now - timedelta(seconds=20), host="h", pid=1)
    )
    db.session.commit()
    record_job_run(app, "send-due")
    db.session.execute(
        sa.update(SchedulerHeartbeat)
        .where(SchedulerHeartbeat.name == "job:send-due")
        .values(beat_at=now - timedelta(seconds=90))
    )
    db.session.commit()

    samples = scrape(app)
    assert value(samples, "readerapp_outbox_queued_messages") == 2
    assert 600 <= value(samples, "readerapp_outbox_oldest_queued_age_seconds") < 660
    assert value(samples, "readerapp_scheduler_up") == 1
    assert 20 <= value(samples, "readerapp_scheduler_heartbeat_age_seconds") < 80
    age = value(samples, "readerapp_scheduler_job_last_run_age_seconds", job="send-due")
    assert age is not None and 90 <= age < 150
    assert labelled(samples, "readerapp_scheduler_job_last_run_age_seconds") == [
        {"job": "send-due"}
    ]

    db.session.execute(
        sa.update(SchedulerHeartbeat)
        .where(SchedulerHeartbeat.name == "active")
        .values(beat_at=now - timedelta(minutes=5))
    )
    db.session.commit()
    assert value(scrape(app), "readerapp_scheduler_up") == 0  # stale, as /healthz says


def test_a_database_that_cannot_be_reached_is_reported_not_raised(tmp_path: Path) -> None:
    from prometheus_client import REGISTRY

    def errors() -> float:
        return (
            REGISTRY.get_sample_value(
                "readerapp_database_errors_total", {"kind": "OperationalError"}
            )
            or 0.0
        )

    missing = sa.create_engine(f"sqlite:///{tmp_path / 'no-such-folder' / 'db.sqlite3'}")
    before = errors()
    families = list(DatabaseCollector(missing, 60).collect())
    assert [(f.name, [s.value for s in f.samples]) for f in families] == [
        ("readerapp_database_up", [0])
    ]
    assert errors() == before + 1  # and counted by kind
    missing.dispose()


# --- a real gunicorn ------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


class Server:
    def __init__(self, app: Flask, tmp_path: Path) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.metrics_dir = tmp_path / "prometheus"
        self.metrics_dir.mkdir()
        # Left by an earlier server: must not be added to this one's counts.
        (self.metrics_dir / "counter_999999.db").write_bytes(b"stale")
        self.log = tmp_path / "gunicorn.log"
        self.env = {
            **process_env(
                app.config["SQLALCHEMY_DATABASE_URI"], METRICS_TOKEN=TOKEN, LOG_FORMAT="json"
            ),
            "PROMETHEUS_MULTIPROC_DIR": str(self.metrics_dir),
            **shared_limits_env(),
            "WEB_CONCURRENCY": "2",
            "WEB_THREADS": "2",
            "BIND": f"127.0.0.1:{self.port}",
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [str(BIN / "gunicorn"), "-c", "python:readerapp.gunicorn_conf", "wsgi:app"],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        wait_for(lambda: len(self.worker_pids()) == 2, "two workers")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str]]:
        url = self.base + path  # always http://127.0.0.1
        request = urllib.request.Request(url, headers=headers or {})  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                response.read()
                return response.status, dict(response.headers)
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers)
        except OSError:
            return 0, {}

    def scrape(self) -> Samples:
        request = urllib.request.Request(  # noqa: S310  (always http://127.0.0.1)
            self.base + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return parse(response.read().decode())

    def worker_pids(self) -> set[str]:
        try:
            samples = self.scrape()
        except OSError:
            return set()
        return {
            labels["pid"] for labels in labelled(samples, "readerapp_web_worker_start_time_seconds")
        }

    def log_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log.read_text().splitlines() if line.strip()]


@pytest.fixture
def server(app: Flask, tmp_path: Path) -> Iterator[Server]:
    running = Server(app, tmp_path)
    yield running
    running.stop()


def test_gunicorn_workers_counted_together_killed_gauges_gone_json_logs(server: Server) -> None:
    world = build_world()
    _, raw = create_token("organisation", world.host)
    db.session.add(
        OutboxMessage(
            dedupe_key="metrics-gunicorn",
            kind="test",
            recipient="someone@example.org",
            subject="s",
            body="b",
            status="queued",
        )
    )
    db.session.commit()
    server.start()
    assert not (server.metrics_dir / "counter_999999.db").exists()  # emptied at start

    # Requests until both workers have answered some (each log line names its process).
    sent = 0
    ids: list[str] = []

    def both_workers_served() -> bool:
        nonlocal sent
        for _ in range(10):
            status, headers = server.get("/healthz")
            assert status == 200
            ids.append(headers["X-Request-ID"])
            sent += 1
        served = {
            line["process"]
            for line in server.log_lines()
            if line.get("endpoint") == "health.healthz" and "status" in line
        }
        return len(served) >= 2

    wait_for(both_workers_served, "requests answered by both workers")
    samples = server.scrape()
    healthz = {"endpoint": "health.healthz", "method": "GET", "status": "200"}
    assert value(samples, "readerapp_http_requests_total", **healthz) == sent
    assert value(samples, "readerapp_outbox_queued_messages") == 1
    assert value(samples, "readerapp_database_up") == 1

    # Personal data and secrets, in paths, queries and headers.
    assert server.get(f"/feeds/{raw}.ics")[0] == 200
    assert server.get(f"/participants/{SECRET_CODE}?q={SECRET_CODE}")[0] in (302, 404)
    assert server.get("/metrics", {"Authorization": "Bearer not-the-token"})[0] == 401

    # A killed worker's live gauges go; its counts stay.
    before = server.worker_pids()
    victim = sorted(before)[0]
    os.kill(int(victim), signal.SIGKILL)
    wait_for(
        lambda: victim not in (now := server.worker_pids()) and len(now) == 2,
        "the killed worker replaced and gone from /metrics",
    )
    samples = server.scrape()
    assert value(samples, "readerapp_http_requests_total", **healthz) == sent
    assert value(samples, "readerapp_http_requests_in_progress") == 1  # this scrape

    server.stop()
    lines = server.log_lines()  # every line parses as JSON
    requests = [line for line in lines if line["logger"] == "readerapp.request"]
    assert {line["request_id"] for line in requests} >= set(ids)
    for line in requests:
        assert {"time", "level", "method", "endpoint", "status", "duration_ms"} <= set(line)
    text = server.log.read_text()
    for secret in (raw, SECRET_CODE, TOKEN, "not-the-token"):
        assert secret not in text


@pytest.mark.usefixtures("open_with_token")
def test_the_scheduler_records_each_jobs_last_run_and_a_late_job_shows_its_lag(
    app: Flask, tmp_path: Path
) -> None:
    env = process_env(
        app.config["SQLALCHEMY_DATABASE_URI"],
        SCHEDULER_HEARTBEAT_SECONDS="1",
        SCHEDULER_SWEEP_SECONDS="1",
    )
    with (tmp_path / "scheduler.log").open("wb") as out:
        scheduler = subprocess.Popen(
            [str(BIN / "flask"), "--app", "wsgi", "scheduler", "run"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:

        def recorded() -> bool:
            db.session.rollback()
            found = db.session.get(SchedulerHeartbeat, "job:send-due") is not None
            db.session.rollback()
            return found

        wait_for(recorded, "the scheduler's record of a send-due run")
        scheduler.terminate()
        assert scheduler.wait(timeout=30) == 0

        samples = scrape(app)
        age = value(samples, "readerapp_scheduler_job_last_run_age_seconds", job="send-due")
        assert age is not None and age < 60
        assert (
            value(samples, "readerapp_scheduler_job_last_run_age_seconds", job="heartbeat") is None
        )
        lags = {
            labels["job"]: value(samples, "readerapp_scheduler_job_lag_seconds", **labels)
            for labels in labelled(samples, "readerapp_scheduler_job_lag_seconds")
        }
        assert {"heartbeat", "send-due", "weekly-digest"} <= set(lags)
        assert lags["weekly-digest"] == 0  # due next Monday
        assert not any(job.startswith(("broadcast", "session")) for job in lags)

        # Stopped, with send-due two minutes past its due time: its lag says so.
        db.session.execute(
            sa.text("UPDATE apscheduler_jobs SET next_run_time = :at WHERE id = 'send-due'"),
            {"at": time.time() - 120},
        )
        db.session.commit()
        lag = value(scrape(app), "readerapp_scheduler_job_lag_seconds", job="send-due")
        assert lag is not None and 120 <= lag < 180
    finally:
        if scheduler.poll() is None:
            scheduler.kill()
            scheduler.wait(timeout=10)
        db.session.rollback()
        if sa.inspect(db.engine).has_table("apscheduler_jobs"):
            db.session.execute(sa.text("DELETE FROM apscheduler_jobs"))
            db.session.commit()


def test_without_a_folder_gunicorn_uses_a_temporary_one_and_removes_it(
    app: Flask, tmp_path: Path
) -> None:
    running = Server(app, tmp_path)
    temp = tmp_path / "tmp"
    temp.mkdir()
    del running.env["PROMETHEUS_MULTIPROC_DIR"]
    running.env["TMPDIR"] = str(temp)
    try:
        running.start()
        used = list(temp.glob("readerapp-metrics-*"))
        assert len(used) == 1 and list(used[0].glob("*.db"))
        assert running.scrape()
    finally:
        running.stop()
    assert running.process is not None and running.process.returncode == 0
    assert not list(temp.iterdir())
