"""Outcome measures and their versions. A version's definition never changes once loaded, so
answers given to it keep the wording and scoring they were given under."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import UTCDateTime
from ..extensions import db
from ..timeutil import utcnow


class Measure(db.Model):
    """A questionnaire, by its stable key ("ons4"); its wording lives in its versions."""

    __tablename__ = "measure"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))  # the latest version's name
    builtin: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    versions: Mapped[list[MeasureVersion]] = relationship(
        back_populates="measure", order_by="MeasureVersion.loaded_at"
    )

    def __repr__(self) -> str:
        return f"<Measure {self.id} {self.key!r}>"


class MeasureVersion(db.Model):
    """One loaded definition of a measure, exactly as its file gave it."""

    __tablename__ = "measure_version"
    __table_args__ = (sa.UniqueConstraint("measure_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    measure_id: Mapped[int] = mapped_column(
        sa.ForeignKey("measure.id", ondelete="RESTRICT"), index=True
    )
    version: Mapped[str] = mapped_column(sa.String(40))
    definition: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    checksum: Mapped[str] = mapped_column(sa.String(64))  # sha256 of the definition
    source: Mapped[str] = mapped_column(sa.String(255))  # the file it was loaded from
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    measure: Mapped[Measure] = relationship(back_populates="versions")

    def __repr__(self) -> str:
        return f"<MeasureVersion {self.id} measure={self.measure_id} {self.version!r}>"
