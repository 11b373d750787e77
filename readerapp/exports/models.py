"""What managers write for partnership reports (narratives and quotes, versioned) and the
report presets they save."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import UTCDateTime, enum_check
from ..extensions import db
from ..timeutil import utcnow
from .periods import PERIOD_TYPES

# Limits, shared by the forms and the operations.
NARRATIVE_MAX = 5000
QUOTE_MAX = 600
ATTRIBUTION_MAX = 120
QUOTES_MAX = 12
PRESET_NAME_MAX = 100
# Sections a preset includes, stored as their names joined by commas.
SECTIONS_MAX = 200


class ReportNarrative(db.Model):
    """One saved version of the narrative and quotes for a report scope (a partner
    organisation and a period). Each save adds a version; the highest is the one shown."""

    __tablename__ = "report_narrative"
    __table_args__ = (
        sa.UniqueConstraint("organisation_id", "date_from", "date_to", "version"),
        sa.CheckConstraint("date_to >= date_from", name="period_in_order"),
        sa.CheckConstraint("version > 0", name="version_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    date_from: Mapped[date] = mapped_column(sa.Date)
    date_to: Mapped[date] = mapped_column(sa.Date)
    version: Mapped[int] = mapped_column()
    text: Mapped[str] = mapped_column(sa.Text, default="")
    saved_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    quotes: Mapped[list[ReportQuote]] = relationship(
        back_populates="narrative",
        order_by="ReportQuote.position",
        cascade="all, delete-orphan",
    )
    saved_by = relationship("User")


class ReportQuote(db.Model):
    """A quote in one version of a narrative: its words and who said it, in words ("participant,
    Willow Ward"). A quote from a participant is tied to their code, so that it is used only
    while they consent to quotes in reports (the code itself is never printed)."""

    __tablename__ = "report_quote"
    __table_args__ = (sa.UniqueConstraint("narrative_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    narrative_id: Mapped[int] = mapped_column(
        sa.ForeignKey("report_narrative.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column()
    text: Mapped[str] = mapped_column(sa.Text)
    attribution: Mapped[str | None] = mapped_column(sa.String(ATTRIBUTION_MAX))
    participant_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("participant.id", ondelete="RESTRICT"), index=True
    )

    narrative: Mapped[ReportNarrative] = relationship(back_populates="quotes")
    participant = relationship("Participant")


class ReportPreset(db.Model):
    """A saved report: which partner, what kind of period, which sections."""

    __tablename__ = "report_preset"
    __table_args__ = (
        enum_check("period_type", PERIOD_TYPES, "period_type"),
        sa.CheckConstraint(
            "period_type <> 'custom' OR (date_from IS NOT NULL AND date_to IS NOT NULL "
            "AND date_to >= date_from)",
            name="custom_has_dates",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(PRESET_NAME_MAX), unique=True)
    # None: every partner.
    organisation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    period_type: Mapped[str] = mapped_column(sa.String(20))
    date_from: Mapped[date | None] = mapped_column(sa.Date)
    date_to: Mapped[date | None] = mapped_column(sa.Date)
    sections: Mapped[str] = mapped_column(sa.String(SECTIONS_MAX))
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organisation = relationship("Organisation")

    @property
    def section_names(self) -> frozenset[str]:
        return frozenset(filter(None, self.sections.split(",")))
