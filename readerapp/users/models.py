from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..db import TimestampMixin, UTCDateTime, enum_check
from ..extensions import db
from ..organisations.models import Organisation


class Role(StrEnum):
    """The roles a user may have. Who may see and change what is decided in readerapp.access."""

    ADMIN = "admin"
    MANAGER = "manager"
    READER_LEADER = "reader_leader"
    PARTNER_VIEWER = "partner_viewer"


ROLES: tuple[str, ...] = tuple(r.value for r in Role)


class User(UserMixin, TimestampMixin, db.Model):
    __tablename__ = "user_account"
    __table_args__ = (
        enum_check("role", ROLES, "role"),
        # Emails are stored lower-cased, so the plain UNIQUE is case-insensitive.
        sa.CheckConstraint("email = lower(email)", name="email_lower_case"),
        sa.CheckConstraint(
            "role <> 'partner_viewer' OR organisation_id IS NOT NULL",
            name="partner_viewer_has_organisation",
        ),
        # Designated safeguarding leads are chosen among managers and admins.
        sa.CheckConstraint(
            "role IN ('admin', 'manager') OR NOT safeguarding_lead",
            name="safeguarding_lead_is_staff",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(120))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[str] = mapped_column(sa.String(20))
    organisation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organisation.id", ondelete="RESTRICT"), index=True
    )
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    # Changing it signs the user out everywhere (it is part of the session's user id).
    session_generation: Mapped[int] = mapped_column(default=1, server_default="1")
    # Designated safeguarding lead: reads and manages safeguarding concerns (readerapp.access).
    safeguarding_lead: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    organisation: Mapped[Organisation | None] = relationship()

    @staticmethod
    def normalise_email(email: str) -> str:
        return email.strip().lower()

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def first_name(self) -> str:
        return self.display_name.split()[0] if self.display_name.strip() else ""

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_generation}"

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class ApiToken(TimestampMixin, db.Model):
    """A personal API token: shown once, stored as a SHA-256 hash."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(100))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # The first characters, so a user can tell tokens apart without the secret.
    prefix: Mapped[str] = mapped_column(sa.String(12))
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
