from __future__ import annotations

from datetime import date, time

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import TimestampMixin, enum_check
from ..extensions import db
from ..organisations.models import Partnership, Venue
from ..users.models import User

GROUP_STATUSES = ("active", "paused", "closed")


def place_words(venue_name: str, unit: str | None, room: str | None, *, detail: bool) -> str:
    """Where a group meets, the most precise first: "Larch Ward, Moorside, Northmoor Hospital".

    Without ``detail`` (a partner of an organisation that keeps its wards private) only the
    venue's name. A room that repeats the venue's unit is said once.
    """
    parts: list[str] = []
    for part in (room, unit, venue_name) if detail else (venue_name,):
        if part and part.casefold() not in (p.casefold() for p in parts):
            parts.append(part)
    return ", ".join(parts)


group_coleader = sa.Table(
    "group_coleader",
    db.metadata,
    sa.Column("group_id", sa.ForeignKey("reading_group.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", sa.ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True),
)


class ReadingGroup(TimestampMixin, db.Model):
    __tablename__ = "reading_group"
    __table_args__ = (
        enum_check("status", GROUP_STATUSES, "status"),
        sa.CheckConstraint("duration_minutes > 0", name="duration_positive"),
        sa.CheckConstraint("capacity IS NULL OR capacity > 0", name="capacity_positive"),
        sa.CheckConstraint(
            "expected_max IS NULL OR expected_max > 0", name="expected_max_positive"
        ),
        sa.CheckConstraint("last_date IS NULL OR last_date >= first_date", name="dates_ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    venue_id: Mapped[int] = mapped_column(
        sa.ForeignKey("venue.id", ondelete="RESTRICT"), index=True
    )
    lead_leader_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    # RFC 5545 recurrence rule without DTSTART, e.g. "FREQ=WEEKLY;BYDAY=TU".
    rrule: Mapped[str] = mapped_column(sa.String(500))
    start_time: Mapped[time]  # local wall-clock time in tz_name
    duration_minutes: Mapped[int]
    tz_name: Mapped[str] = mapped_column(sa.String(64))
    first_date: Mapped[date]
    last_date: Mapped[date | None]
    status: Mapped[str] = mapped_column(sa.String(10), default="active")
    capacity: Mapped[int | None]
    # The group's own room or ward within its venue (one hospital holds many wards).
    room: Mapped[str | None] = mapped_column(sa.String(200))
    # The most participants a session usually has: a log above it asks "is that right?".
    # None: worked out from the group's recent sessions.
    expected_max: Mapped[int | None]
    # False for groups that count heads only (wards where people come and go): the log form
    # then shows no register.
    keeps_register: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    audience_notes: Mapped[str | None] = mapped_column(sa.Text)

    venue: Mapped[Venue] = relationship()
    lead_leader: Mapped[User | None] = relationship(foreign_keys=[lead_leader_id])
    coleaders: Mapped[list[User]] = relationship(secondary=group_coleader, order_by=User.id)
    partnerships: Mapped[list[Partnership]] = relationship(
        back_populates="group", cascade="all, delete-orphan"
    )
    excluded_dates: Mapped[list[GroupExcludedDate]] = relationship(
        cascade="all, delete-orphan", order_by="GroupExcludedDate.day"
    )

    def place(self, detail: bool) -> str:
        """Where the group meets (see ``place_words``)."""
        return place_words(self.venue.name, self.venue.unit, self.room, detail=detail)

    def is_led_by(self, user: User) -> bool:
        return self.lead_leader_id == user.id or any(c.id == user.id for c in self.coleaders)

    def __repr__(self) -> str:
        return f"<ReadingGroup {self.id} {self.name!r}>"


class GroupExcludedDate(db.Model):
    """A local date on which the pattern does not meet (a bank holiday, a ward closure)."""

    __tablename__ = "group_excluded_date"

    group_id: Mapped[int] = mapped_column(
        sa.ForeignKey("reading_group.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(primary_key=True)
    reason: Mapped[str | None] = mapped_column(sa.String(200))
