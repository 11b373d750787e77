"""The outbox: every message is written here first (once, by its dedupe key), then delivered.

With no MAIL_HOST configured a message is kept with status ``held`` for admins to read in the
app; nothing is dropped. Delivery claims each message before sending it, so two deliverers never
send the same message twice.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import make_msgid

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..timeutil import utcnow
from .models import OutboxMessage

log = logging.getLogger("readerapp.notifications")

# After this many failed attempts a message stops being retried and shows as failed.
MAX_ATTEMPTS = 5


def mail_configured() -> bool:
    return bool(current_app.config.get("MAIL_HOST"))


def queue_message(
    *,
    dedupe_key: str,
    kind: str,
    recipient: str | None,
    subject: str,
    body: str,
) -> OutboxMessage | None:
    """Write a message to the outbox unless one with ``dedupe_key`` exists (then return None).

    Flushes inside a savepoint, so a concurrent insert of the same key loses cleanly without
    undoing the caller's transaction. A message without a recipient is held with the reason.
    """
    if db.session.scalar(sa.select(OutboxMessage.id).filter_by(dedupe_key=dedupe_key)):
        return None
    message = OutboxMessage(
        dedupe_key=dedupe_key,
        kind=kind,
        recipient=recipient or "",
        subject=subject,
        body=body,
        status="queued" if mail_configured() and recipient else "held",
        last_error=None if recipient else "No recipient address is recorded.",
    )
    try:
        with db.session.begin_nested():
            db.session.add(message)
    except sa.exc.IntegrityError:
        return None
    return message


@dataclass
class DeliveryResult:
    sent: int = 0
    failed: int = 0


def _claim(message_id: int, attempts: int) -> bool:
    """Take one queued message for sending; False when someone else took it first."""
    result = db.session.execute(
        sa.update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.status == "queued",
            OutboxMessage.attempts == attempts,
        )
        .values(attempts=attempts + 1)
    )
    db.session.commit()
    return result.rowcount == 1


def deliver_queued(now: datetime | None = None, limit: int = 200) -> DeliveryResult:
    """Send queued messages over SMTP. Commits per message (a job boundary, not a request)."""
    result = DeliveryResult()
    if not mail_configured():
        return result
    queued = db.session.execute(
        sa.select(OutboxMessage.id, OutboxMessage.attempts)
        .where(OutboxMessage.status == "queued")
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    db.session.commit()
    for message_id, attempts in queued:
        if not _claim(message_id, attempts):
            continue
        message = db.session.get(OutboxMessage, message_id)
        try:
            send_smtp(message)
        except (OSError, smtplib.SMTPException) as exc:
            message.last_error = f"{type(exc).__name__}: {exc}"[:500]
            if message.attempts >= MAX_ATTEMPTS:
                message.status = "failed"
            log.warning("mail %s not delivered (%s)", message.dedupe_key, type(exc).__name__)
            result.failed += 1
        else:
            message.status = "sent"
            message.sent_at = now or utcnow()
            message.last_error = None
            result.sent += 1
        db.session.commit()
    return result


def send_smtp(message: OutboxMessage) -> None:
    config = current_app.config
    email = EmailMessage()
    email["From"] = config["MAIL_SENDER"]
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Message-ID"] = make_msgid(idstring=f"outbox-{message.id}")
    email.set_content(message.body)
    host, port, tls = config["MAIL_HOST"], int(config["MAIL_PORT"]), config["MAIL_TLS"]
    if tls == "ssl":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(
            host, port, timeout=30, context=ssl.create_default_context()
        )
    else:
        smtp = smtplib.SMTP(host, port, timeout=30)
    with smtp:
        if tls == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(email)
