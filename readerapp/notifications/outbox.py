"""The outbox: every message is written here first (once, by its dedupe key), then delivered.

Whether and how a message leaves is decided when it is sent (``transports.py``, the
``MAIL_BACKEND`` setting): while nothing sends, messages wait as ``queued`` for admins to read
in the app, and go out once mail is configured. Only a message with no recipient is ``held``.
Delivering one message takes three steps, each its own commit:

1. claim it: one UPDATE moves it from ``queued`` (or from ``sending`` whose lease has run out)
   to ``sending``, counts the attempt and leases it for MAIL_LEASE_SECONDS;
2. hold no transaction while the SMTP server is spoken to;
3. mark it ``sent`` straight after the server accepts it, or put it back to ``queued`` on an
   error (``failed`` after MAX_ATTEMPTS).

So a message is queued exactly once and each claim sends it at most once. A sender that dies
between the server's acceptance and step 3 leaves it ``sending``; once the lease has run out
another sender claims it and sends it again, with the same Message-ID (fixed at the first
claim), so mail systems and people can tell the repeat for what it is.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import parseaddr

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..timeutil import utcnow
from .models import OutboxMessage
from .transports import current_transport

log = logging.getLogger("readerapp.notifications")

# After this many failed attempts a message stops being retried and shows as failed.
MAX_ATTEMPTS = 5


def mail_configured() -> bool:
    """Does a backend send messages now (rather than keep them in the outbox)?"""
    return current_transport() is not None


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
    undoing the caller's transaction. A message without a recipient is held with the reason;
    every other message is queued, whatever the mail settings are now.
    """
    if db.session.scalar(sa.select(OutboxMessage.id).filter_by(dedupe_key=dedupe_key)):
        return None
    message = OutboxMessage(
        dedupe_key=dedupe_key,
        kind=kind,
        recipient=recipient or "",
        subject=subject,
        body=body,
        status="queued" if recipient else "held",
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


@dataclass(frozen=True)
class Claim:
    """One sender's hold on one message; ``attempt`` (the attempts count it set) tells it from
    any later claim of the same message."""

    outbox_id: int
    attempt: int
    lease_until: datetime


def lease_length() -> timedelta:
    return timedelta(seconds=int(current_app.config["MAIL_LEASE_SECONDS"]))


def sender_domain() -> str:
    address = parseaddr(current_app.config["MAIL_SENDER"])[1]
    return address.rpartition("@")[2] or "localhost"


def message_id_header(dedupe_key: str, created_at: datetime) -> str:
    """The Message-ID for a message: the same every time it is sent.

    Derived from the dedupe key and the moment it was queued, keyed with this installation's
    secret, so that another installation, or this one after its database was rebuilt, never
    reuses one (mail systems drop a message whose Message-ID they have already seen).
    """
    text = f"{dedupe_key}\n{created_at.isoformat()}".encode()
    secret = str(current_app.config["SECRET_KEY"]).encode()
    digest = hmac.new(secret, text, hashlib.sha256).hexdigest()[:32]
    return f"<{digest}.outbox@{sender_domain()}>"


def _claimable(now: datetime) -> sa.ColumnElement[bool]:
    return sa.or_(
        OutboxMessage.status == "queued",
        sa.and_(OutboxMessage.status == "sending", OutboxMessage.lease_until <= now),
    )


def claim(outbox_id: int, now: datetime | None = None) -> Claim | None:
    """Take one message for sending, in its own committed transaction; None when it is not
    claimable (sent, held, failed, or another sender's lease still runs).

    A message whose last permitted attempt was interrupted is marked failed instead: a message
    that kills its sender must not be retried for ever.
    """
    now = now or utcnow()
    row = db.session.execute(
        sa.select(OutboxMessage.attempts, OutboxMessage.dedupe_key, OutboxMessage.created_at).where(
            OutboxMessage.id == outbox_id, _claimable(now)
        )
    ).first()
    if row is None:
        db.session.rollback()
        return None
    still_claimable = (
        OutboxMessage.id == outbox_id,
        OutboxMessage.attempts == row.attempts,
        _claimable(now),
    )
    if row.attempts >= MAX_ATTEMPTS:
        db.session.execute(
            sa.update(OutboxMessage)
            .where(*still_claimable)
            .values(
                status="failed",
                lease_until=None,
                last_error="Sending was interrupted on the last attempt; "
                "the message may or may not have arrived.",
            )
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        return None
    lease_until = now + lease_length()
    result = db.session.execute(
        sa.update(OutboxMessage)
        .where(*still_claimable)
        .values(
            status="sending",
            attempts=row.attempts + 1,
            lease_until=lease_until,
            message_id=sa.func.coalesce(
                OutboxMessage.message_id, message_id_header(row.dedupe_key, row.created_at)
            ),
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if result.rowcount != 1:
        return None  # another sender claimed it between our read and our update
    log.info("claimed mail:%s.%s", outbox_id, row.attempts + 1)
    return Claim(outbox_id, row.attempts + 1, lease_until)


def mark_sent(held: Claim, at: datetime) -> None:
    """The server accepted the message: record it at once, in its own commit.

    Whichever claim's conversation was accepted, the message went out; an earlier claim's
    late acceptance still counts (and a later claim's failure must not undo it).
    """
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == held.outbox_id, OutboxMessage.status != "sent")
        .values(status="sent", sent_at=at, lease_until=None, last_error=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def mark_failed(held: Claim, error: str) -> None:
    """This claim's attempt failed: queue the message again, or give up after MAX_ATTEMPTS.
    Only while the claim is still the current one (a later claim may have sent it)."""
    db.session.execute(
        sa.update(OutboxMessage)
        .where(
            OutboxMessage.id == held.outbox_id,
            OutboxMessage.status == "sending",
            OutboxMessage.attempts == held.attempt,
        )
        .values(
            status="failed" if held.attempt >= MAX_ATTEMPTS else "queued",
            lease_until=None,
            last_error=error[:500],
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def deliver_queued(now: datetime | None = None, limit: int = 200) -> DeliveryResult:
    """Send queued messages (and those whose sender died) through the mail backend, each
    claimed first; nothing when the backend is the outbox alone.

    Commits per step (a job boundary, not a request). ``now`` fixes the clock for tests;
    otherwise each claim takes the time it is made, so a long run never shortens a lease.
    """
    result = DeliveryResult()
    send = current_transport()
    if send is None:
        return result
    candidates = db.session.scalars(
        sa.select(OutboxMessage.id)
        .where(_claimable(now or utcnow()))
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    db.session.rollback()
    for outbox_id in candidates:
        held = claim(outbox_id, now)
        if held is None:
            continue
        message = db.session.get(OutboxMessage, outbox_id, populate_existing=True)
        dedupe_key = message.dedupe_key
        try:
            email = compose(message)
            # No transaction during the conversation (on SQLite it would hold the write lock).
            db.session.rollback()
            send(email)
        except Exception as exc:  # any error is this attempt's failure, never the whole run's
            db.session.rollback()
            mark_failed(held, f"{type(exc).__name__}: {exc}")
            log.warning("mail %s not delivered (%s)", dedupe_key, type(exc).__name__)
            result.failed += 1
        else:
            mark_sent(held, now or utcnow())
            result.sent += 1
    return result


def compose(message: OutboxMessage) -> EmailMessage:
    email = EmailMessage()
    email["From"] = current_app.config["MAIL_SENDER"]
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Message-ID"] = message.message_id or message_id_header(
        message.dedupe_key, message.created_at
    )
    email.set_content(message.body)
    return email
