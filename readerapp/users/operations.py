"""Writes to user accounts. Operations flush; the caller commits."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email

from ..errors import FieldError
from ..extensions import db
from ..organisations.models import Organisation
from ..timeutil import utcnow
from .models import ROLES, Role, SignIn, User

MIN_PASSWORD_LENGTH = 10


class UserError(FieldError):
    """A user cannot be created or changed as asked; the message says why."""


def check_email(email: str) -> str:
    try:
        result = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise UserError(f"{email!r} is not a valid email address: {exc}", "email") from exc
    return User.normalise_email(result.normalized)


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(
            f"the password must be at least {MIN_PASSWORD_LENGTH} characters", "password"
        )
    if len(password) > 200:
        raise UserError("the password must be at most 200 characters", "password")


def create_user(
    *,
    email: str,
    role: str,
    password: str,
    display_name: str | None = None,
    organisation_name: str | None = None,
    organisation_id: int | None = None,
) -> User:
    email = check_email(email)
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}", "role")
    check_password(password)
    if db.session.scalar(sa.select(User.id).where(User.email == email)) is not None:
        raise UserError(f"a user with email {email} already exists", "email")
    organisation = None
    if organisation_name:
        organisation = db.session.scalar(
            sa.select(Organisation).where(Organisation.name == organisation_name)
        )
        if organisation is None:
            raise UserError(f"no organisation called {organisation_name!r}", "organisation")
    elif organisation_id is not None:
        organisation = db.session.get(Organisation, organisation_id)
        if organisation is None:
            raise UserError("that organisation does not exist", "organisation")
    if role == Role.PARTNER_VIEWER and organisation is None:
        raise UserError("a partner_viewer must belong to an organisation", "organisation")
    name = (display_name or email.split("@", 1)[0]).strip()
    if not name or len(name) > 120:
        raise UserError("the display name must be 1 to 120 characters", "display_name")
    user = User(
        email=email,
        display_name=name,
        role=role,
        organisation_id=organisation.id if organisation else None,
    )
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def authenticate(email: str, password: str) -> User | None:
    """The active user with this email and password, or None (same answer for every failure)."""
    user = db.session.scalar(sa.select(User).where(User.email == User.normalise_email(email)))
    if user is None or not user.active:
        return None
    return user if user.check_password(password) else None


def change_password(user: User, current: str, new: str) -> bool:
    if not user.check_password(current):
        return False
    check_password(new)
    user.set_password(new)
    end_other_sign_ins(user, keep=user.sign_in_token)  # signs out every other device
    db.session.flush()
    return True


def organisation_for(role: str, organisation_id: int | None) -> Organisation | None:
    organisation = None
    if organisation_id is not None:
        organisation = db.session.get(Organisation, organisation_id)
        if organisation is None:
            raise UserError("that organisation does not exist", "organisation")
    if role == Role.PARTNER_VIEWER and organisation is None:
        raise UserError("a partner_viewer must belong to an organisation", "organisation")
    return organisation


def update_user(
    user: User,
    *,
    display_name: str,
    role: str,
    organisation_id: int | None,
    new_password: str | None = None,
    acting: User | None = None,
) -> User:
    """Change a user's name, role, organisation and (optionally) password, checking first."""
    name = (display_name or "").strip()
    if not name or len(name) > 120:
        raise UserError("the display name must be 1 to 120 characters", "display_name")
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}", "role")
    if acting is not None and acting.id == user.id and role != user.role:
        raise UserError("you cannot change your own role", "role")
    organisation = organisation_for(role, organisation_id)
    if new_password:
        check_password(new_password)
    role_changed = role != user.role
    user.display_name = name
    user.role = role
    if role not in (Role.ADMIN, Role.MANAGER):
        user.safeguarding_lead = False  # the capability is held by managers and admins only
    user.organisation_id = organisation.id if organisation else None
    if new_password:
        user.set_password(new_password)
    if new_password or role_changed:
        # A password set for them, or a new role: the person signs in again everywhere.
        end_other_sign_ins(user, keep=None)
    db.session.flush()
    return user


def deactivate_user(user: User, acting: User | None = None) -> None:
    """Stop the user signing in and sign them out at once (their sessions stop matching)."""
    if acting is not None and acting.id == user.id:
        raise UserError("you cannot deactivate your own account", "active")
    user.active = False
    end_other_sign_ins(user, keep=None)
    db.session.flush()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_sign_in(
    user: User,
    *,
    remember: bool,
    lasts: timedelta,
    user_agent: str = "",
    ip_address: str | None = None,
) -> str:
    """Record a new sign-in of ``user`` lasting ``lasts``; returns its secret, which the browser
    keeps (``user.sign_in_token``)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(
        SignIn(
            user_id=user.id,
            token_hash=_token_hash(token),
            created_at=now,
            expires_at=now + lasts,
            remember=remember,
            user_agent=(user_agent or "")[:200],
            ip_address=(ip_address or None) and ip_address[:64],
        )
    )
    db.session.flush()
    user.sign_in_token = token
    return token


def current_sign_in(user_id: int, token: str) -> SignIn | None:
    """The sign-in with this secret, while it lasts."""
    return db.session.scalar(
        sa.select(SignIn).where(
            SignIn.token_hash == _token_hash(token),
            SignIn.user_id == user_id,
            SignIn.ended_at.is_(None),
            SignIn.expires_at > utcnow(),
        )
    )


def active_sign_ins(user: User) -> list[SignIn]:
    return list(
        db.session.scalars(
            sa.select(SignIn)
            .where(
                SignIn.user_id == user.id,
                SignIn.ended_at.is_(None),
                SignIn.expires_at > utcnow(),
            )
            .order_by(SignIn.created_at.desc(), SignIn.id.desc())
        )
    )


def is_this_sign_in(sign_in: SignIn, token: str | None) -> bool:
    return token is not None and sign_in.token_hash == _token_hash(token)


def end_sign_in(user: User, token: str | None) -> None:
    if token:
        _end(SignIn.user_id == user.id, SignIn.token_hash == _token_hash(token))


def _end(*where: sa.ColumnElement[bool]) -> None:
    db.session.execute(
        sa.update(SignIn)
        .where(*where, SignIn.ended_at.is_(None))
        .values(ended_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def end_other_sign_ins(user: User, keep: str | None) -> None:
    """End every sign-in of ``user`` but the one whose secret is ``keep`` (None: all of them).

    The session generation moves on too, so sessions from before sign-ins were recorded end as
    well; the kept one signs in again with the new generation (``login_user``)."""
    user.session_generation += 1
    if keep:
        _end(SignIn.user_id == user.id, SignIn.token_hash != _token_hash(keep))
    else:
        _end(SignIn.user_id == user.id)


def reactivate_user(user: User) -> None:
    user.active = True
    db.session.flush()
