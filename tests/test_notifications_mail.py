"""Mail goes through the outbox: delivered to a real SMTP server when one is configured, held
for admins to read when none is, and never written twice for one dedupe key."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message as MessageHandler
from flask import Flask

from readerapp.extensions import db
from readerapp.models import OutboxMessage
from readerapp.notifications.outbox import deliver_queued, queue_message

from .world import build_world, sign_in_as


class Inbox(MessageHandler):
    def __init__(self) -> None:
        super().__init__()
        self.received: list = []

    def handle_message(self, message) -> None:  # type: ignore[no-untyped-def]
        self.received.append(message)


@pytest.fixture
def smtp_server(app: Flask) -> Iterator[Inbox]:
    inbox = Inbox()
    with socket.socket() as probe:  # a free port (aiosmtpd checks its own port once started)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    saved = {k: app.config[k] for k in ("MAIL_HOST", "MAIL_PORT", "MAIL_TLS", "MAIL_SENDER")}
    app.config.update(
        MAIL_HOST="127.0.0.1",
        MAIL_PORT=port,
        MAIL_TLS="none",
        MAIL_SENDER="readerapp@charity.example",
    )
    yield inbox
    app.config.update(saved)
    controller.stop()


def _queue(key: str = "test:1") -> OutboxMessage | None:
    return queue_message(
        dedupe_key=key,
        kind="test",
        recipient="station@radio.example",
        subject="Reminder: episode 1",
        body="Episode 1 airs on Tuesday at 20:00.",
    )


def test_a_message_is_delivered_over_smtp_once(smtp_server: Inbox) -> None:
    assert _queue() is not None
    assert _queue() is None  # the same dedupe key again writes nothing
    db.session.commit()
    assert deliver_queued().sent == 1
    assert deliver_queued().sent == 0
    [received] = smtp_server.received
    assert received["To"] == "station@radio.example"
    assert received["From"] == "readerapp@charity.example"
    assert received["Subject"] == "Reminder: episode 1"
    assert "Tuesday at 20:00" in received.get_payload()
    message = db.session.scalar(sa.select(OutboxMessage))
    assert message.status == "sent" and message.sent_at is not None and message.attempts == 1


def test_an_unreachable_server_leaves_the_message_queued_with_the_error(app: Flask) -> None:
    app.config["MAIL_HOST"] = "127.0.0.1"
    app.config["MAIL_PORT"] = 1  # nothing listens there
    try:
        _queue()
        db.session.commit()
        assert deliver_queued().failed == 1
    finally:
        app.config["MAIL_HOST"] = ""
        app.config["MAIL_PORT"] = 25
    message = db.session.scalar(sa.select(OutboxMessage))
    assert message.status == "queued" and message.last_error and message.attempts == 1


def test_without_smtp_messages_are_held_and_admins_read_them(app: Flask, client) -> None:  # type: ignore[no-untyped-def]
    assert not app.config["MAIL_HOST"]
    w = build_world()
    _queue()
    db.session.commit()
    assert deliver_queued().sent == 0
    message = db.session.scalar(sa.select(OutboxMessage))
    assert message.status == "held"
    message_id = message.id
    db.session.commit()
    sign_in_as(client, w.admin)
    page = client.get("/outbox/?status=held")
    assert page.status_code == 200 and "Reminder: episode 1" in page.text
    assert "No mail server is configured" in page.text
    detail = client.get(f"/outbox/{message_id}")
    assert detail.status_code == 200 and "Tuesday at 20:00" in detail.text
    assert client.get("/outbox/?status=nonsense").status_code == 400
    sign_in_as(client, w.manager)
    assert client.get("/outbox/").status_code == 403
