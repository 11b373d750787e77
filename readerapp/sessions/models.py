from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import TimestampMixin, UTCDateTime, enum_check, touch_on_change
from ..extensions import db
from ..groups.models import ReadingGroup
from ..timeutil import to_local
from ..users.models import User

SESSION_STATUSES = ("scheduled", "delivered", "cancelled")
MATERIAL_KINDS = ("short_story", "poem", "novel_extract", "play", "other")


class ReadingMaterial(TimestampMixin, db.Model):
    __tablename__ = "reading_material"
    __table_args__ = (
        enum_check("kind", MATERIAL_KINDS, "kind"),
        sa.UniqueConstraint("title", "author"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(300))
    author: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[str] = mapped_column(sa.String(20))

    def __str__(self) -> str:
        return f"{self.title} — {self.author}"


session_material = sa.Table(
    "session_material",
    db.metadata,
    sa.Column(
        "session_id", sa.ForeignKey("reading_session.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column(
        "material_id",
        sa.ForeignKey("reading_material.id", ondelete="RESTRICT"),
        primary_key=True,
        index=True,
    ),
)


class ReadingSession(TimestampMixin, db.Model):
    """One occurrence of a reading group."""

    __tablename__ = "reading_session"
    __table_args__ = (
        enum_check("status", SESSION_STATUSES, "status"),
        sa.UniqueConstraint("group_id", "start_dt"),
        sa.CheckConstraint("duration_minutes > 0", name="duration_positive"),
        sa.CheckConstraint(
            "status <> 'cancelled' OR cancellation_reason IS NOT NULL",
            name="cancellation_has_reason",
        ),
        sa.Index("ix_reading_session_start_dt_group_id", "start_dt", "group_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(
        sa.ForeignKey("reading_group.id", ondelete="CASCADE"), index=True
    )
    start_dt: Mapped[datetime] = mapped_column(UTCDateTime)  # UTC; shown in tz_name
    tz_name: Mapped[str] = mapped_column(sa.String(64))
    duration_minutes: Mapped[int]
    status: Mapped[str] = mapped_column(sa.String(10), default="scheduled")
    cancellation_reason: Mapped[str | None] = mapped_column(sa.String(500))
    # The pattern's slot this occurrence was generated for. It keeps the occurrence's identity
    # when it is rescheduled (start_dt moves, this does not); NULL for one-off sessions.
    occurrence_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The start it replaced when it was last moved.
    rescheduled_from_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    leader_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    notes: Mapped[str | None] = mapped_column(sa.Text)
    # Optimistic lock: bumped by SQLAlchemy on every UPDATE.
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    # iCalendar SEQUENCE: bumped on every change of time or status.
    sequence: Mapped[int] = mapped_column(default=0, server_default="0")
    # Set when a person changed the occurrence, so pattern regeneration leaves it alone.
    touched: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    reminder_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    nudge_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When a log was entered late, from a paper register ("I'm logging this later from
    # paper"): reports give the share of logs entered so.
    entered_late_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    group: Mapped[ReadingGroup] = relationship()
    leader: Mapped[User | None] = relationship()
    materials: Mapped[list[ReadingMaterial]] = relationship(
        secondary=session_material, order_by=ReadingMaterial.title
    )
    attendance: Mapped[Attendance | None] = relationship(  # noqa: F821
        back_populates="session", uselist=False, cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def end_dt(self) -> datetime:
        return self.start_dt + timedelta(minutes=self.duration_minutes)

    @property
    def local_start(self) -> datetime:
        return to_local(self.start_dt, self.tz_name)

    @property
    def local_end(self) -> datetime:
        return to_local(self.end_dt, self.tz_name)

    def __repr__(self) -> str:
        return f"<ReadingSession {self.id} group={self.group_id} {self.start_dt.isoformat()}>"


touch_on_change(ReadingSession.materials)
