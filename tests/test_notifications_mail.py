"""Mail goes through the outbox: delivered by the backend in force when it is sent (a real SMTP
server, or a folder of .eml files), waiting for admins to read while nothing sends, and never
written twice for one dedupe key."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from readerapp import config as settings
from readerapp.extensions import db
from readerapp.models import OutboxMessage
from readerapp.notifications.outbox import (
    MAX_ATTEMPTS,
    Claim,
    claim,
    compose,
    deliver_queued,
    mark_failed,
    mark_sent,
    queue_message,
)
from readerapp.notifications.transports import send_smtp

from .mail_support import Inbox, mail_settings
from .mail_support import smtp_server as running_smtp_server
from .world import build_world, sign_in_as

T = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=300)  # the default MAIL_LEASE_SECONDS


@pytest.fixture
def smtp_server(app: Flask) -> Iterator[Inbox]:
    inbox = Inbox()
    with running_smtp_server(inbox) as port, mail_settings(app, port):
        yield inbox


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
    assert message.lease_until is None
    assert received["Message-ID"] == message.message_id
    assert message.message_id.endswith("@charity.example>")


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


def test_without_a_sending_backend_messages_wait_and_admins_read_them(app: Flask, client) -> None:  # type: ignore[no-untyped-def]
    assert not app.config["MAIL_HOST"] and app.config["MAIL_BACKEND"] == "auto"
    w = build_world()
    _queue()
    db.session.commit()
    assert deliver_queued().sent == 0
    message = db.session.scalar(sa.select(OutboxMessage))
    assert message.status == "queued" and message.attempts == 0
    message_id = message.id
    db.session.commit()
    sign_in_as(client, w.admin)
    page = client.get("/outbox/?status=queued")
    assert page.status_code == 200 and "Reminder: episode 1" in page.text
    assert "No mail is being sent" in page.text
    detail = client.get(f"/outbox/{message_id}")
    assert detail.status_code == 200 and "Tuesday at 20:00" in detail.text
    assert client.get("/outbox/?status=nonsense").status_code == 400
    sign_in_as(client, w.manager)
    assert client.get("/outbox/").status_code == 403


def test_messages_queued_before_mail_was_configured_go_out_once_it_is(app: Flask) -> None:
    _queue("early:1")
    db.session.commit()
    assert deliver_queued().sent == 0  # nothing sends yet: they wait
    inbox = Inbox()
    with running_smtp_server(inbox) as port, mail_settings(app, port):
        assert deliver_queued().sent == 1
    [received] = inbox.received
    assert received["Subject"] == "Reminder: episode 1"
    assert db.session.scalar(sa.select(OutboxMessage.status)) == "sent"


def test_a_message_without_a_recipient_is_held_and_never_sent(smtp_server: Inbox) -> None:
    queue_message(dedupe_key="x:1", kind="test", recipient=None, subject="S", body="B")
    db.session.commit()
    assert deliver_queued().sent == 0 and smtp_server.received == []
    message = db.session.scalar(sa.select(OutboxMessage))
    assert message.status == "held" and message.last_error == "No recipient address is recorded."


def test_the_outbox_backend_keeps_messages_even_with_a_mail_host(
    smtp_server: Inbox, app: Flask
) -> None:
    app.config["MAIL_BACKEND"] = "outbox"
    try:
        _queue()
        db.session.commit()
        assert deliver_queued().sent == 0 and smtp_server.received == []
    finally:
        app.config["MAIL_BACKEND"] = "auto"
    assert deliver_queued().sent == 1 and len(smtp_server.received) == 1


def test_the_folder_backend_writes_each_message_as_an_eml_file(app: Flask, tmp_path: Path) -> None:
    app.config.update(MAIL_BACKEND="folder", MAIL_FOLDER=str(tmp_path / "mail"))
    try:
        _queue()
        db.session.commit()
        assert deliver_queued().sent == 1
    finally:
        app.config.update(MAIL_BACKEND="auto", MAIL_FOLDER="")
    [written] = list((tmp_path / "mail").iterdir())
    parsed = BytesParser(policy=policy.default).parsebytes(written.read_bytes())
    message = db.session.scalar(sa.select(OutboxMessage))
    assert written.suffix == ".eml" and parsed["Message-ID"] == message.message_id
    assert parsed["To"] == "station@radio.example" and "Tuesday at 20:00" in parsed.get_content()
    assert message.status == "sent"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"MAIL_BACKEND": "pigeon"}, "MAIL_BACKEND: must be one of auto, smtp, folder, outbox"),
        ({"MAIL_BACKEND": "smtp"}, "MAIL_BACKEND: smtp needs MAIL_HOST"),
    ],
)
def test_mail_backend_settings_are_checked(
    tmp_path: Path, values: dict[str, str], message: str
) -> None:
    with pytest.raises(settings.ConfigError, match=message):
        settings.load(tmp_path, {"TESTING": True, "SECRET_KEY": "x", **values}, {})


# --- claims, leases and repeats ------------------------------------------------------------


def _row(outbox_id: int) -> OutboxMessage:
    db.session.rollback()
    return db.session.get(OutboxMessage, outbox_id, populate_existing=True)


def _queued_id(key: str = "test:1") -> int:
    message = _queue(key)
    assert message is not None
    outbox_id = message.id
    db.session.commit()  # and hold no transaction (on SQLite, no lock) afterwards
    return outbox_id


def test_a_claim_leases_the_message_and_no_other_sender_takes_it_meanwhile(
    smtp_server: Inbox,
) -> None:
    outbox_id = _queued_id()
    held = claim(outbox_id, now=T)
    assert held == Claim(outbox_id, 1, T + LEASE)
    row = _row(outbox_id)
    assert (row.status, row.attempts, row.lease_until) == ("sending", 1, T + LEASE)
    assert row.message_id and row.message_id.endswith("@charity.example>")
    assert claim(outbox_id, now=T + LEASE - timedelta(seconds=1)) is None
    assert deliver_queued(now=T + LEASE - timedelta(seconds=1)).sent == 0
    assert smtp_server.received == []
    assert _row(outbox_id).status == "sending"


def test_a_sender_dead_after_the_acceptance_is_taken_over_with_the_same_message_id(
    smtp_server: Inbox,
) -> None:
    outbox_id = _queued_id()
    other_id = _queued_id("test:2")
    # A sender claims the message, the server accepts it, and the sender dies before the mark.
    claim(outbox_id, now=T)
    send_smtp(compose(_row(outbox_id)))
    db.session.rollback()
    assert deliver_queued(now=T + timedelta(seconds=1)).sent == 1  # only the other message
    assert deliver_queued(now=T + LEASE).sent == 1  # the lease ran out: sent again
    assert deliver_queued(now=T + 2 * LEASE).sent == 0
    ids = [m["Message-ID"] for m in smtp_server.received]
    first, other = _row(outbox_id), _row(other_id)
    assert ids == [first.message_id, other.message_id, first.message_id]
    assert first.message_id != other.message_id
    assert (first.status, first.attempts, first.lease_until) == ("sent", 2, None)
    assert first.sent_at == T + LEASE


def test_an_earlier_claims_late_acceptance_counts_and_a_later_failure_does_not_undo_it(
    smtp_server: Inbox,
) -> None:
    outbox_id = _queued_id()
    slow = claim(outbox_id, now=T)
    later = claim(outbox_id, now=T + LEASE)
    assert slow is not None and later is not None and later.attempt == 2
    mark_sent(slow, T + LEASE + timedelta(seconds=5))  # the slow conversation was accepted
    mark_failed(later, "SMTPServerDisconnected: gone")
    row = _row(outbox_id)
    assert (row.status, row.sent_at, row.last_error) == (
        "sent",
        T + LEASE + timedelta(seconds=5),
        None,
    )
    assert claim(outbox_id, now=T + 3 * LEASE) is None


def test_a_stale_claims_failure_leaves_the_current_claim_alone(smtp_server: Inbox) -> None:
    outbox_id = _queued_id()
    stale = claim(outbox_id, now=T)
    current = claim(outbox_id, now=T + LEASE)
    assert stale is not None and current is not None
    mark_failed(stale, "TimeoutError: timed out")
    row = _row(outbox_id)
    assert (row.status, row.attempts, row.last_error) == ("sending", 2, None)


def test_concurrent_senders_claim_a_message_once(app: Flask, smtp_server: Inbox) -> None:
    outbox_id = _queued_id()
    start = threading.Barrier(4)
    claims: list[Claim | None] = []

    def sender() -> None:
        with app.app_context():
            start.wait()
            claims.append(claim(outbox_id))
            db.session.remove()

    threads = [threading.Thread(target=sender) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(claims) == 4
    assert [c.attempt for c in claims if c is not None] == [1]
    assert _row(outbox_id).attempts == 1


def test_failures_count_attempts_and_give_up_after_max_attempts(app: Flask) -> None:
    app.config["MAIL_HOST"] = "127.0.0.1"
    app.config["MAIL_PORT"] = 1  # nothing listens there
    try:
        outbox_id = _queued_id()
        for attempt in range(1, MAX_ATTEMPTS + 1):
            assert deliver_queued(now=T + attempt * timedelta(minutes=1)).failed == 1
            row = _row(outbox_id)
            assert row.attempts == attempt and row.lease_until is None
            assert row.status == ("failed" if attempt == MAX_ATTEMPTS else "queued")
        assert deliver_queued(now=T + timedelta(days=1)).failed == 0
    finally:
        app.config["MAIL_HOST"] = ""
        app.config["MAIL_PORT"] = 25


def test_an_interrupted_last_attempt_gives_up_instead_of_sending_again(
    smtp_server: Inbox,
) -> None:
    outbox_id = _queued_id()
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == outbox_id)
        .values(attempts=MAX_ATTEMPTS - 1)
    )
    db.session.commit()
    assert claim(outbox_id, now=T) is not None  # the last permitted attempt; its sender dies
    assert deliver_queued(now=T + LEASE).sent == 0
    row = _row(outbox_id)
    assert (row.status, row.lease_until) == ("failed", None)
    assert "interrupted" in row.last_error
    assert smtp_server.received == []


def test_the_outbox_page_shows_messages_being_sent_and_interrupted(
    app: Flask,
    client,
    smtp_server: Inbox,  # type: ignore[no-untyped-def]
) -> None:
    w = build_world()
    sending = _queued_id("test:1")
    interrupted = _queued_id("test:2")
    claim(sending, now=datetime.now(UTC))
    claim(interrupted, now=datetime.now(UTC) - 2 * LEASE)
    message_id = _row(sending).message_id
    db.session.commit()
    sign_in_as(client, w.admin)
    page = client.get("/outbox/?status=sending")
    assert page.status_code == 200
    assert "Sending (2)" in page.text
    assert ">Sending</span>" in page.text and ">Interrupted</span>" in page.text
    assert "may arrive twice" in page.text
    detail = client.get(f"/outbox/{sending}")
    assert detail.status_code == 200 and message_id.strip("<>") in detail.text
    assert "with the mail server now" in detail.text
    assert "sent again shortly" in client.get(f"/outbox/{interrupted}").text


def test_the_lease_must_be_a_positive_number_of_seconds(tmp_path: Path) -> None:
    base = {"TESTING": True, "SECRET_KEY": "x"}
    assert settings.load(tmp_path, base)["MAIL_LEASE_SECONDS"] == 300
    environ = {"READERAPP_MAIL_LEASE_SECONDS": "30"}
    assert settings.load(tmp_path, base, environ)["MAIL_LEASE_SECONDS"] == 30
    with pytest.raises(settings.ConfigError, match="MAIL_LEASE_SECONDS"):
        settings.load(tmp_path, {**base, "MAIL_LEASE_SECONDS": 0}, {})
