from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import TimestampMixin, UTCDateTime, enum_check, touch_on_change
from ..extensions import db
from ..organisations.models import Organisation
from ..sessions.models import ReadingMaterial, ReadingSession

BROADCAST_STATUSES = ("scheduled", "aired", "cancelled")


class Programme(TimestampMixin, db.Model):
    """A series on a station, e.g. "Shared Reading" on a prison radio station."""

    __tablename__ = "programme"
    __table_args__ = (sa.UniqueConstraint("station_id", "title"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organisation.id", ondelete="RESTRICT"), index=True
    )
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str | None] = mapped_column(sa.Text)

    station: Mapped[Organisation] = relationship()
    episodes: Mapped[list[Episode]] = relationship(
        back_populates="programme", order_by="Episode.number"
    )


episode_material = sa.Table(
    "episode_material",
    db.metadata,
    sa.Column("episode_id", sa.ForeignKey("episode.id", ondelete="CASCADE"), primary_key=True),
    sa.Column(
        "material_id",
        sa.ForeignKey("reading_material.id", ondelete="RESTRICT"),
        primary_key=True,
        index=True,
    ),
)


class Episode(TimestampMixin, db.Model):
    """A recorded session, ready to broadcast."""

    __tablename__ = "episode"
    __table_args__ = (
        sa.UniqueConstraint("programme_id", "number"),
        sa.CheckConstraint("duration_minutes > 0", name="duration_positive"),
        sa.CheckConstraint("number > 0", name="number_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(
        sa.ForeignKey("programme.id", ondelete="RESTRICT"), index=True
    )
    number: Mapped[int]
    title: Mapped[str] = mapped_column(sa.String(200))
    duration_minutes: Mapped[int]
    source_session_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("reading_session.id", ondelete="SET NULL")
    )

    programme: Mapped[Programme] = relationship(back_populates="episodes")
    materials: Mapped[list[ReadingMaterial]] = relationship(
        secondary=episode_material, order_by=ReadingMaterial.title
    )
    source_session: Mapped[ReadingSession | None] = relationship()


class Broadcast(TimestampMixin, db.Model):
    """An episode on a station at a UTC air time."""

    __tablename__ = "broadcast"
    __table_args__ = (
        enum_check("status", BROADCAST_STATUSES, "status"),
        # Cancelled broadcasts stay for reports, so only live ones hold their start time.
        sa.Index(
            "uq_broadcast_live_station_id_air_dt",
            "station_id",
            "air_dt",
            unique=True,
            sqlite_where=sa.text("status <> 'cancelled'"),
            postgresql_where=sa.text("status <> 'cancelled'"),
        ),
        sa.CheckConstraint("duration_minutes > 0", name="duration_positive"),
        sa.Index("ix_broadcast_air_dt_station_id", "air_dt", "station_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organisation.id", ondelete="RESTRICT"), index=True
    )
    episode_id: Mapped[int] = mapped_column(
        sa.ForeignKey("episode.id", ondelete="RESTRICT"), index=True
    )
    air_dt: Mapped[datetime] = mapped_column(UTCDateTime)
    tz_name: Mapped[str] = mapped_column(sa.String(64))
    duration_minutes: Mapped[int]
    status: Mapped[str] = mapped_column(sa.String(10), default="scheduled")
    cancellation_reason: Mapped[str | None] = mapped_column(sa.String(500))
    repeat_of_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("broadcast.id", ondelete="RESTRICT"), index=True
    )
    # Where a schedule file created it ("FILE#KEY"), so loading the file again is idempotent.
    source_key: Mapped[str | None] = mapped_column(sa.String(300), unique=True)
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    sequence: Mapped[int] = mapped_column(default=0, server_default="0")
    reminder_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    aired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    station: Mapped[Organisation] = relationship()
    episode: Mapped[Episode] = relationship()
    repeat_of: Mapped[Broadcast | None] = relationship(remote_side=[id])

    __mapper_args__ = {"version_id_col": version}

    @property
    def end_dt(self) -> datetime:
        return self.air_dt + timedelta(minutes=self.duration_minutes)


touch_on_change(Episode.materials)
