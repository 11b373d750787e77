"""Safeguarding concerns: what a leader saw or heard that worried them about someone's safety.

Only designated safeguarding leads (``User.safeguarding_lead``) read them (readerapp.access).
Every column but the ids, the status and the dates is the concern's content; the audit trail
records that those changed, never their values (readerapp.audit.trail).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..attendance.models import Participant
from ..db import TimestampMixin, UTCDateTime, enum_check
from ..extensions import db
from ..sessions.models import ReadingSession
from ..users.models import User

# What kind of worry, in the words of common safeguarding policies (no free-text diagnosis).
CONCERN_CATEGORIES: dict[str, str] = {
    "self_harm": "Self-harm or suicide risk",
    "abuse_disclosed": "Abuse disclosed or suspected",
    "neglect": "Neglect or self-neglect",
    "exploitation": "Exploitation (financial, sexual, criminal)",
    "domestic_abuse": "Domestic abuse",
    "mental_health_crisis": "Mental health crisis",
    "staff_conduct": "Conduct of staff or a volunteer",
    "other": "Other",
}
CONCERN_STATUSES: tuple[str, ...] = ("open", "referred", "closed")
STATUS_LABELS: dict[str, str] = {
    "open": "Open",
    "referred": "Referred to a partner or agency",
    "closed": "Closed",
}


class Concern(TimestampMixin, db.Model):
    """One safeguarding concern about a session or a participant (or both)."""

    __tablename__ = "safeguarding_concern"
    __table_args__ = (
        enum_check("category", tuple(CONCERN_CATEGORIES), "category"),
        enum_check("status", CONCERN_STATUSES, "status"),
        sa.CheckConstraint(
            "session_id IS NOT NULL OR participant_id IS NOT NULL", name="about_someone"
        ),
        sa.CheckConstraint(
            "status <> 'referred' OR referred_to IS NOT NULL", name="referred_has_agency"
        ),
        sa.CheckConstraint(
            "status <> 'closed' OR (closed_at IS NOT NULL AND outcome IS NOT NULL)",
            name="closed_has_outcome",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("reading_session.id", ondelete="SET NULL"), index=True
    )
    participant_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("participant.id", ondelete="SET NULL"), index=True
    )
    category: Mapped[str] = mapped_column(sa.String(30))
    seen_or_said: Mapped[str] = mapped_column(sa.Text)
    action_taken: Mapped[str] = mapped_column(sa.Text)
    who_was_told: Mapped[str | None] = mapped_column(sa.String(500))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    raised_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(sa.String(20), default="open", server_default="open")
    referred_to: Mapped[str | None] = mapped_column(sa.String(200))
    reference: Mapped[str | None] = mapped_column(sa.String(100))
    outcome: Mapped[str | None] = mapped_column(sa.Text)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    session: Mapped[ReadingSession | None] = relationship()
    participant: Mapped[Participant | None] = relationship()
    raised_by: Mapped[User | None] = relationship()
