"""Accounts, roles, personal API tokens, and the single-use links of invitations and password
resets (their secrets stored only hashed)."""

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
    # Two-factor sign-in (TOTP, RFC 6238): the shared secret, set once the person has proved
    # their authenticator works, and the last time step accepted, so that a code is never
    # accepted twice (a code stays valid for its whole step, and the step either side).
    totp_secret: Mapped[str | None] = mapped_column(sa.String(64))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)
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

    # The secret of the sign-in (``SignIn``) this object was loaded for, if any: part of the id
    # Flask-Login keeps in the session and the remember cookie.
    sign_in_token = None

    def get_id(self) -> str:
        return f"{self.id}:{self.session_generation}:{self.sign_in_token or ''}"

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


class Invitation(TimestampMixin, db.Model):
    """An invitation to join with a role; the account is made when the invitee sets a password."""

    __tablename__ = "invitation"
    __table_args__ = (
        enum_check("role", ROLES, "role"),
        sa.CheckConstraint("email = lower(email)", name="email_lower_case"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), index=True)
    display_name: Mapped[str] = mapped_column(sa.String(120))
    role: Mapped[str] = mapped_column(sa.String(20))
    organisation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    # SHA-256 of the link's secret: the link itself is only in the message sent.
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The account the invitation became.
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )

    organisation: Mapped[Organisation | None] = relationship()
    invited_by: Mapped[User | None] = relationship(foreign_keys=[invited_by_id])


class PasswordReset(db.Model):
    """A "forgot your password" link; using it, or a later one, ends it."""

    __tablename__ = "password_reset"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class SignIn(db.Model):
    """One signed-in browser: what "your sign-ins" lists and what signing out everywhere ends.

    The browser's session (and its "keep me signed in" cookie) holds a random secret whose hash
    is stored here; the session counts only while its row is neither ended nor expired.
    """

    __tablename__ = "sign_in"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    remember: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # What the person sees to tell their sign-ins apart: the browser and the address.
    user_agent: Mapped[str] = mapped_column(sa.String(200), default="", server_default="")
    ip_address: Mapped[str | None] = mapped_column(sa.String(64))


class RecoveryCode(db.Model):
    """One of the ten single-use codes that stand in for a lost authenticator; stored hashed."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
