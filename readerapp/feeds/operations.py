"""Writes for feeds: tokens (create, rotate, revoke) and what a feed last served.

Operations flush; the request or command that calls them commits.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import current_app, has_request_context, request
from sqlalchemy.orm import joinedload

from ..config import SETTINGS
from ..errors import FieldError
from ..extensions import db
from ..radio.models import Broadcast
from ..sessions.models import ReadingSession
from ..timeutil import utcnow
from ..users.models import User
from .models import FeedEventCache, FeedToken
from .scopes import Target, UnknownScope, rule_for

# secrets.token_urlsafe(32): 256 random bits, 43 URL-safe characters.
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{32,128}$")


class FeedError(FieldError):
    """A feed cannot be made for that target; the message says why, for a person to read."""


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def find_active_token(raw: str) -> FeedToken | None:
    """The live token for a secret from a URL, or None (unknown, malformed or revoked)."""
    if not TOKEN_PATTERN.match(raw):
        return None
    return db.session.scalar(
        sa.select(FeedToken)
        .where(FeedToken.token_hash == hash_token(raw), FeedToken.revoked_at.is_(None))
        # The target comes in the same round trip: a revalidation is a handful of milliseconds.
        .options(
            joinedload(FeedToken.organisation),
            joinedload(FeedToken.group),
            joinedload(FeedToken.user),
            joinedload(FeedToken.created_by),
        )
    )


def _target_kwargs(scope: str, target: Target) -> dict[str, int]:
    try:
        rule = rule_for(scope)
    except UnknownScope as exc:
        raise FeedError(str(exc)) from None
    if not isinstance(target, rule.target_model):
        raise FeedError(f"a {scope} feed needs a {scope} as its target")
    refusal = rule.refuse(target)
    if refusal:
        raise FeedError(refusal)
    return {rule.target_column: target.id}


def create_token(
    scope: str, target: Target, *, created_by: User | None = None, label: str | None = None
) -> tuple[FeedToken, str]:
    """A new token for ``target``; returns the row and the secret, which is never stored."""
    kwargs = _target_kwargs(scope, target)
    raw = secrets.token_urlsafe(32)
    token = FeedToken(
        scope=scope,
        token_hash=hash_token(raw),
        label=(label or "").strip() or None,
        created_by_id=created_by.id if created_by else None,
        **kwargs,
    )
    db.session.add(token)
    db.session.flush()
    return token, raw


def revoke_token(token: FeedToken, *, now: datetime | None = None) -> None:
    """From the commit on, the token's address answers 404. Revoking twice changes nothing."""
    if token.revoked_at is None:
        token.revoked_at = now or utcnow()
        db.session.flush()


def rotate_token(token: FeedToken, *, by: User | None = None) -> tuple[FeedToken, str]:
    """Revoke ``token`` and make a new one for the same target (a leaked address)."""
    if token.revoked_at is not None:
        raise FeedError("that feed address was already revoked")
    revoke_token(token)
    target = token.organisation or token.group or token.user
    if target is None:
        raise FeedError("the feed's target no longer exists")
    return create_token(token.scope, target, created_by=by, label=token.label)


def target_name(token: FeedToken) -> str:
    if token.organisation is not None:
        return token.organisation.name
    if token.group is not None:
        return token.group.name
    if token.user is not None:
        return f"{token.user.display_name} ({token.user.email})"
    return "(removed)"


# --- addresses ------------------------------------------------------------------------------


def base_url() -> str:
    """BASE_URL when it was configured; otherwise the host of the current request."""
    configured = current_app.config["BASE_URL"]
    if configured != SETTINGS["BASE_URL"][0] or not has_request_context():
        return configured.rstrip("/")
    return request.host_url.rstrip("/")


def feed_url(raw: str, base: str | None = None) -> str:
    return f"{(base or base_url()).rstrip('/')}/feeds/{raw}.ics"


def webcal_url(url: str) -> str:
    """The same address for calendar apps: webcal:// makes them subscribe instead of import."""
    return "webcal://" + url.split("://", 1)[1]


# --- what a feed served ---------------------------------------------------------------------


def _ceil_second(value: datetime) -> datetime:
    value = value.astimezone(UTC)
    if value.microsecond:
        value = value.replace(microsecond=0) + timedelta(seconds=1)
    return value


def store_event_texts(misses: Sequence[tuple[str, int, str, str]]) -> None:
    """Insert or replace cached event texts (two requests may race to store the same one)."""
    if not misses:
        return
    rows = [
        {"kind": kind, "row_id": row_id, "fingerprint": fp, "body": body}
        for kind, row_id, fp, body in misses
    ]
    table = FeedEventCache.__table__
    if db.engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(table)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.kind, table.c.row_id],
        set_={"fingerprint": statement.excluded.fingerprint, "body": statement.excluded.body},
    )
    db.session.execute(statement, rows)


def prune_event_texts(window_lower: datetime) -> None:
    """Forget cached texts of rows that were deleted or have left every feed's window."""
    C = FeedEventCache
    db.session.execute(
        sa.delete(C).where(
            C.kind == "session",
            C.row_id.not_in(
                sa.select(ReadingSession.id).where(ReadingSession.start_dt >= window_lower)
            ),
        )
    )
    db.session.execute(
        sa.delete(C).where(
            C.kind == "broadcast",
            C.row_id.not_in(sa.select(Broadcast.id).where(Broadcast.air_dt >= window_lower)),
        )
    )


def next_last_modified(previous: datetime | None, newest: datetime, now: datetime) -> datetime:
    """Last-Modified for bytes that differ from those served before (see ``record_served``)."""
    candidates = [_ceil_second(newest)]
    if previous is not None:
        candidates += [previous + timedelta(seconds=1), now.replace(microsecond=0)]
    return max(candidates)


def unrecorded_last_modified(
    previous: datetime | None, newest: datetime | None, now: datetime
) -> datetime:
    """Last-Modified when what was served could not be recorded: never earlier than before."""
    return next_last_modified(previous, newest or now, now)


def record_served(
    token_id: int,
    *,
    state: str,
    etag: str,
    newest: datetime | None,
    now: datetime,
) -> datetime | None:
    """Remember what the feed served and return its Last-Modified (None: token revoked).

    Last-Modified never moves backwards: when the bytes change it becomes the latest of the
    newest change among the events, one second past the previous value, and the moment the
    change was noticed (a deleted session leaves no updated_at behind, and a client may send
    its own fetch time as If-Modified-Since). Run it in a write transaction of its own; the token
    row is locked so concurrent requests take their turns.
    """
    token = db.session.scalar(
        sa.select(FeedToken)
        .where(FeedToken.id == token_id, FeedToken.revoked_at.is_(None))
        .with_for_update()
    )
    if token is None:
        return None
    previous = token.served_last_modified
    if token.served_etag == etag and previous is not None:
        last_modified = previous
    else:
        last_modified = next_last_modified(previous, newest or token.created_at, now)
        token.served_etag = etag
        token.served_last_modified = last_modified
    token.served_state = state
    db.session.flush()
    return last_modified
