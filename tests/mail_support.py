"""A real SMTP server (aiosmtpd) on a free port, recording what it accepts."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import Message

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message as MessageHandler
from flask import Flask

SENDER = "readerapp@charity.example"


class Inbox(MessageHandler):
    """Keeps every message the server accepts (``handle_message`` runs before the 250)."""

    def __init__(self) -> None:
        super().__init__()
        self.received: list[Message] = []

    def handle_message(self, message: Message) -> None:
        self.received.append(message)


@contextmanager
def smtp_server(inbox: Inbox) -> Iterator[int]:
    """Run ``inbox`` behind a real SMTP server; yields its port."""
    with socket.socket() as probe:  # a free port (aiosmtpd checks its own port once started)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


@contextmanager
def mail_settings(app: Flask, port: int) -> Iterator[None]:
    """Point ``app`` at the test's SMTP server (messages queued meanwhile are sent, not held)."""
    keys = ("MAIL_HOST", "MAIL_PORT", "MAIL_TLS", "MAIL_SENDER")
    saved = {k: app.config[k] for k in keys}
    app.config.update(MAIL_HOST="127.0.0.1", MAIL_PORT=port, MAIL_TLS="none", MAIL_SENDER=SENDER)
    try:
        yield
    finally:
        app.config.update(saved)
