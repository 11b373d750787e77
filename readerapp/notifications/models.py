from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..db import TimestampMixin, UTCDateTime, enum_check
from ..extensions import db

OUTBOX_STATUSES = ("queued", "sending", "sent", "held", "failed")


class OutboxMessage(TimestampMixin, db.Model):
    """A message to send. ``dedupe_key`` makes each reminder or nudge exist at most once."""

    __tablename__ = "outbox_message"
    __table_args__ = (enum_check("status", OUTBOX_STATUSES, "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(40))
    recipient: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(300))
    body: Mapped[str] = mapped_column(sa.Text)
    # queued: to send; sending: claimed by a sender until ``lease_until`` (if that passes, the
    # sender died and the message is claimed again); sent: accepted by the mail backend; held: it
    # has no recipient, so it can never be sent; failed: given up after MAX_ATTEMPTS. While no
    # backend sends (MAIL_BACKEND outbox), messages wait as queued.
    status: Mapped[str] = mapped_column(sa.String(10), default="queued", index=True)
    # Claims so far; each claim increments it, so it also tells one claim from the next.
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The Message-ID header, fixed at the first claim: a repeat after a crash carries the same one.
    message_id: Mapped[str | None] = mapped_column(sa.String(300))


class SchedulerHeartbeat(db.Model):
    """The active scheduler process writes here every few seconds; /healthz reads it."""

    __tablename__ = "scheduler_heartbeat"

    name: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime)
    host: Mapped[str] = mapped_column(sa.String(200))
    pid: Mapped[int]
