"""Writes to user accounts. Operations flush; the caller commits."""

from __future__ import annotations

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email

from ..errors import FieldError
from ..extensions import db
from ..organisations.models import Organisation
from .models import ROLES, Role, User

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
    user.session_generation += 1  # signs the user out on every other device
    db.session.flush()
    return True


def _organisation_for(role: str, organisation_id: int | None) -> Organisation | None:
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
    organisation = _organisation_for(role, organisation_id)
    if new_password:
        check_password(new_password)
    user.display_name = name
    user.role = role
    if role not in (Role.ADMIN, Role.MANAGER):
        user.safeguarding_lead = False  # the capability is held by managers and admins only
    user.organisation_id = organisation.id if organisation else None
    if new_password:
        user.set_password(new_password)
        user.session_generation += 1  # a reset password signs the person out everywhere
    db.session.flush()
    return user


def deactivate_user(user: User, acting: User | None = None) -> None:
    """Stop the user signing in and sign them out at once (their sessions stop matching)."""
    if acting is not None and acting.id == user.id:
        raise UserError("you cannot deactivate your own account", "active")
    user.active = False
    user.session_generation += 1
    db.session.flush()


def reactivate_user(user: User) -> None:
    user.active = True
    db.session.flush()
