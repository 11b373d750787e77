"""Answers in progress on a phone handed to a participant, kept on the server.

The leader's browser holds only a random token (in the signed session); the row is found by
the token's sha256. Operations flush; the caller commits.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa

from ..extensions import db
from ..timeutil import as_utc, utcnow
from .models import HandOver

# Long enough for the slowest reader between two taps; short enough that a phone left on a
# table does not keep someone's answers.
PROGRESS_LIFETIME = timedelta(minutes=30)
# secrets.token_urlsafe(32) gives 43 characters; anything far from that is not one of ours.
TOKEN_LENGTHS = range(40, 49)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_hand_over(
    session_id: int,
    participant_id: int,
    measure_version_id: int,
    leader_id: int,
    now: datetime | None = None,
) -> str:
    """Start keeping answers for this person, measure and leader; the token for the cookie.
    Expired hand-overs of anyone are removed first, so none outlives the next one started."""
    now = utcnow() if now is None else as_utc(now)
    remove_expired_hand_overs(now)
    token = secrets.token_urlsafe(32)
    db.session.add(
        HandOver(
            id=_digest(token),
            session_id=session_id,
            participant_id=participant_id,
            measure_version_id=measure_version_id,
            leader_id=leader_id,
            answers={},
            position=0,
            started_at=now,
            updated_at=now,
            expires_at=now + PROGRESS_LIFETIME,
        )
    )
    db.session.flush()
    return token


def find_hand_over(token: object) -> HandOver | None:
    """The hand-over this token opens, or None (no token, not one of ours, or gone)."""
    if not isinstance(token, str) or len(token) not in TOKEN_LENGTHS:
        return None
    return db.session.get(HandOver, _digest(token))


def is_expired(hand_over: HandOver, now: datetime | None = None) -> bool:
    now = utcnow() if now is None else as_utc(now)
    return now > hand_over.expires_at


def keep_progress(
    hand_over: HandOver, answers: dict[str, int], position: int, now: datetime | None = None
) -> None:
    """Record a tap: the answers so far and the question now on screen; the lifetime restarts."""
    now = utcnow() if now is None else as_utc(now)
    hand_over.answers = dict(answers)  # a new dict: the JSON column does not track changes in place
    hand_over.position = position
    hand_over.updated_at = now
    hand_over.expires_at = now + PROGRESS_LIFETIME
    db.session.flush()


def remove_hand_over(token: object) -> None:
    """Forget the hand-over this token opens, if there is one."""
    if isinstance(token, str) and len(token) in TOKEN_LENGTHS:
        # A bulk delete: two taps racing to end the same hand-over both succeed.
        db.session.execute(sa.delete(HandOver).where(HandOver.id == _digest(token)))


def remove_expired_hand_overs(now: datetime | None = None) -> int:
    """Delete every hand-over past its lifetime; how many went."""
    now = utcnow() if now is None else as_utc(now)
    return db.session.execute(sa.delete(HandOver).where(HandOver.expires_at < now)).rowcount


def remove_hand_overs_of(participant_ids: list[int]) -> int:
    """Delete these people's hand-overs in progress; how many went."""
    if not participant_ids:
        return 0
    return db.session.execute(
        sa.delete(HandOver).where(HandOver.participant_id.in_(participant_ids))
    ).rowcount
