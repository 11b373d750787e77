from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import TimestampMixin, enum_check
from ..extensions import db

ORGANISATION_KINDS = (
    "nhs_trust",
    "prison",
    "local_authority",
    "library",
    "charity",
    "care_provider",
    "radio_station",
    "funder",
    "other",
)
SETTING_TYPES = (
    "acute_hospital",
    "mental_health_inpatient",
    "secure_hospital",
    "prison",
    "care_home",
    "library",
    "community_centre",
    "school",
    "online",
    "other",
)
PARTNERSHIP_ROLES = ("host", "funder", "referrer", "broadcaster")


class Organisation(TimestampMixin, db.Model):
    __tablename__ = "organisation"
    __table_args__ = (enum_check("kind", ORGANISATION_KINDS, "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    contact_name: Mapped[str | None] = mapped_column(sa.String(200))
    contact_email: Mapped[str | None] = mapped_column(sa.String(254))
    contact_phone: Mapped[str | None] = mapped_column(sa.String(40))
    # Whether feeds may show the ward, wing or unit of this organisation's venues.
    share_location_detail: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # Whether its participants may have a first name and a note besides their pseudonymous code.
    keep_names: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # For radio stations: how many prisons hear the station (reported as reach).
    prisons_reached: Mapped[int | None] = mapped_column(
        sa.CheckConstraint("prisons_reached >= 0", name="prisons_reached_non_negative")
    )

    venues: Mapped[list[Venue]] = relationship(back_populates="organisation")
    partnerships: Mapped[list[Partnership]] = relationship(back_populates="organisation")

    @property
    def is_station(self) -> bool:
        return self.kind == "radio_station"

    def __repr__(self) -> str:
        return f"<Organisation {self.id} {self.name!r}>"


class Venue(TimestampMixin, db.Model):
    __tablename__ = "venue"
    __table_args__ = (
        enum_check("setting_type", SETTING_TYPES, "setting_type"),
        sa.UniqueConstraint("organisation_id", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    setting_type: Mapped[str] = mapped_column(sa.String(30))
    address: Mapped[str | None] = mapped_column(sa.String(500))
    # Ward, wing or unit: shown to partners only when the organisation allows it.
    unit: Mapped[str | None] = mapped_column(sa.String(200))
    organisation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organisation.id", ondelete="RESTRICT"), index=True
    )

    organisation: Mapped[Organisation] = relationship(back_populates="venues")

    def __repr__(self) -> str:
        return f"<Venue {self.id} {self.name!r}>"


class Partnership(TimestampMixin, db.Model):
    __tablename__ = "partnership"
    __table_args__ = (
        enum_check("role", PARTNERSHIP_ROLES, "role"),
        sa.CheckConstraint("end_date IS NULL OR end_date >= start_date", name="dates_ordered"),
        sa.UniqueConstraint("organisation_id", "group_id", "role", "start_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    group_id: Mapped[int] = mapped_column(
        sa.ForeignKey("reading_group.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(sa.String(20))
    start_date: Mapped[date]
    end_date: Mapped[date | None]

    organisation: Mapped[Organisation] = relationship(back_populates="partnerships")
    group: Mapped[ReadingGroup] = relationship(back_populates="partnerships")  # noqa: F821

    def active_on(self, day: date) -> bool:
        return self.start_date <= day and (self.end_date is None or day <= self.end_date)
