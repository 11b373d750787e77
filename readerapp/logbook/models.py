"""What the log keeps beside a session's own row: the idempotency keys logs were sent with."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..db import UTCDateTime
from ..extensions import db
from ..timeutil import utcnow

# Long enough for a UUID or any client's own scheme; short enough to index everywhere.
IDEMPOTENCY_KEY_LENGTH = 100


class LogReceipt(db.Model):
    """A log sent with an idempotency key, made on the sending device. The key is unique: the
    same log sent again (its reply lost with the signal) finds this row and is answered with
    the first result instead of writing a second time."""

    __tablename__ = "log_receipt"

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(sa.String(IDEMPOTENCY_KEY_LENGTH), unique=True)
    session_id: Mapped[int] = mapped_column(
        sa.ForeignKey("reading_session.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
