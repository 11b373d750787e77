"""Two-factor sign-in with TOTP (RFC 6238), its QR code and its recovery codes.

A code is accepted in its 30-second step and the steps either side (clocks drift); the last
step accepted is stored, so a code seen once, or any older one, is refused however quickly it
is replayed. Recovery codes are shown once, stored as SHA-256 hashes, and each works once.
Operations flush; the caller commits.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Collection
from datetime import datetime
from enum import StrEnum

import pyotp
import segno
import sqlalchemy as sa

from ..extensions import db
from ..timeutil import utcnow
from .models import RecoveryCode, User

ISSUER = "readerapp"
RECOVERY_CODES = 10
# Steps either side of now whose codes are still accepted.
VALID_WINDOW = 1


class CodeCheck(StrEnum):
    ACCEPTED = "accepted"
    WRONG = "wrong_code"
    REPLAYED = "replayed_code"


def required_for(user: User, roles: Collection[str]) -> bool:
    return user.role in roles


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_code_data_uri(uri: str) -> str:
    """The QR code as an SVG data URI, made here: the secret goes to no other service."""
    return segno.make(uri, micro=False).svg_data_uri(scale=5, border=2)


def _normalised(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def _matching_step(secret: str, code: str, at: datetime) -> int | None:
    totp = pyotp.TOTP(secret)
    now = totp.timecode(at)
    for step in range(now - VALID_WINDOW, now + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def check_code(
    user: User, code: str, *, secret: str | None = None, at: datetime | None = None
) -> CodeCheck:
    """Check a six-digit code against ``secret`` (by default the user's); an accepted code's
    step is recorded, so neither it nor an earlier one is accepted again."""
    code = _normalised(code)
    secret = secret or user.totp_secret
    if not secret or not code.isdigit() or len(code) != 6:
        return CodeCheck.WRONG
    step = _matching_step(secret, code, at or utcnow())
    if step is None:
        return CodeCheck.WRONG
    if user.totp_last_step is not None and step <= user.totp_last_step:
        return CodeCheck.REPLAYED
    user.totp_last_step = step
    db.session.flush()
    return CodeCheck.ACCEPTED


def _hash(code: str) -> str:
    return hashlib.sha256(_normalised(code).encode()).hexdigest()


def _new_recovery_codes(user: User) -> list[str]:
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(RECOVERY_CODES)]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_hash(c)) for c in codes)
    return codes


def enable(user: User, secret: str, code: str) -> list[str] | None:
    """Turn two-factor sign-in on once ``code`` proves the authenticator holds ``secret``;
    returns the recovery codes to show once, or None when the code is not right."""
    if check_code(user, code, secret=secret) is not CodeCheck.ACCEPTED:
        return None
    user.totp_secret = secret
    user.totp_enabled_at = utcnow()
    codes = _new_recovery_codes(user)
    db.session.flush()
    return codes


def use_recovery_code(user: User, code: str) -> bool:
    """Spend one recovery code; false when it is not one of the user's unused codes."""
    spent = db.session.execute(
        sa.update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _hash(code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return spent.rowcount == 1


def recovery_codes_left(user: User) -> int:
    return (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(RecoveryCode)
            .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
        )
        or 0
    )


def reset(user: User) -> None:
    """Clear the user's second factor and recovery codes (an admin's decision, audited)."""
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.flush()
