"""Referrals: who sent a person to Shared Reading, when and why, and how far they have come
(referred → first session attended → regular → ended), after the NHS social prescribing data
standard's source, date, status and feedback to the referrer."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..attendance.models import Participant
from ..db import TimestampMixin, UTCDateTime, enum_check
from ..extensions import db
from ..organisations.models import Organisation

REFERRAL_STATUSES: tuple[str, ...] = ("referred", "first_session", "regular", "ended")
STATUS_LABELS: dict[str, str] = {
    "referred": "Referred",
    "first_session": "First session attended",
    "regular": "Attends regularly",
    "ended": "Ended",
}
# The steps the referrer may hear about (with the person's consent).
STEPS: tuple[str, ...] = ("first_session", "regular", "ended")
STEP_OUTCOMES: tuple[str, ...] = ("sent", "no_consent", "no_contact")


class Referral(TimestampMixin, db.Model):
    """One referral of one participant. ``referrer_organisation_id`` is None for a self-referral.
    The status moves forward from the register (``readerapp.referrals.operations``); a leader
    or manager ends it, with the reason."""

    __tablename__ = "referral"
    __table_args__ = (
        enum_check("status", REFERRAL_STATUSES, "status"),
        sa.CheckConstraint(
            "status <> 'ended' OR (ended_on IS NOT NULL AND ended_reason IS NOT NULL)",
            name="ended_has_reason",
        ),
        sa.CheckConstraint(
            "first_session_on IS NULL OR first_session_on >= referred_on",
            name="first_session_after_referral",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("participant.id", ondelete="RESTRICT"), index=True
    )
    referrer_organisation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organisation.id", ondelete="RESTRICT"), index=True
    )
    referrer_name: Mapped[str | None] = mapped_column(sa.String(120))
    referrer_email: Mapped[str | None] = mapped_column(sa.String(254))
    referred_on: Mapped[date]
    reason: Mapped[str] = mapped_column(sa.String(40))
    status: Mapped[str] = mapped_column(sa.String(20), default="referred")
    # Why a step was set by hand when it skipped one (attendance from before the register).
    status_note: Mapped[str | None] = mapped_column(sa.String(200))
    first_session_on: Mapped[date | None]
    regular_on: Mapped[date | None]
    ended_on: Mapped[date | None]
    ended_reason: Mapped[str | None] = mapped_column(sa.String(200))
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )

    participant: Mapped[Participant] = relationship()
    referrer_organisation: Mapped[Organisation | None] = relationship()

    @property
    def source_label(self) -> str:
        org = self.referrer_organisation
        return org.name if org is not None else "Self-referral"


class ReferralStep(db.Model):
    """A step a referral reached, and what the referrer was told of it: one row per step, so the
    referrer hears of each at most once (the outbox's dedupe key is the row's id)."""

    __tablename__ = "referral_step"
    __table_args__ = (
        enum_check("step", STEPS, "step"),
        enum_check("outcome", STEP_OUTCOMES, "outcome"),
        sa.UniqueConstraint("referral_id", "step"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(sa.ForeignKey("referral.id", ondelete="CASCADE"))
    step: Mapped[str] = mapped_column(sa.String(20))
    happened_on: Mapped[date]
    reached_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Set when the update was queued, or found not to be wanted (no consent, no address).
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    outcome: Mapped[str | None] = mapped_column(sa.String(20))

    referral: Mapped[Referral] = relationship()
