from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import TimestampMixin, UTCDateTime, enum_check
from ..extensions import db
from ..groups.models import ReadingGroup
from ..organisations.models import Organisation
from ..users.models import User

FEED_SCOPES = ("organisation", "group", "leader", "station")


class FeedToken(TimestampMixin, db.Model):
    """A secret feed address for one scope. Only the SHA-256 of the token is stored."""

    __tablename__ = "feed_token"
    __table_args__ = (
        enum_check("scope", FEED_SCOPES, "scope"),
        sa.CheckConstraint(
            "(scope = 'organisation' AND organisation_id IS NOT NULL"
            " AND group_id IS NULL AND user_id IS NULL)"
            " OR (scope = 'station' AND organisation_id IS NOT NULL"
            " AND group_id IS NULL AND user_id IS NULL)"
            " OR (scope = 'group' AND group_id IS NOT NULL"
            " AND organisation_id IS NULL AND user_id IS NULL)"
            " OR (scope = 'leader' AND user_id IS NOT NULL"
            " AND organisation_id IS NULL AND group_id IS NULL)",
            name="one_target_for_scope",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(sa.String(20))
    organisation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    group_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("reading_group.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    label: Mapped[str | None] = mapped_column(sa.String(200))
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What the feed last served, so Last-Modified never moves backwards (even when rows vanish).
    served_etag: Mapped[str | None] = mapped_column(sa.String(80))
    served_last_modified: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation | None] = relationship()
    group: Mapped[ReadingGroup | None] = relationship()
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
