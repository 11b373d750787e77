"""Reader leaders as a workforce: who they are employed as, their training and their checks
(DBS), the reminders sent about renewals, and managers' adjustments of the hours a session
counts for.

Check records are personal data of staff: only the last four digits of a certificate number are
kept (enough to tell two certificates apart, useless to anyone else), and who may see them is
decided in readerapp.access.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import TimestampMixin, enum_check
from ..extensions import db
from ..users.models import User

EMPLOYMENT_TYPES = ("staff", "volunteer", "freelance")
# An enhanced check with the barred list is what regulated activity needs; the others are kept
# for the record but never admit a leader to a regulated setting.
CHECK_TYPES = ("enhanced_dbs_barred", "enhanced_dbs", "standard_dbs", "basic_dbs")
CURRENT_CHECK_TYPES = ("enhanced_dbs_barred",)
CHECK_TYPE_LABELS = {
    "enhanced_dbs_barred": "Enhanced DBS with barred list",
    "enhanced_dbs": "Enhanced DBS",
    "standard_dbs": "Standard DBS",
    "basic_dbs": "Basic DBS",
}
REMINDED_KINDS = ("check", "training")


class LeaderRecord(TimestampMixin, db.Model):
    """One person's place in the workforce; their training and checks hang off their user."""

    __tablename__ = "leader_record"
    __table_args__ = (enum_check("employment_type", EMPLOYMENT_TYPES, "employment_type"),)

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    employment_type: Mapped[str] = mapped_column(sa.String(10))
    # Who is told of renewals besides the person (a manager or admin).
    manager_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    # The day the person left; their check records are deleted a retention period after it.
    left_on: Mapped[date | None]

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    manager: Mapped[User | None] = relationship(foreign_keys=[manager_id])


class TrainingRecord(TimestampMixin, db.Model):
    """A course completed (the leader training, a refresher), with its expiry when it has one."""

    __tablename__ = "leader_training"
    __table_args__ = (
        sa.CheckConstraint(
            "expires_on IS NULL OR expires_on > completed_on", name="expires_after_completed"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    # One of the WORKFORCE_COURSES setting's names.
    course: Mapped[str] = mapped_column(sa.String(40))
    completed_on: Mapped[date]
    expires_on: Mapped[date | None]

    user: Mapped[User] = relationship()


class CheckRecord(TimestampMixin, db.Model):
    """A disclosure check (DBS). Only the certificate number's last four digits are stored."""

    __tablename__ = "leader_check"
    __table_args__ = (
        enum_check("check_type", CHECK_TYPES, "check_type"),
        sa.CheckConstraint("renewal_due > issued_on", name="renewal_after_issue"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    check_type: Mapped[str] = mapped_column(sa.String(20))
    certificate_last_digits: Mapped[str] = mapped_column(sa.String(4))
    issued_on: Mapped[date]
    renewal_due: Mapped[date]
    update_service: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    update_checked_on: Mapped[date | None]

    user: Mapped[User] = relationship()


class RenewalReminder(TimestampMixin, db.Model):
    """A renewal reminder sent: one per record and days-before, its unique key the claim that
    makes it go out once however many scheduler processes run."""

    __tablename__ = "renewal_reminder"
    __table_args__ = (
        enum_check("record_kind", REMINDED_KINDS, "record_kind"),
        sa.UniqueConstraint("record_kind", "record_id", "due_on", "days_before"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    record_kind: Mapped[str] = mapped_column(sa.String(10))
    # The check's or training's id: no foreign key, the reminder outlives a deleted record.
    record_id: Mapped[int]
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    due_on: Mapped[date]
    days_before: Mapped[int]


class GroupHoursSetting(TimestampMixin, db.Model):
    """A group's preparation and travel time per session, instead of the settings' defaults."""

    __tablename__ = "group_hours_setting"
    __table_args__ = (
        sa.CheckConstraint("preparation_minutes >= 0", name="preparation_not_negative"),
        sa.CheckConstraint("travel_minutes >= 0", name="travel_not_negative"),
    )

    group_id: Mapped[int] = mapped_column(
        sa.ForeignKey("reading_group.id", ondelete="CASCADE"), primary_key=True
    )
    preparation_minutes: Mapped[int]
    travel_minutes: Mapped[int]


class SessionHoursAdjustment(TimestampMixin, db.Model):
    """A manager's correction of the minutes one person is credited for one session."""

    __tablename__ = "session_hours_adjustment"
    __table_args__ = (sa.CheckConstraint("minutes >= 0", name="minutes_not_negative"),)

    session_id: Mapped[int] = mapped_column(
        sa.ForeignKey("reading_session.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    minutes: Mapped[int]
    reason: Mapped[str] = mapped_column(sa.String(200))
