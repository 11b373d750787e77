"""Invitations and password resets. Operations flush; the caller commits.

Each link carries a random secret; only its SHA-256 is stored, and the link itself is written
only into the message queued for the person (``readerapp.notifications.outbox``). No log line
and no audit value holds it: the audit trail shows a hash column as changed, never its value.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..notifications.outbox import queue_message
from ..timeutil import utcnow
from ..users.admin_forms import ROLE_LABELS
from ..users.models import ROLES, Invitation, PasswordReset, User
from ..users.operations import (
    UserError,
    check_email,
    check_password,
    create_user,
    end_other_sign_ins,
    organisation_for,
)


class LinkRefused(Exception):
    """A link that cannot be used; ``reason`` (unknown, expired, used) goes to the audit trail,
    ``message`` to the person."""

    MESSAGES = {
        "unknown": "This link is not valid: it may have been mistyped or cut short.",
        "expired": "This link has expired. Ask for a new one.",
        "used": "This link has already been used. Ask for a new one if you need it.",
    }

    def __init__(self, reason: str, record_id: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.record_id = record_id
        self.message = self.MESSAGES[reason]


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> tuple[str, str]:
    """A link secret and its hash."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


def _link(path: str) -> str:
    # From the configured address, never the request's Host header (which a client chooses).
    return f"{current_app.config['BASE_URL'].rstrip('/')}{path}"


def _setting(setting: str) -> int:
    return int(current_app.config[setting])


# --- invitations ------------------------------------------------------------------------------


def invite(
    *,
    email: str,
    display_name: str,
    role: str,
    organisation_id: int | None,
    invited_by: User | None,
) -> Invitation:
    """Invite someone by email; the message with their link is queued in the outbox."""
    email = check_email(email)
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}", "role")
    name = (display_name or "").strip()
    if not name or len(name) > 120:
        raise UserError("the name must be 1 to 120 characters", "display_name")
    organisation = organisation_for(role, organisation_id)
    if db.session.scalar(sa.select(User.id).where(User.email == email)) is not None:
        raise UserError("an account with this email already exists", "email", conflict=True)
    token, token_hash = new_token()
    days = _setting("INVITATION_DAYS")
    invitation = Invitation(
        email=email,
        display_name=name,
        role=role,
        organisation_id=organisation.id if organisation else None,
        token_hash=token_hash,
        invited_by_id=invited_by.id if invited_by else None,
        expires_at=utcnow() + timedelta(days=days),
    )
    db.session.add(invitation)
    db.session.flush()
    inviter = invited_by.display_name if invited_by else "An administrator"
    where = f" for {organisation.name}" if organisation else ""
    queue_message(
        dedupe_key=f"invitation:{invitation.id}",
        kind="invitation",
        recipient=email,
        subject="Your invitation to readerapp",
        body=(
            f"Hello {name},\n\n"
            f"{inviter} has invited you to readerapp as a {ROLE_LABELS[role].lower()}{where}.\n\n"
            "Choose your password here to start:\n\n"
            f"{_link(f'/invitation/{token}')}\n\n"
            f"The link works once and for {days} days. If you did not expect this invitation, "
            "you can ignore this message.\n"
        ),
    )
    return invitation


def invitation_for_link(token: str) -> Invitation:
    invitation = db.session.scalar(
        sa.select(Invitation).where(Invitation.token_hash == hash_token(token))
    )
    if invitation is None:
        raise LinkRefused("unknown")
    if invitation.accepted_at is not None:
        raise LinkRefused("used", invitation.id)
    if invitation.expires_at <= utcnow():
        raise LinkRefused("expired", invitation.id)
    return invitation


def accept_invitation(invitation: Invitation, password: str) -> User:
    """Make the invited account with the password its holder chose; the link is then spent."""
    if db.session.scalar(sa.select(User.id).where(User.email == invitation.email)) is not None:
        raise UserError("an account with this email already exists: sign in instead", "password")
    user = create_user(
        email=invitation.email,
        role=invitation.role,
        password=password,
        display_name=invitation.display_name,
        organisation_id=invitation.organisation_id,
    )
    invitation.accepted_at = utcnow()
    invitation.user_id = user.id
    db.session.flush()
    return user


def pending_invitations() -> list[Invitation]:
    return list(
        db.session.scalars(
            sa.select(Invitation)
            .where(Invitation.accepted_at.is_(None), Invitation.expires_at > utcnow())
            .order_by(Invitation.created_at.desc(), Invitation.id.desc())
        )
    )


# --- password resets --------------------------------------------------------------------------


def request_password_reset(email: str) -> None:
    """Queue a reset link when ``email`` is an active account's; nothing otherwise. The caller
    answers the same either way, so the answer never tells whether an account exists."""
    address = User.normalise_email(email)
    user = db.session.scalar(sa.select(User).where(User.email == address))
    if user is None or not user.active:
        return
    token, token_hash = new_token()
    minutes = _setting("PASSWORD_RESET_MINUTES")
    now = utcnow()
    reset = PasswordReset(
        user_id=user.id,
        token_hash=token_hash,
        created_at=now,
        expires_at=now + timedelta(minutes=minutes),
    )
    db.session.add(reset)
    db.session.flush()
    queue_message(
        dedupe_key=f"password_reset:{reset.id}",
        kind="password_reset",
        recipient=user.email,
        subject="Reset your readerapp password",
        body=(
            f"Hello {user.first_name},\n\n"
            "Someone (we hope you) asked to reset your readerapp password. "
            "Choose a new one here:\n\n"
            f"{_link(f'/reset-password/{token}')}\n\n"
            f"The link works once and for {minutes} minutes. If you did not ask, ignore this "
            "message: your password stays as it is.\n"
        ),
    )


def reset_for_link(token: str) -> PasswordReset:
    reset = db.session.scalar(
        sa.select(PasswordReset).where(PasswordReset.token_hash == hash_token(token))
    )
    if reset is None:
        raise LinkRefused("unknown")
    if reset.used_at is not None:
        raise LinkRefused("used", reset.id)
    if reset.expires_at <= utcnow() or not reset.user.active:
        raise LinkRefused("expired", reset.id)
    return reset


def reset_password(reset: PasswordReset, new_password: str) -> User:
    """Set the new password, spend this link and every other open one of the account, and end
    every sign-in of the account."""
    check_password(new_password)
    now = utcnow()
    user = reset.user
    user.set_password(new_password)
    db.session.execute(
        sa.update(PasswordReset)
        .where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    reset.used_at = now
    end_other_sign_ins(user, keep=None)
    db.session.flush()
    return user
