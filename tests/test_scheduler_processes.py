"""Real scheduler processes against the test database: catch-up after downtime, a hot standby
taking over from a killed active scheduler (also mid-way through sending mail to a real SMTP
server), and (on PostgreSQL) exactly-once effects with two schedulers and several gunicorn
workers running at once. Executions are counted from the "claimed KIND:ID" line each job writes
when it wins a claim."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from email.message import Message
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from readerapp.extensions import db
from readerapp.models import Broadcast, OutboxMessage, SchedulerHeartbeat
from readerapp.notifications.outbox import queue_message

from .factories import Factory
from .mail_support import SENDER, Inbox, mail_settings, smtp_server
from .radio_support import shared_reading_series
from .web_processes import process_env, shared_limits_env

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DEADLINE_SECONDS = 40
ON_POSTGRES = os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql")


class Processes:
    def __init__(self, app: Flask, logs: Path) -> None:
        self.logs = logs
        self.running: list[tuple[subprocess.Popen[bytes], Path]] = []
        self.env = process_env(
            app.config["SQLALCHEMY_DATABASE_URI"],
            SCHEDULER_HEARTBEAT_SECONDS="1",
            SCHEDULER_CHANGE_POLL_SECONDS="1",
            SCHEDULER_STANDBY_POLL_SECONDS="1",
            SCHEDULER_SWEEP_SECONDS="2",
            SCHEDULER_RECONCILE_SECONDS="5",
        )

    def start(self, name: str, command: list[str]) -> subprocess.Popen[bytes]:
        log = self.logs / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        self.running.append((process, log))
        return process

    def scheduler(self, name: str) -> subprocess.Popen[bytes]:
        return self.start(name, [str(BIN / "flask"), "--app", "wsgi", "scheduler", "run"])

    def claims(self) -> Counter[str]:
        found: Counter[str] = Counter()
        for _, log in self.running:
            found.update(re.findall(r"claimed (\S+)", log.read_text(errors="replace")))
        return found

    def stop_all(self) -> None:
        for process, _ in self.running:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)


@pytest.fixture
def processes(app: Flask, tmp_path: Path) -> Iterator[Processes]:
    procs = Processes(app, tmp_path)
    yield procs
    procs.stop_all()
    db.session.rollback()
    # The job store's table is not a model: the per-test cleanup does not empty it.
    if sa.inspect(db.engine).has_table("apscheduler_jobs"):
        db.session.execute(sa.text("DELETE FROM apscheduler_jobs"))
        db.session.commit()


def wait_for(condition: Callable[[], object], what: str) -> object:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        db.session.rollback()  # see other processes' commits; hold no SQLite lock while waiting
        value = condition()
        db.session.rollback()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def heartbeat_pid() -> int | None:
    beat = db.session.get(SchedulerHeartbeat, "active")
    return beat.pid if beat is not None else None


def statuses(ids: list[int]) -> list[str]:
    return list(db.session.scalars(sa.select(Broadcast.status).where(Broadcast.id.in_(ids))))


def reminded(ids: list[int]) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).where(
            Broadcast.id.in_(ids), Broadcast.reminder_sent_at.is_not(None)
        )
    )


def _now() -> object:
    from readerapp.timeutil import utcnow

    return utcnow().replace(microsecond=0)


def test_catch_up_then_standby_takes_over_when_the_active_scheduler_is_killed(
    factory: Factory, processes: Processes
) -> None:
    series = shared_reading_series(factory)
    now = _now()
    # Due while no scheduler ran: three broadcasts ended, two reminders fell due.
    ended = [
        factory.broadcast(series.episodes[i], air_dt=now - timedelta(hours=6 - i)).id
        for i in range(3)
    ]
    upcoming = [
        factory.broadcast(series.episodes[3 + i], air_dt=now + timedelta(hours=10 + i)).id
        for i in range(2)
    ]
    db.session.commit()

    first = processes.scheduler("first")
    wait_for(lambda: heartbeat_pid() == first.pid, "the first scheduler's heartbeat")
    second = processes.scheduler("second")
    wait_for(lambda: "standby" in (processes.logs / "second.log").read_text(), "a standby")
    wait_for(lambda: statuses(ended) == ["aired"] * 3, "the catch-up of ended broadcasts")
    wait_for(lambda: reminded(upcoming) == 2, "the catch-up of due reminders")

    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    late = factory.broadcast(
        series.episodes[5], air_dt=_now() - timedelta(minutes=55) + timedelta(seconds=3)
    ).id
    db.session.commit()
    wait_for(lambda: heartbeat_pid() == second.pid, "the standby to take over")
    wait_for(lambda: statuses([late]) == ["aired"], "the new active scheduler's work")

    second.send_signal(signal.SIGTERM)
    assert second.wait(timeout=20) == 0  # a clean shutdown
    db.session.rollback()
    assert heartbeat_pid() is None  # it says it stopped

    claims = processes.claims()
    expected = {f"broadcast-aired:{i}" for i in [*ended, late]} | {
        f"broadcast-reminder:{i}" for i in upcoming
    }
    assert expected <= set(claims)
    assert all(claims[key] == 1 for key in claims), claims
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 2


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.skipif(not ON_POSTGRES, reason="two active-candidate schedulers need PostgreSQL")
def test_exactly_once_with_two_schedulers_and_several_web_workers(
    factory: Factory, processes: Processes
) -> None:
    series = shared_reading_series(factory)
    lead = factory.user(email="lead@example.org")
    group = factory.group(leader=lead)
    now = _now()
    ending = [
        factory.broadcast(
            series.episodes[i],
            air_dt=now - timedelta(minutes=55) + timedelta(seconds=2 + 2 * i),
        ).id
        for i in range(3)
    ]
    upcoming = [
        factory.broadcast(series.episodes[3 + i], air_dt=now + timedelta(hours=20 + i)).id
        for i in range(3)
    ]
    sessions = [factory.session(group, start_dt=now + timedelta(hours=3 + i)).id for i in range(3)]
    db.session.commit()

    port = _free_port()
    # The production set-up: readerapp's gunicorn configuration, its workers sharing their
    # limit counters in Redis, beside two schedulers (one active, one standby).
    processes.env.update(
        shared_limits_env(), BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY="3", WEB_THREADS="4"
    )
    web = processes.start(
        "gunicorn",
        [str(BIN / "gunicorn"), "-c", "python:readerapp.gunicorn_conf", "wsgi:app"],
    )
    schedulers = [processes.scheduler("a"), processes.scheduler("b")]

    def healthz() -> dict[str, object] | None:
        import json

        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                return json.load(r)
        except OSError:
            return None

    wait_for(lambda: (healthz() or {}).get("scheduler", {}).get("status") == "ok", "healthz")
    wait_for(lambda: statuses(ending) == ["aired"] * 3, "broadcasts marked aired")
    wait_for(lambda: reminded(upcoming) == 3, "broadcast reminders")
    wait_for(
        lambda: (
            db.session.scalar(
                sa.select(sa.func.count()).where(OutboxMessage.kind == "session_reminder")
            )
            == 3
        ),
        "session reminders",
    )
    time.sleep(3)  # let both schedulers run a few more sweeps: nothing more may happen
    for process in schedulers:
        process.send_signal(signal.SIGTERM)
    assert [p.wait(timeout=20) for p in schedulers] == [0, 0]
    web.send_signal(signal.SIGTERM)
    web.wait(timeout=20)

    claims = processes.claims()
    expected = (
        {f"broadcast-aired:{i}" for i in ending}
        | {f"broadcast-reminder:{i}" for i in upcoming}
        | {f"session-reminder:{i}" for i in sessions}
    )
    assert set(claims) == expected
    assert all(count == 1 for count in claims.values()), claims
    assert "claimed" not in (processes.logs / "gunicorn.log").read_text()
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 6


class KillingInbox(Inbox):
    """Accepts mail; on the first message, kills ``victim`` after recording the message and
    before answering 250, so the sender dies between the acceptance and its "sent" record."""

    def __init__(self) -> None:
        super().__init__()
        self.victim: subprocess.Popen[bytes] | None = None

    def handle_message(self, message: Message) -> None:
        super().handle_message(message)
        victim, self.victim = self.victim, None
        if victim is not None:
            victim.send_signal(signal.SIGKILL)
            victim.wait(timeout=10)


def test_mail_accepted_as_the_active_scheduler_dies_is_sent_again_with_the_same_message_id(
    app: Flask, processes: Processes
) -> None:
    inbox = KillingInbox()
    with smtp_server(inbox) as port:
        processes.env.update(
            READERAPP_MAIL_HOST="127.0.0.1",
            READERAPP_MAIL_PORT=str(port),
            READERAPP_MAIL_SENDER=SENDER,
            READERAPP_MAIL_LEASE_SECONDS="3",
        )
        first = processes.scheduler("first")
        wait_for(lambda: heartbeat_pid() == first.pid, "the first scheduler's heartbeat")
        second = processes.scheduler("second")
        wait_for(lambda: "standby" in (processes.logs / "second.log").read_text(), "a standby")

        inbox.victim = first
        with mail_settings(app, port):
            for i in range(3):
                queue_message(
                    dedupe_key=f"test:{i}",
                    kind="test",
                    recipient=f"station{i}@radio.example",
                    subject=f"Reminder {i}",
                    body="Episode 1 airs on Tuesday at 20:00.",
                )
        db.session.commit()

        def outbox() -> list[tuple[str, str | None, int, object]]:
            return [
                tuple(row)
                for row in db.session.execute(
                    sa.select(
                        OutboxMessage.status,
                        OutboxMessage.message_id,
                        OutboxMessage.attempts,
                        OutboxMessage.lease_until,
                    ).order_by(OutboxMessage.id)
                )
            ]

        wait_for(lambda: first.poll() is not None, "the first scheduler killed mid-send")
        wait_for(lambda: heartbeat_pid() == second.pid, "the standby to take over")
        wait_for(lambda: [r[0] for r in outbox()] == ["sent"] * 3, "every message sent")
        time.sleep(3)  # a few more sweeps: nothing more may go out
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=20) == 0
    db.session.rollback()

    rows = outbox()
    assert all(lease is None for *_, lease in rows)
    received = Counter(m["Message-ID"] for m in inbox.received)
    # Every message arrived, each with its recorded Message-ID; the one accepted as its sender
    # died arrived twice, with the same Message-ID both times.
    assert set(received) == {message_id for _, message_id, _, _ in rows}
    assert sorted(received.values()) == [1, 1, 2]
    [(repeated, _)] = [(mid, n) for mid, n in received.items() if n == 2]
    assert {mid: attempts for _, mid, attempts, _ in rows}[repeated] == 2
    # Each claim sent at most once: as many claims as messages received, none claimed twice.
    mail_claims = {k: n for k, n in processes.claims().items() if k.startswith("mail:")}
    assert all(n == 1 for n in mail_claims.values()), mail_claims
    assert len(mail_claims) == len(inbox.received) == 4
