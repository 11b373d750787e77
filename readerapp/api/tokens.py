"""Personal API tokens: created and revoked by their owner, shown once, stored as SHA-256.

Operations flush; the request or command that calls them commits.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from ..db import sqlite_read_only
from ..errors import FieldError
from ..extensions import db
from ..timeutil import utcnow
from ..users.limits import API_TOKEN_NAME
from ..users.models import ApiToken, User

logger = logging.getLogger(__name__)
TOKEN_PREFIX = "rdr_"  # noqa: S105  (a marker, not a secret)
PREFIX_LENGTH = 12
# Recording every use would turn each read into a write; once a minute is precise enough.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class TokenError(FieldError):
    """An API token cannot be made as asked; the message says why."""


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str  # shown once, never stored


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_token(user: User, name: str | None = None) -> NewToken:
    name = (name or "").strip() or "API token"
    if len(name) > API_TOKEN_NAME:
        raise TokenError(f"the name must be at most {API_TOKEN_NAME} characters", "name")
    if not user.active:
        raise TokenError("this account is not active")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id, name=name, token_hash=hash_token(secret), prefix=secret[:PREFIX_LENGTH]
    )
    db.session.add(token)
    db.session.flush()
    return NewToken(token=token, secret=secret)


def revoke_token(user: User, token_id: int) -> ApiToken | None:
    """Revoke one of ``user``'s own tokens; None if it is not theirs (or does not exist)."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        return None
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.flush()
    return token


def tokens_of(user: User) -> list[ApiToken]:
    return list(
        db.session.scalars(
            sa.select(ApiToken)
            .where(ApiToken.user_id == user.id)
            .order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc())
        )
    )


def user_for_token(secret: str) -> User | None:
    """The active user a live token belongs to, noting when it was last used."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    # The token and its user in one statement: every API request starts here.
    row = db.session.execute(
        sa.select(User, ApiToken.id, ApiToken.last_used_at)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == hash_token(secret), ApiToken.revoked_at.is_(None))
    ).first()
    if row is None:
        return None
    user = row.User
    if not user.active:
        return None
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
        _touch(row.id, now)
    return user


def _touch(token_id: int, now: object) -> None:
    """Record the use in a short write transaction of its own, before the request's work.

    On SQLite a read transaction cannot safely turn into a write one, so the read ends first and
    the update begins as a write (IMMEDIATE); the request then reads as it would have.
    """
    read_only = sqlite_read_only.get()
    db.session.commit()
    sqlite_read_only.set(False)
    try:
        db.session.execute(
            sa.update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now)
        )
        db.session.commit()
    except OperationalError:
        # The stamp is a convenience: a busy database must not fail the request it rode on.
        db.session.rollback()
        logger.warning("could not record the use of API token %s", token_id)
    finally:
        sqlite_read_only.set(read_only)
