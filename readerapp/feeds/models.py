from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import TimestampMixin, UTCDateTime, enum_check
from ..extensions import db
from ..groups.models import ReadingGroup
from ..organisations.models import Organisation
from ..users.models import User
from .scopes import FEED_SCOPES, one_target_condition


class FeedToken(TimestampMixin, db.Model):
    """A secret feed address for one scope. Only the SHA-256 of the token is stored."""

    __tablename__ = "feed_token"
    __table_args__ = (
        enum_check("scope", FEED_SCOPES, "scope"),
        sa.CheckConstraint(one_target_condition(), name="one_target_for_scope"),
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
    # A digest of cheap aggregates over the rows the feed shows (counts, sums of ids, newest
    # updated_at of every table it reads): when it matches, served_etag still describes the bytes
    # and a revalidation can answer 304 without building the feed.
    served_state: Mapped[str | None] = mapped_column(sa.String(64))

    organisation: Mapped[Organisation | None] = relationship()
    group: Mapped[ReadingGroup | None] = relationship()
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])


EVENT_KINDS = ("session", "broadcast")


class FeedEventCache(db.Model):
    """One event's serialised VEVENT text, reused while nothing it shows has changed.

    ``fingerprint`` digests every value the text is built from (times, status, sequence,
    updated_at, group, venue, leader and material names), so a stale entry is never served.
    No foreign key: rows for deleted sessions or broadcasts are pruned when feeds are rebuilt.
    """

    __tablename__ = "feed_event_cache"
    __table_args__ = (enum_check("kind", EVENT_KINDS, "kind"),)

    kind: Mapped[str] = mapped_column(sa.String(10), primary_key=True)
    row_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    fingerprint: Mapped[str] = mapped_column(sa.String(64))
    body: Mapped[str] = mapped_column(sa.Text)
