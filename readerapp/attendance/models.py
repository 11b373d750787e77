from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import TimestampMixin, UTCDateTime
from ..extensions import db
from ..organisations.models import Organisation
from ..sessions.models import ReadingSession


class Attendance(TimestampMixin, db.Model):
    """The headcounts of one delivered session."""

    __tablename__ = "attendance"
    __table_args__ = (
        sa.CheckConstraint("participants >= 0", name="participants_non_negative"),
        sa.CheckConstraint("first_time >= 0", name="first_time_non_negative"),
        sa.CheckConstraint("first_time <= participants", name="first_time_within_participants"),
        sa.CheckConstraint("staff_carers >= 0", name="staff_carers_non_negative"),
        sa.CheckConstraint("volunteers >= 0", name="volunteers_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        sa.ForeignKey("reading_session.id", ondelete="CASCADE"), unique=True
    )
    participants: Mapped[int] = mapped_column(default=0)
    first_time: Mapped[int] = mapped_column(default=0)
    staff_carers: Mapped[int] = mapped_column(default=0)
    volunteers: Mapped[int] = mapped_column(default=0)
    logged_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )

    session: Mapped[ReadingSession] = relationship(back_populates="attendance")
    records: Mapped[list[ParticipantAttendance]] = relationship(
        primaryjoin="Attendance.session_id == foreign(ParticipantAttendance.session_id)",
        viewonly=True,
    )


class Participant(TimestampMixin, db.Model):
    """A person who attends, known by a pseudonymous code unique within an organisation.

    ``display_name`` and ``notes`` are personal data: optional, shown only to the leaders of the
    person's groups and to admins, cleared by retention and erasure.
    """

    __tablename__ = "participant"
    __table_args__ = (sa.UniqueConstraint("organisation_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organisation.id", ondelete="RESTRICT"), index=True
    )
    code: Mapped[str] = mapped_column(sa.String(40))
    display_name: Mapped[str | None] = mapped_column(sa.String(120))
    notes: Mapped[str | None] = mapped_column(sa.Text)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation] = relationship()


class ParticipantAttendance(db.Model):
    """One participant present at one delivered session."""

    __tablename__ = "participant_attendance"

    session_id: Mapped[int] = mapped_column(
        sa.ForeignKey("reading_session.id", ondelete="CASCADE"), primary_key=True
    )
    participant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("participant.id", ondelete="RESTRICT"), primary_key=True, index=True
    )
    first_time: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    participant: Mapped[Participant] = relationship()
