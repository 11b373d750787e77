"""Benchmark: delivering the outbox to a local SMTP server, and what the claims cost.

Run: ``.venv/bin/python bench/mail.py`` (SQLite in a temporary directory; PostgreSQL too when
DATABASE_URL is set, in a temporary database beside it that is dropped afterwards).

Queues 500 messages, then times ``deliver_queued`` sending them all to an aiosmtpd server in the
same process (each message: a claim with its lease, the SMTP conversation, the sent mark). The
same 500 messages sent over SMTP alone, with no database, are the baseline: the difference is
what the outbox's bookkeeping costs per message. Medians of several runs; wall-clock time.
"""

from __future__ import annotations

import os
import socket
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

MESSAGES = 500
RUNS = 3


def bench(label: str, url: str, workdir: str) -> None:
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Sink
    from common import bench_app

    from readerapp.extensions import db
    from readerapp.models import OutboxMessage
    from readerapp.notifications.outbox import compose, deliver_queued, queue_message
    from readerapp.notifications.transports import send_smtp

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    app = bench_app(
        url,
        workdir,
        migrate=True,
        MAIL_HOST="127.0.0.1",
        MAIL_PORT=port,
        MAIL_SENDER="readerapp@charity.example",
    )
    outbox_ms: list[float] = []
    smtp_ms: list[float] = []
    try:
        with app.app_context():
            for run in range(RUNS):
                for i in range(MESSAGES):
                    queue_message(
                        dedupe_key=f"bench:{run}:{i}",
                        kind="bench",
                        recipient=f"leader{i}@example.org",
                        subject=f"Reminder {i}",
                        body="Your group meets on Tuesday at 14:00.\n" * 5,
                    )
                db.session.commit()
                start = time.perf_counter()
                result = deliver_queued(limit=MESSAGES)
                outbox_ms.append((time.perf_counter() - start) * 1000 / MESSAGES)
                assert result.sent == MESSAGES, result
                emails = [
                    compose(m)
                    for m in db.session.scalars(
                        sa.select(OutboxMessage).where(
                            OutboxMessage.dedupe_key.like(f"bench:{run}:%")
                        )
                    )
                ]
                db.session.rollback()
                start = time.perf_counter()
                for email in emails:
                    send_smtp(email)
                smtp_ms.append((time.perf_counter() - start) * 1000 / MESSAGES)
            db.session.remove()
            db.engine.dispose()
    finally:
        controller.stop()
    outbox, smtp = statistics.median(outbox_ms), statistics.median(smtp_ms)
    print(f"{label}: {MESSAGES} messages, median of {RUNS} runs")
    print(f"  outbox delivery (claim, SMTP, sent mark)  {outbox:6.2f} ms per message")
    print(f"  SMTP alone                                {smtp:6.2f} ms per message")
    print(f"  outbox bookkeeping                        {outbox - smtp:6.2f} ms per message")


def main() -> None:
    from common import machine

    print(f"Machine: {machine()}, load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        bench("SQLite", f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", tmp)
    database_url = os.environ.get("DATABASE_URL", "")
    if database_url.startswith("postgres"):
        from readerapp.config import database_uri

        base = sa.make_url(database_uri(database_url, Path(".")))
        name = f"readerapp_bench_{uuid.uuid4().hex[:10]}"
        admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            with tempfile.TemporaryDirectory() as tmp:
                bench(
                    "PostgreSQL", base.set(database=name).render_as_string(hide_password=False), tmp
                )
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.dispose()


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
